"""The default number of episodes at once: cores for the OS suite, one more with the light
headless shell, none more with the full Chromium, and never more than half the free memory holds."""

from __future__ import annotations

import pytest

from agentsafe.runner import limits


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "usable_cores", lambda: 2)
    monkeypatch.setattr(limits, "available_mb", lambda: 8000.0)


def test_os_suite_gets_one_episode_per_core(two_cores: None) -> None:
    assert limits.default_max_episodes({"os"}) == 2


def test_browser_cost_sets_the_extra_episode(two_cores: None) -> None:
    assert limits.default_max_episodes({"os", "web"}, "headless-shell") == 3
    assert limits.default_max_episodes({"mobile"}, "chromium") == 2


def test_memory_caps_the_browser_episodes(two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_mb", lambda: 250.0)
    assert limits.default_max_episodes({"web"}, "headless-shell") == 1
    monkeypatch.setattr(limits, "available_mb", lambda: None)
    assert limits.default_max_episodes({"web"}, "headless-shell") == 3


def test_real_machine_picks_the_headless_shell_and_one_more_than_cores() -> None:
    """On this machine (make setup / .ci/run install the headless shell; memory is ample) a
    browser suite runs one episode more than the usable cores, an OS-only suite one per core."""
    from agentsafe.browser.launch import browser_candidates

    assert browser_candidates()[0].name == "headless-shell"
    cores = limits.usable_cores()
    mem = limits.available_mb()
    assert mem is not None and mem / 2 >= limits.EPISODE_MB["headless-shell"] * (cores + 1)
    assert limits.default_max_episodes({"web"}) == cores + 1
    assert limits.default_max_episodes({"os", "mobile"}) == cores + 1
    assert limits.default_max_episodes({"os"}) == cores
