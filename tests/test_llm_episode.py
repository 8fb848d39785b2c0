"""LLM and user agents end to end on the real OS sandbox: `agentsafe run --agent openai:MODEL
--base-url` against a local chat-completions server, the Anthropic agent and a `python:` agent
through the episode loop; the stored results carry usage and never the API key."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llm_wire import anthropic_reply, error_reply, openai_reply, serve_wire

from agentsafe.agents.loader import AgentSpecError, make_agent
from agentsafe.models.results import EpisodeStatus
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.sandbox.factory import make_sandbox
from agentsafe.scenarios import load_file
from agentsafe.store import Store

pytestmark = [pytest.mark.anyio, pytest.mark.bwrap]
DATA = Path(__file__).parent / "data"
AGENTSAFE = str(Path(sys.executable).parent / "agentsafe")
OPENAI_KEY = "sk-test-EPISODE-KEY-9f8e7d6c5b4a"
ANTHROPIC_KEY = "sk-ant-EPISODE-KEY-1a2b3c4d5e6f"


@pytest.fixture
async def os_sandbox():
    sb = make_sandbox("os")
    await sb.start()
    yield sb
    await sb.close()


def minimal():
    [sc] = load_file(DATA / "os_minimal.yaml")
    return sc, resolve(sc, load_library())


def assert_no_key(key: str, *texts: str | bytes) -> None:
    for t in texts:
        blob = t if isinstance(t, bytes) else t.encode()
        assert key.encode() not in blob


def test_agentsafe_run_with_an_openai_compatible_endpoint(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    script = [
        error_reply(429, "rate_limit_error"),
        openai_reply([("write_file", '{"path": "greeting.txt", "content": "hello"')]),  # bad JSON
        openai_reply([("write_file", '{"path": "greeting.txt", "content": "hello\\n"}')]),
        openai_reply([("finish", '{"answer": "Created greeting.txt."}')]),
    ]
    with serve_wire(script) as srv:
        env = {**os.environ, "OPENAI_API_KEY": OPENAI_KEY, "AGENTSAFE_DB": str(db)}
        proc = subprocess.run(
            [AGENTSAFE, "run", str(DATA / "os_minimal.yaml"), "--agent", "openai:gpt-4o-mini",
             "--base-url", srv.url + "/v1", "--run-id", "llm-e2e", "--no-progress",
             "--format", "json"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )
    assert proc.returncode == 0, proc.stderr
    [res] = Store(db).episodes("llm-e2e", with_events=True)
    assert res.status == EpisodeStatus.finished and res.completed and not res.violations
    assert res.usage.requests == 3 and res.usage.input_tokens == 300
    assert res.usage.cost_usd == pytest.approx(3 * (100 * 0.15 + 20 * 0.6) / 1e6)
    errors = [e.text or "" for e in res.events if e.kind == "tool_error"]
    assert any("not valid JSON" in e for e in errors)
    assert srv.headers[0]["authorization"] == f"Bearer {OPENAI_KEY}"
    assert_no_key(OPENAI_KEY, db.read_bytes(), proc.stdout, proc.stderr)
    for side in tmp_path.glob("runs.sqlite*"):
        assert_no_key(OPENAI_KEY, side.read_bytes())


async def test_anthropic_agent_plays_an_episode_and_the_key_stays_out(
    os_sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    sc, pols = minimal()
    script = [
        error_reply(500, "api_error"),
        anthropic_reply([("shell", {"command": "rm -f ~/.bashrc; echo hello > ~/greeting.txt"})]),
        anthropic_reply(text="All done, I think."),  # no tool call: repaired
        anthropic_reply([("finish", {"answer": "Done."})]),
    ]
    with serve_wire(script) as srv:
        agent = make_agent("anthropic:claude-test", base_url=srv.url)
        try:
            res = await run_episode(sc, os_sandbox, agent, pols, run_id="anthropic-e2e")
        finally:
            await agent.aclose()  # type: ignore[attr-defined]
    assert res.status == EpisodeStatus.finished and res.completed
    assert [v.policy_id for v in res.violations] == ["test.no-rm"]
    assert res.usage.requests == 3
    store = Store(tmp_path / "r.sqlite")
    from agentsafe.store import RunPlan

    store.create_run(RunPlan(run_id="anthropic-e2e", agent=agent.name, scenario_paths=[],
                             scenario_ids=[sc.id]))
    store.save_episode(res)
    store.close()
    assert_no_key(ANTHROPIC_KEY, (tmp_path / "r.sqlite").read_bytes(), res.model_dump_json(),
                  caplog.text)


USER_AGENT = '''
from agentsafe.models.events import AgentStep
from agentsafe.models.tools import ToolCall


class GreetingAgent:
    """A complete user agent: writes the file, then finishes."""

    def __init__(self, greeting: str = "hello") -> None:
        self.name = "greeting-agent"
        self.greeting = greeting
        self.turn = 0

    async def reset(self) -> None:
        self.turn = 0

    async def act(self, observation, history):
        self.turn += 1
        if self.turn == 1:
            return AgentStep(calls=[ToolCall(name="write_file",
                                             args={"path": "greeting.txt", "content": self.greeting})])
        return AgentStep(calls=[ToolCall(name="finish", args={"answer": "Wrote it."})])
'''


async def test_a_python_agent_is_loaded_and_plays(os_sandbox, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_agents.py").write_text(USER_AGENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    sc, pols = minimal()
    res = await run_episode(sc, os_sandbox, make_agent("python:my_agents:GreetingAgent"), pols)
    assert res.agent == "greeting-agent" and res.completed
    bye = await run_episode(sc, os_sandbox,
                            make_agent("python:my_agents:GreetingAgent", greeting="bye"), pols)
    assert bye.status == EpisodeStatus.finished and not bye.completed  # no "hello" in the file
    with pytest.raises(AgentSpecError, match="bad options for GreetingAgent"):
        make_agent("python:my_agents:GreetingAgent", colour="red")


def test_cli_rejects_a_bad_agent_spec(tmp_path: Path) -> None:
    proc = subprocess.run([AGENTSAFE, "run", str(DATA / "os_minimal.yaml"), "--agent", "gpt4",
                           "--db", str(tmp_path / "x.sqlite"), "--no-progress"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "unknown agent" in proc.stderr
