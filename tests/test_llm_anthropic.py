"""The Anthropic agent, driven through the real `anthropic` SDK against a local server that
speaks the Messages wire protocol with scripted replies."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator

import pytest
from llm_wire import anthropic_reply, error_reply, serve_wire

from agentsafe.agents.anthropic_agent import AnthropicAgent
from agentsafe.agents.schemas import tools_for_kind
from agentsafe.errors import AgentError
from agentsafe.models.events import EpisodeBrief, Observation
from agentsafe.models.tools import ToolResult

pytestmark = pytest.mark.anyio

FAKE_KEY = "sk-ant-test-FAKEKEY-abcdef0123456789"
_open: list[AnthropicAgent] = []


@pytest.fixture(autouse=True)
async def setup(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    yield
    while _open:
        await _open.pop().aclose()


def agent(url: str, **kw: object) -> AnthropicAgent:
    kw.setdefault("prices", {"claude-test": (3.0, 15.0)})
    a = AnthropicAgent("claude-test-1", base_url=url, **kw)  # type: ignore[arg-type]
    _open.append(a)
    return a


def obs(step: int = 0, text: str = "$ ls\nnotes.txt", **kw: object) -> Observation:
    b = EpisodeBrief(scenario_id="os/demo", instruction="Archive old logs.",
                     policies=["[task] Be brief.", "[organization] Ask before deleting."],
                     tools=tools_for_kind("os"), max_steps=10)
    return Observation(step=step, brief=b, text=text, **kw)  # type: ignore[arg-type]


async def test_tool_use_becomes_a_step_with_usage_and_cost() -> None:
    with serve_wire([anthropic_reply([("shell", {"command": "ls logs"})], text="Looking.",
                                     usage=(2000, 100))]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert [(c.name, c.args) for c in step.calls] == [("shell", {"command": "ls logs"})]
    assert step.text == "Looking." and step.errors == []
    assert step.usage and step.usage.cost_usd == pytest.approx((2000 * 3 + 100 * 15) / 1e6)
    req = srv.requests[0]
    assert req["model"] == "claude-test-1" and req["max_tokens"] == 4096
    assert "Archive old logs." in req["system"]
    assert req["system"].index("[organization]") < req["system"].index("[task]")
    assert {t["name"] for t in req["tools"]} >= {"shell", "ask_user", "refuse"}
    assert "input_schema" in req["tools"][0]
    sent = srv.headers[0]
    assert sent.get("x-api-key") == FAKE_KEY or sent.get("authorization") == f"Bearer {FAKE_KEY}"


async def test_results_go_back_as_tool_result_blocks_before_the_observation() -> None:
    with serve_wire([anthropic_reply([("read_file", {"path": "a"}), ("read_file", {"path": "b"})]),
                     anthropic_reply([("finish", {"answer": "ok"})])]) as srv:
        a = agent(srv.url)
        s1 = await a.act(obs(), [])
        ids = [c.id for c in s1.calls]
        await a.act(obs(1, text="next view", last_results=[
            ToolResult(call_id=ids[0], output="A"), ToolResult(call_id=ids[1], ok=False, error="gone")]), [])
    msgs = srv.requests[1]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    blocks = msgs[2]["content"]
    assert blocks[0] == {"type": "tool_result", "tool_use_id": ids[0], "content": "A", "is_error": False}
    assert blocks[1]["tool_use_id"] == ids[1] and blocks[1]["is_error"] and "gone" in blocks[1]["content"]
    assert blocks[2]["type"] == "text" and "next view" in blocks[2]["text"]


async def test_unknown_tool_and_no_tool_call_are_sent_back_and_recorded() -> None:
    with serve_wire([anthropic_reply([("format_disk", {})]),
                     anthropic_reply(text="Shall I proceed?"),
                     anthropic_reply([("ask_user", {"question": "May I delete logs?"})])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert step.calls[0].name == "ask_user"
    assert "unknown tool 'format_disk'" in step.errors[0] and "no tool call" in step.errors[1]
    second = srv.requests[1]["messages"]
    assert second[-1]["role"] == "user"
    assert second[-1]["content"][0]["type"] == "tool_result" and second[-1]["content"][0]["is_error"]
    roles = [m["role"] for m in srv.requests[2]["messages"]]
    assert all(x != y for x, y in itertools.pairwise(roles)), "roles must alternate"


async def test_429_and_500_are_retried() -> None:
    with serve_wire([error_reply(429, "rate_limit_error"), error_reply(500, "api_error"),
                     anthropic_reply([("list_dir", {})])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert len(srv.requests) == 3 and step.calls[0].name == "list_dir"


async def test_persistent_errors_raise_agent_error_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve_wire([error_reply(529, "overloaded_error")] * 5) as srv:
        a = agent(srv.url, max_retries=1)
        with pytest.raises(AgentError) as exc:
            await a.act(obs(), [])
    assert len(srv.requests) == 2
    assert FAKE_KEY not in str(exc.value) and FAKE_KEY not in repr(a) and FAKE_KEY not in caplog.text


async def test_screenshot_is_an_image_block_only_with_vision() -> None:
    with serve_wire([anthropic_reply([("list_dir", {})])] * 2) as srv:
        await agent(srv.url, vision=True).act(obs(screenshot="iVBORw0KGgo="), [])
        await agent(srv.url).act(obs(screenshot="iVBORw0KGgo="), [])
    img = [b for b in srv.requests[0]["messages"][0]["content"] if b["type"] == "image"]
    assert img and img[0]["source"] == {"type": "base64", "media_type": "image/png",
                                        "data": "iVBORw0KGgo="}
    assert '"image"' not in json.dumps(srv.requests[1]["messages"])


async def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(AgentError, match="ANTHROPIC_API_KEY"):
        AnthropicAgent("claude-test-1")


async def test_context_budget_trims_old_observations() -> None:
    big = "y" * 8000
    with serve_wire([anthropic_reply([("list_dir", {})])] * 5) as srv:
        a = agent(srv.url, context_budget=5000, keep_observations=2)
        prev = None
        for i in range(5):
            results = [ToolResult(call_id=prev, output=f"out{i}")] if prev else []
            step = await a.act(obs(i, text=f"OBS{i} {big}", last_results=results), [])
            prev = step.calls[0].id
    final = json.dumps(srv.requests[-1]["messages"])
    assert "OBS4" in final and "OBS3" in final and "OBS0" not in final
    assert "trimmed to fit the context budget" in final
    roles = [m["role"] for m in srv.requests[-1]["messages"]]
    assert all(x != y for x, y in itertools.pairwise(roles))


async def test_a_base_url_given_with_v1_posts_to_v1_messages() -> None:
    """OpenAI-compatible URLs end in /v1; the Anthropic SDK appends /v1/messages itself."""
    with serve_wire([anthropic_reply([("finish", {"answer": "ok"})])]) as srv:
        step = await agent(srv.url.rstrip("/") + "/v1").act(obs(), [])
    assert [c.name for c in step.calls] == ["finish"] and len(srv.requests) == 1
