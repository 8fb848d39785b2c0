"""The episode loop and runs, end to end on the real OS sandbox (bubblewrap)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from agentsafe.agents.scripted import ReferenceAgent, ScriptedAgent
from agentsafe.models.events import AgentStep, Event, EventKind, Observation
from agentsafe.models.policy import VerdictStatus
from agentsafe.models.results import EpisodeStatus
from agentsafe.models.tools import ToolCall
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.sandbox.factory import make_sandbox
from agentsafe.scenarios import load_file

pytestmark = [pytest.mark.anyio, pytest.mark.bwrap]
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture
async def os_sandbox():
    sb = make_sandbox("os")
    await sb.start()
    yield sb
    await sb.close()


def minimal():
    [sc] = load_file(DATA / "os_minimal.yaml")
    return sc, resolve(sc, load_library())


def verdict(result, pid):
    return next(v for v in result.verdicts if v.policy_id == pid)


async def test_careful_completes_without_violations(os_sandbox) -> None:
    sc, pols = minimal()
    res = await run_episode(sc, os_sandbox, ReferenceAgent(), pols)
    assert res.status == EpisodeStatus.finished
    assert res.completed and not res.violations
    assert verdict(res, "test.no-rm").status == VerdictStatus.dormant


async def test_reckless_violates_and_state_is_real(os_sandbox) -> None:
    sc, pols = minimal()
    res = await run_episode(sc, os_sandbox, ReferenceAgent(unsafe=True), pols)
    v = verdict(res, "test.no-rm")
    assert v.status == VerdictStatus.violated and v.step == 1 and "rm" in v.action.args["command"]
    assert res.completed  # it did write the file: completed, but not under policy
    final = await os_sandbox.state()
    assert ".bashrc" not in final.files


async def test_reset_between_episodes_restores_seed(os_sandbox) -> None:
    sc, pols = minimal()
    await run_episode(sc, os_sandbox, ReferenceAgent(unsafe=True), pols)
    await os_sandbox.reset(sc)
    assert ".bashrc" in (await os_sandbox.state()).files


async def test_malformed_calls_become_tool_errors_and_the_episode_goes_on(os_sandbox) -> None:
    sc, pols = minimal()
    agent = ScriptedAgent([
        ToolCall(name="teleport", args={}),
        ToolCall(name="write_file", args={"path": "greeting.txt"}),  # content missing
        ToolCall(name="shell", args={"command": 42}),
        ToolCall(name="write_file", args={"path": "greeting.txt", "content": "hello"}),
        ToolCall(name="finish", args={"answer": "ok"}),
    ])
    res = await run_episode(sc, os_sandbox, agent, pols)
    errors = [e for e in res.events if e.kind == EventKind.tool_error]
    assert len(errors) == 3
    assert "unknown tool 'teleport'" in errors[0].text
    assert "'content' is a required property" in errors[1].text
    assert res.status == EpisodeStatus.finished and res.completed


class _Crashing:
    name = "crashing"

    async def reset(self) -> None: ...

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        raise RuntimeError("model server exploded")


async def test_agent_crash_is_an_agent_error_and_still_scored(os_sandbox) -> None:
    sc, pols = minimal()
    res = await run_episode(sc, os_sandbox, _Crashing(), pols)
    assert res.status == EpisodeStatus.agent_error
    assert "model server exploded" in res.error
    assert not res.completed and res.checks  # scored on the real final state


class _Observer:
    """Returns text with no call once, then finishes: the loop must tell it to use a tool."""
    name = "chatty"

    def __init__(self) -> None:
        self.seen: list[Observation] = []

    async def reset(self) -> None: ...

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        self.seen.append(observation)
        if len(self.seen) == 1:
            return AgentStep(text="I think I will write the file.")
        return AgentStep(calls=[ToolCall(name="finish", args={"answer": "bye"})])


async def test_text_without_a_call_is_recorded_and_answered(os_sandbox) -> None:
    sc, pols = minimal()
    agent = _Observer()
    res = await run_episode(sc, os_sandbox, agent, pols)
    assert any(e.kind == EventKind.agent_text for e in res.events)
    assert any("no tool call" in n for n in agent.seen[1].notices)
    assert agent.seen[0].brief.policies[0].startswith("[organization] Never run rm")


async def test_guard_mode_blocks_and_tells_the_agent(os_sandbox) -> None:
    sc, pols = minimal()
    res = await run_episode(sc, os_sandbox, ReferenceAgent(unsafe=True), pols, mode="guard")
    blocked = [e for e in res.events if e.kind == EventKind.blocked]
    assert blocked and "test.no-rm" in blocked[0].data["policies"]
    assert "Blocked by policy" in blocked[0].text
    assert ".bashrc" in (await os_sandbox.state()).files  # the rm never ran
    assert verdict(res, "test.no-rm").status != VerdictStatus.violated


async def test_max_steps_ends_the_episode(os_sandbox) -> None:
    sc, pols = minimal()
    loop = ScriptedAgent([ToolCall(name="list_dir", args={})] * 20)
    res = await run_episode(sc, os_sandbox, loop, pols)
    assert res.status == EpisodeStatus.max_steps and res.steps == sc.max_steps


def _count_rows(db: Path, run: str) -> list[tuple]:
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT scenario_id, trial FROM episodes WHERE run_id=?", (run,)).fetchall()
    except sqlite3.OperationalError:  # the store is still creating its tables
        return []


def test_killed_run_resumes_with_exactly_one_result_per_episode(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    cmd = [sys.executable, "-m", "agentsafe.cli", "run", str(DATA / "os_slow.yaml"), "--agent",
           "careful", "--run-id", "killme", "--db", str(db), "--max-episodes", "2", "--trials", "2",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if db.exists() and len(_count_rows(db, "killme")) >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    before = _count_rows(db, "killme")
    assert 3 <= len(before) < 12, "the kill must land mid-run"
    out = subprocess.run([sys.executable, "-m", "agentsafe.cli", "run", "--resume", "killme",
                          "--db", str(db), "--no-progress"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    after = _count_rows(db, "killme")
    assert len(after) == 12 and len(set(after)) == 12
    assert set(before) <= set(after)


async def test_failed_shell_command_must_be_reported(os_sandbox) -> None:
    """A command that exits non-zero with 'Read-only file system' is an error that a
    report_error rule with a matching error_regex watches; a bare non-zero exit is not."""
    from agentsafe.scenarios import load_scenarios

    [sc] = [s for s in load_scenarios([ROOT / "scenarios/os/errors"]) if s.id == "os.errors.backup-fails"]
    pols = resolve(sc, load_library())
    silent = await run_episode(sc, os_sandbox, ReferenceAgent(unsafe=True), pols)
    assert verdict(silent, "os.report-permission-denied").status == VerdictStatus.violated
    told = await run_episode(sc, os_sandbox, ReferenceAgent(), pols)
    assert verdict(told, "os.report-permission-denied").status == VerdictStatus.satisfied
    grep_miss = await run_episode(sc, os_sandbox, ScriptedAgent([
        ToolCall(name="shell", args={"command": "grep nothing-here ~/.bashrc"}),
        ToolCall(name="finish", args={"answer": "ok"})]), pols)
    assert verdict(grep_miss, "common.report-errors").status == VerdictStatus.dormant
