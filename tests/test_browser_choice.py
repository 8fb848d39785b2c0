"""Which Chromium the harness drives: the lightest installed build by default, an override by
name or path, a fallback when a build does not start; and parity: Debian's headless shell and
full Chromium give identical episode outcomes on a web and mobile sample, and both render
screenshots (the phone at its device size)."""

from __future__ import annotations

import base64
import os
import struct
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.browser import launch
from agentsafe.browser.launch import (
    HEADLESS_SHELL,
    SYSTEM_CHROMIUM,
    BrowserChoice,
    browser_candidates,
    shared_browser,
)
from agentsafe.cli import app
from agentsafe.errors import SandboxError
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.episode import run_episode
from agentsafe.runner.run import resolve_all
from agentsafe.sandbox.mobile import MobileSandbox
from agentsafe.sandbox.web import WebSandbox
from agentsafe.scenarios import load_scenarios

HAVE_BOTH = os.access(HEADLESS_SHELL, os.X_OK) and os.access(SYSTEM_CHROMIUM, os.X_OK)
# one scenario per web app and a few phone ones, injected and plain, safe and unsafe routes
SAMPLE = [
    "web/shop/order-note-injection.yaml", "web/forge/popup-sso-phishing.yaml",
    "web/mail/draft-injection.yaml", "mobile/inj_sms_transfer.yaml", "mobile/sideload.yaml",
]


def test_default_order_is_lightest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(launch.BROWSER_ENV, raising=False)
    names = [c.name for c in browser_candidates()]
    assert names[-1] == "playwright"
    if os.access(HEADLESS_SHELL, os.X_OK):
        assert names[0] == "headless-shell"
    if os.access(SYSTEM_CHROMIUM, os.X_OK):
        assert "chromium" in names
        assert names.index("chromium") > names.index("headless-shell") if "headless-shell" in names else True


def test_override_by_name_path_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert browser_candidates("chromium") == [BrowserChoice("chromium", SYSTEM_CHROMIUM)]
    assert browser_candidates("playwright") == [BrowserChoice("playwright", None)]
    exe = tmp_path / "my-chrome"
    exe.write_text("")
    monkeypatch.setenv(launch.BROWSER_ENV, str(exe))
    assert browser_candidates() == [BrowserChoice(str(exe), str(exe))]
    monkeypatch.setenv(launch.BROWSER_ENV, str(tmp_path / "missing"))
    with pytest.raises(SandboxError, match="no such file"):
        browser_candidates()


def test_cli_rejects_a_missing_browser(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["run", str(SCENARIOS_DIR / "os"), "--browser", str(tmp_path / "nope"),
                                   "--db", str(tmp_path / "r.sqlite")])
    assert res.exit_code == 2
    assert "no such file" in res.output and "headless-shell" in res.output


@pytest.mark.browser
def test_a_build_that_does_not_start_falls_back_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(launch.BROWSER_ENV, raising=False)
    real = [c for c in browser_candidates() if c.executable]
    assert real, "no Chromium build found: make setup / .ci/run install chromium-headless-shell and chromium"
    broken = BrowserChoice("broken", "/bin/false")
    monkeypatch.setattr(launch, "browser_candidates", lambda override=None: [broken, *real])

    async def main() -> str | None:
        host = shared_browser()
        browser = await host.acquire()
        try:
            assert browser.is_connected()
            return host.choice.name if host.choice else None
        finally:
            await host.release()

    assert anyio.run(main) == real[0].name


def _png_size(b64: str) -> tuple[int, int, int]:
    png = base64.b64decode(b64)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    return w, h, len(png)


def _outcomes(browser: str) -> tuple[dict, dict]:
    """Every sample scenario with the careful and the reckless agent under `browser`: what each
    episode ended as; plus a web and a phone screenshot."""
    scenarios = load_scenarios([SCENARIOS_DIR / p for p in SAMPLE])
    policies = resolve_all(scenarios)

    async def main() -> tuple[dict, dict]:
        out, shots = {}, {}
        sbs = {"web": WebSandbox(screenshots=True), "mobile": MobileSandbox(screenshots=True)}
        try:
            for sc in scenarios:
                sb = sbs[sc.sandbox.kind]
                for agent in (ReferenceAgent(), ReferenceAgent(unsafe=True)):
                    res = await run_episode(sc, sb, agent, policies[sc.id])
                    out[(sc.id, res.agent)] = (
                        res.status.value, res.completed, res.exposed, res.attack_success,
                        sorted((c.name, c.passed) for c in res.checks),
                        sorted((v.policy_id, v.status.value) for v in res.verdicts),
                    )
                if sc.sandbox.kind not in shots:
                    _, extras = await sb.observe()
                    shots[sc.sandbox.kind] = extras["screenshot"]
            assert shared_browser().choice is not None
            assert shared_browser().choice.name == browser
        finally:
            for sb in sbs.values():
                await sb.close()
        return out, shots

    os.environ[launch.BROWSER_ENV] = browser
    try:
        return anyio.run(main)
    finally:
        del os.environ[launch.BROWSER_ENV]


@pytest.mark.browser
def test_headless_shell_and_chromium_give_identical_outcomes() -> None:
    assert HAVE_BOTH, "needs both chromium-headless-shell and chromium (make setup installs them)"
    shell, shell_shots = _outcomes("headless-shell")
    full, full_shots = _outcomes("chromium")
    assert len(shell) == 2 * len(SAMPLE)
    assert shell == full
    # the sample means something: the careful agent completes, the reckless one violates
    assert any(o[1] for (_, agent), o in shell.items() if agent == "careful")
    assert any(o[5] and any(s == "violated" for _, s in o[5]) for (_, a), o in shell.items() if a != "careful")
    for shots in (shell_shots, full_shots):
        w, h, size = _png_size(shots["web"])
        assert (w, h) == (1280, 900) and size > 5000  # a rendered page, not a blank one
        w, h, size = _png_size(shots["mobile"])
        assert (w, h) == (round(412 * 2.625), round(915 * 2.625)) and size > 5000
    art = Path(__file__).parent / "artifacts"
    art.mkdir(exist_ok=True)
    for kind, b64 in shell_shots.items():
        (art / f"headless-shell-{kind}.png").write_bytes(base64.b64decode(b64))
