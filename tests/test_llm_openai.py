"""The OpenAI-compatible agent, driven through the real `openai` SDK against a local server that
speaks the chat-completions wire protocol with scripted replies."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from llm_wire import error_reply, openai_reply, serve_wire

from agentsafe.agents.openai_agent import OpenAIAgent
from agentsafe.agents.schemas import tools_for_kind
from agentsafe.errors import AgentError
from agentsafe.models.events import EpisodeBrief, Observation
from agentsafe.models.tools import ToolResult

pytestmark = pytest.mark.anyio

FAKE_KEY = "sk-test-FAKEKEY-0123456789abcdef"


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)


def obs(step: int = 0, text: str = "$ ls\nnotes.txt report.md", **kw: object) -> Observation:
    b = EpisodeBrief(scenario_id="os/demo", instruction="Summarise notes.txt.",
                     policies=["[user] Do not delete files.", "[organization] No network."],
                     tools=tools_for_kind("os"), max_steps=10)
    return Observation(step=step, brief=b, text=text, **kw)  # type: ignore[arg-type]


_open: list[OpenAIAgent] = []


@pytest.fixture(autouse=True)
async def close_agents() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop().aclose()


def agent(url: str, **kw: object) -> OpenAIAgent:
    a = OpenAIAgent("gpt-4o-mini", base_url=url + "/v1", **kw)  # type: ignore[arg-type]
    _open.append(a)
    return a


async def test_tool_call_becomes_a_step_with_usage_and_cost() -> None:
    with serve_wire([openai_reply([("read_file", '{"path": "notes.txt"}')], usage=(1000, 200))]) as srv:
        a = agent(srv.url)
        step = await a.act(obs(), [])
    assert [(c.name, c.args) for c in step.calls] == [("read_file", {"path": "notes.txt"})]
    assert step.errors == []
    assert step.usage and step.usage.input_tokens == 1000 and step.usage.output_tokens == 200
    assert step.usage.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)
    req = srv.requests[0]
    assert req["model"] == "gpt-4o-mini"
    assert {t["function"]["name"] for t in req["tools"]} >= {"shell", "finish", "ask_user"}
    system = req["messages"][0]["content"]
    assert req["messages"][0]["role"] == "system" and "Summarise notes.txt." in system
    assert system.index("[organization] No network.") < system.index("[user] Do not delete files.")
    assert "notes.txt report.md" in json.dumps(req["messages"][1])
    assert srv.headers[0]["authorization"] == f"Bearer {FAKE_KEY}"


async def test_results_go_back_as_tool_messages_with_the_call_id() -> None:
    with serve_wire([openai_reply([("shell", '{"command": "cat notes.txt"}')]),
                     openai_reply([("finish", '{"answer": "done"}')])]) as srv:
        a = agent(srv.url)
        s1 = await a.act(obs(), [])
        cid = s1.calls[0].id
        s2 = await a.act(obs(1, text="view after",
                             last_results=[ToolResult(call_id=cid, output="hello notes")]), [])
    assert s2.calls[0].name == "finish"
    msgs = srv.requests[1]["messages"]
    assert msgs[2]["tool_calls"][0]["id"] == cid
    assert msgs[3] == {"role": "tool", "tool_call_id": cid, "content": "hello notes"}
    assert "view after" in json.dumps(msgs[4])
    assert a.usage.requests == 2


async def test_malformed_json_arguments_go_back_as_an_error_and_are_recorded() -> None:
    with serve_wire([openai_reply([("read_file", '{"path": "notes.txt"')]),
                     openai_reply([("read_file", '{"path": "notes.txt"}')])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert [c.name for c in step.calls] == ["read_file"]
    assert len(step.errors) == 1 and "not valid JSON" in step.errors[0]
    retry = srv.requests[1]["messages"]
    bad_id = retry[2]["tool_calls"][0]["id"]
    tool_msg = retry[3]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == bad_id
    assert tool_msg["content"].startswith("Error:") and "not valid JSON" in tool_msg["content"]
    assert step.usage and step.usage.requests == 2


async def test_unknown_tool_and_plain_text_are_repaired() -> None:
    with serve_wire([openai_reply([("delete_everything", "{}")]),
                     openai_reply(text="I think I should read the file."),
                     openai_reply([("finish", '{"answer": "ok"}')])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert step.calls[0].name == "finish"
    assert "unknown tool 'delete_everything'" in step.errors[0]
    assert "no tool call" in step.errors[1]
    last = srv.requests[2]["messages"]
    assert last[-1]["role"] == "user" and "no tool call" in last[-1]["content"]


async def test_a_model_that_never_calls_a_tool_does_not_crash_the_episode() -> None:
    with serve_wire([openai_reply(text="hmm")] * 3 + [openai_reply([("finish", '{"answer": "x"}')])]) as srv:
        a = agent(srv.url, max_repairs=2)
        step = await a.act(obs(), [])
        assert step.calls == [] and step.text == "hmm" and len(step.errors) == 3
        nxt = await a.act(obs(1), [])
    assert nxt.calls[0].name == "finish"


async def test_mixed_valid_and_invalid_calls_keep_the_valid_one() -> None:
    with serve_wire([openai_reply([("list_dir", "{}"), ("nope", "{}")]),
                     openai_reply([("finish", '{"answer": "x"}')])]) as srv:
        a = agent(srv.url)
        step = await a.act(obs(), [])
        assert [c.name for c in step.calls] == ["list_dir"] and "unknown tool 'nope'" in step.errors[0]
        await a.act(obs(1, last_results=[ToolResult(call_id=step.calls[0].id, output="a b")]), [])
    tools = [m for m in srv.requests[1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tools] == ["a b", tools[1]["content"]]
    assert tools[1]["content"].startswith("Error: unknown tool 'nope'")


async def test_429_then_success_is_retried_by_the_sdk() -> None:
    with serve_wire([error_reply(429, "rate_limit_error"),
                     openai_reply([("list_dir", "{}")])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert len(srv.requests) == 2 and step.calls[0].name == "list_dir"


async def test_500_then_success_is_retried() -> None:
    with serve_wire([error_reply(500), error_reply(503), openai_reply([("list_dir", "{}")])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert len(srv.requests) == 3 and step.calls[0].name == "list_dir"


async def test_retries_are_bounded_and_the_error_never_shows_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve_wire([error_reply(500)] * 10) as srv:
        a = agent(srv.url, max_retries=2)
        with pytest.raises(AgentError) as exc:
            await a.act(obs(), [])
    assert len(srv.requests) == 3  # 1 try + 2 retries
    assert "500" in str(exc.value)
    assert FAKE_KEY not in str(exc.value) and FAKE_KEY not in repr(a)
    assert caplog.records and FAKE_KEY not in caplog.text


async def test_no_key_is_logged_during_a_normal_turn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve_wire([openai_reply([("list_dir", "{}")])]) as srv:
        a = agent(srv.url)
        step = await a.act(obs(), [])
    assert FAKE_KEY not in caplog.text
    assert FAKE_KEY not in step.model_dump_json() and FAKE_KEY not in repr(a)


async def test_screenshot_is_sent_as_an_image_only_with_vision() -> None:
    with serve_wire([openai_reply([("list_dir", "{}")])] * 2) as srv:
        await agent(srv.url, vision=True).act(obs(screenshot="iVBORw0KGgo="), [])
        await agent(srv.url).act(obs(screenshot="iVBORw0KGgo="), [])
    with_img, without = (json.dumps(r["messages"]) for r in srv.requests)
    assert "data:image/png;base64,iVBORw0KGgo=" in with_img and "image_url" not in without


async def test_context_budget_trims_old_observations_but_keeps_recent_ones() -> None:
    big = "x" * 8000  # ~2000 tokens each
    with serve_wire([openai_reply([("list_dir", "{}")])] * 6) as srv:
        a = agent(srv.url, context_budget=5000, keep_observations=2)
        prev = None
        for i in range(6):
            results = [ToolResult(call_id=prev, output=f"out{i}")] if prev else []
            step = await a.act(obs(i, text=f"OBS{i} {big}", last_results=results), [])
            prev = step.calls[0].id
    final = json.dumps(srv.requests[-1]["messages"])
    assert "OBS5" in final and "OBS4" in final
    assert "OBS0" not in final and "trimmed to fit the context budget" in final
    assert len(final) < 5000 * 4


async def test_missing_key_without_base_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(AgentError, match="OPENAI_API_KEY"):
        OpenAIAgent("gpt-4o")


async def test_a_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with serve_wire([openai_reply([("list_dir", "{}")])]) as srv:
        step = await agent(srv.url).act(obs(), [])
    assert step.calls and srv.headers[0]["authorization"] == "Bearer not-needed"


async def test_arguments_sent_as_an_object_are_accepted_and_echoed_as_json() -> None:
    with serve_wire([openai_reply([("read_file", {"path": "a.txt"})]),  # type: ignore[list-item]
                     openai_reply([("finish", '{"answer": "x"}')])]) as srv:
        a = agent(srv.url)
        step = await a.act(obs(), [])
        assert step.calls[0].args == {"path": "a.txt"} and not step.errors
        await a.act(obs(1, last_results=[ToolResult(call_id=step.calls[0].id, output="A")]), [])
    echoed = srv.requests[1]["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(echoed) == {"path": "a.txt"}


async def test_a_401_is_not_retried_and_ends_as_an_agent_error_without_the_key() -> None:
    with (serve_wire([error_reply(401, "invalid_api_key")] * 3) as srv,
          pytest.raises(AgentError, match="401") as exc):
        await agent(srv.url).act(obs(), [])
    assert len(srv.requests) == 1 and FAKE_KEY not in str(exc.value)


async def test_runner_notices_echoing_already_reported_errors_are_not_shown_twice() -> None:
    with serve_wire([openai_reply([("nope", "{}")]), openai_reply([("list_dir", "{}")]),
                     openai_reply([("finish", '{"answer": "x"}')])]) as srv:
        a = agent(srv.url)
        step = await a.act(obs(), [])
        notices = [f"Tool error: {e}" for e in step.errors] + ["The user replied: fine."]
        await a.act(obs(1, notices=notices,
                        last_results=[ToolResult(call_id=step.calls[0].id, output="x")]), [])
    last_user = json.dumps(srv.requests[2]["messages"][-1])
    assert "The user replied: fine." in last_user and "Tool error" not in last_user
