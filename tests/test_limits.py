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


def test_real_machine_answer_is_sane() -> None:
    assert 1 <= limits.default_max_episodes({"web"}) <= limits.usable_cores() + 1
