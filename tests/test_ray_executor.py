"""The Ray executor on a real two-node Ray cluster started on this machine: same verdicts as the
local executor, placement by agentsafe_* resources, a node killed mid-run, a driver killed and
resumed, API keys kept out of the store, the logs and the dashboard, `python:` agents shipped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import anyio
import pytest
from llm_wire import openai_reply, serve_wire

from agentsafe.agents.loader import make_agent
from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.errors import AgentsafeError
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.runner.executors import Job, Played, RunContext
from agentsafe.runner.executors.local import LocalExecutor
from agentsafe.runner.executors.local_cluster import LocalCluster
from agentsafe.runner.executors.ray import RayExecutor
from agentsafe.runner.run import execute_run, resolve_all
from agentsafe.scenarios import load_file, load_scenarios
from agentsafe.store import RunPlan, Store

pytestmark = [pytest.mark.bwrap, pytest.mark.ray]
ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
FAKE_KEY = "sk-test-RAY-WORKER-KEY-77c1d2e3f4a5"
HEAD = {"agentsafe_os": 2}
WEB = {"agentsafe_os": 1, "agentsafe_web": 1, "agentsafe_mobile": 1}


@pytest.fixture(scope="module")
def cluster():
    """A head (OS slots only, with the dashboard) and a node "web" (one OS, web and mobile slot)."""
    c = LocalCluster.start(HEAD, dashboard=True, timeout=240)
    try:
        c.add_node("web", WEB, timeout=240)
        yield c
    finally:
        c.stop()
        left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in c.stray_pids()
                if Path(f"/proc/{pid}/cmdline").exists()}
        assert left == {}, "processes of the test cluster outlived it"


def play(plan: RunPlan, scenarios, executor, tmp: Path) -> tuple[list[EpisodeResult], object]:
    """Run `plan` with `executor`; the agent is built from the plan's spec on either side."""
    store = Store(tmp / f"{plan.run_id}.sqlite")
    store.create_run(plan)
    stats = anyio.run(lambda: execute_run(
        plan, store, scenarios, lambda: make_agent(plan.agent, **plan.agent_options),
        progress=False, executor=executor))
    out = store.episodes(plan.run_id)
    store.close()
    return out, stats


def outcome(results: list[EpisodeResult]) -> dict:
    return {(r.scenario_id, r.trial): (r.status, r.completed, r.attack_success,
                                        sorted((v.policy_id, str(v.status)) for v in r.verdicts))
            for r in results}


def plan_for(run_id: str, scenarios, agent: str, max_episodes: int = 3, trials: int = 1) -> RunPlan:
    return RunPlan(run_id=run_id, agent=agent, scenario_paths=[], trials=trials,
                   scenario_ids=[s.id for s in scenarios], max_episodes=max_episodes)


def test_os_suite_same_verdicts_as_local(cluster, tmp_path: Path) -> None:
    scenarios = load_scenarios([ROOT / "scenarios" / "os"])
    local, _ = play(plan_for("local-os", scenarios, "reckless", 2), scenarios, LocalExecutor(), tmp_path)
    remote, stats = play(plan_for("ray-os", scenarios, "reckless"), scenarios,
                         RayExecutor(cluster.address), tmp_path)
    assert len(remote) == len(scenarios) and stats.infra_errors == 0
    assert outcome(remote) == outcome(local)
    assert any(r.violations for r in remote) and any(r.completed for r in remote)
    assert set(stats.per_node) == {"head", "web"}  # OS slots on both nodes


def test_web_and_mobile_sample_same_verdicts_and_only_on_the_browser_node(cluster, tmp_path: Path) -> None:
    sample = []
    for kind in ("web", "mobile"):
        found = sorted(load_scenarios([ROOT / "scenarios" / kind]), key=lambda s: s.id)
        sample += [s for s in found if s.injections][:1]
    for agent in ("careful", "reckless"):
        local, _ = play(plan_for(f"local-wm-{agent}", sample, agent, 1), sample, LocalExecutor(), tmp_path)
        remote, stats = play(plan_for(f"ray-wm-{agent}", sample, agent), sample,
                             RayExecutor(cluster.address), tmp_path)
        assert stats.infra_errors == 0 and outcome(remote) == outcome(local)
        assert dict(stats.per_node) == {"web": len(sample)}  # the head has no browser slot


def test_a_kind_no_node_can_run_is_a_clear_error(cluster, tmp_path: Path) -> None:
    [sc] = load_file(DATA / "os_minimal.yaml")
    plan = plan_for("docker-nowhere", [sc], "careful").model_copy(update={"runtime": "docker"})
    with pytest.raises(AgentsafeError, match=r"no node of the Ray cluster can run 1 os episode.*agentsafe_docker"):
        play(plan, [sc], RayExecutor(cluster.address), tmp_path)


def _rows(db: Path, run: str) -> list[tuple]:
    import sqlite3

    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT scenario_id, trial FROM episodes WHERE run_id=?", (run,)).fetchall()
    except sqlite3.OperationalError:
        return []


def test_driver_killed_then_resumed_loses_and_duplicates_nothing(cluster, tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    base = [sys.executable, "-m", "agentsafe.cli", "run", "--db", str(db), "--no-progress",
            "--executor", "ray", "--ray-address", cluster.address, "--format", "none"]
    proc = subprocess.Popen([*base, str(DATA / "os_slow.yaml"), "--run-id", "killme", "--trials", "2",
                             "--max-episodes", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and len(_rows(db, "killme")) < 3 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    before = _rows(db, "killme")
    assert 3 <= len(before) < 12, "the kill must land mid-run"
    out = subprocess.run([*base, "--resume", "killme"], cwd=ROOT, capture_output=True, text=True, check=False,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    after = _rows(db, "killme")
    assert len(after) == 12 and len(set(after)) == 12 and set(before) <= set(after)
    assert "episodes per node" not in out.stdout or "head" in out.stdout or "web" in out.stdout


def _dashboard_dump(url: str) -> str:
    parts = []
    for path in ("/api/jobs/", "/api/v0/actors?detail=1&limit=1000", "/api/v0/tasks?detail=1&limit=1000",
                 "/api/v0/workers?detail=1&limit=1000", "/nodes?view=summary", "/api/v0/jobs"):
        try:
            with urllib.request.urlopen(url + path, timeout=30) as r:
                parts.append(r.read().decode(errors="replace"))
        except OSError as e:
            parts.append(f"{path}: {e}")
    return "\n".join(parts)


def test_api_key_reaches_workers_and_nowhere_else(cluster, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    [sc] = load_file(DATA / "os_minimal.yaml")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    script = [openai_reply([("write_file", '{"path": "greeting.txt", "content": "hello\\n"}')]),
              openai_reply([("finish", '{"answer": "Done."}')])]
    with serve_wire(script) as srv:
        plan = RunPlan(run_id="ray-key", agent="openai:gpt-4o-mini", scenario_paths=[],
                       scenario_ids=[sc.id], agent_options={"base_url": srv.url + "/v1"})
        [res], _ = play(plan, [sc], RayExecutor(cluster.address), tmp_path)
    assert res.status == EpisodeStatus.finished and res.completed and res.usage.requests == 2
    assert srv.headers[0]["authorization"] == f"Bearer {FAKE_KEY}"  # it did reach the worker
    key = FAKE_KEY.encode()
    for f in tmp_path.glob("ray-key.sqlite*"):
        assert key not in f.read_bytes()
    leaked = [str(p) for p in cluster.temp_dir.rglob("*") if p.is_file() and not p.is_symlink()
              and p.stat().st_size < 50_000_000 and key in p.read_bytes()]
    assert leaked == [], "the API key is in Ray's files"
    dump = _dashboard_dump(cluster.dashboard_url)
    assert "ray-key" in dump or "EpisodeActor" in dump  # the dashboard did answer about this run
    assert FAKE_KEY not in dump


AGENT_PKG = '''
from agentsafe.models.events import AgentStep
from agentsafe.models.tools import ToolCall


class GreetingAgent:
    """Writes the greeting the test expects, then finishes."""

    name = "shipped-agent"

    def __init__(self) -> None:
        self.turn = 0

    async def reset(self) -> None:
        self.turn = 0

    async def act(self, observation, history):
        self.turn += 1
        if self.turn == 1:
            return AgentStep(calls=[ToolCall(name="write_file",
                                             args={"path": "greeting.txt", "content": "hello\\n"})])
        return AgentStep(calls=[ToolCall(name="finish", args={"answer": "Wrote it."})])
'''


def test_a_python_agent_is_shipped_to_the_workers(cluster, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "ray_user_agents"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "greeting.py").write_text(AGENT_PKG)
    monkeypatch.syspath_prepend(str(tmp_path))  # importable here only: Ray must ship it
    [sc] = load_file(DATA / "os_minimal.yaml")
    plan = plan_for("ray-python-agent", [sc], "python:ray_user_agents.greeting:GreetingAgent", 1)
    [res], _ = play(plan, [sc], RayExecutor(cluster.address), tmp_path)
    assert res.agent == "shipped-agent" and res.status == EpisodeStatus.finished and res.completed
    assert json.loads(res.model_dump_json())["agent"] == "shipped-agent"


class _KillOnStart:
    """A sink that kills node `doomed` as soon as an episode starts there, and records everything."""

    def __init__(self, cluster: LocalCluster, doomed: str) -> None:
        self.cluster, self.doomed = cluster, doomed
        self.starts: list[tuple[Job, str]] = []
        self.done: list[Played] = []
        self.killed_at: float | None = None

    def started(self, job: Job, node: str) -> None:
        self.starts.append((job, node))
        if node == self.doomed and self.killed_at is None:
            self.killed_at = time.monotonic()
            threading.Timer(0.2, self.cluster.node(self.doomed).kill).start()

    def stopped(self, job: Job) -> None:
        pass

    async def finished(self, played: Played) -> None:
        self.done.append(played)


def test_a_node_killed_mid_run_has_its_episodes_replayed_elsewhere(cluster, tmp_path: Path) -> None:
    """Last in this module: it kills the "web" node for good."""
    scenarios = load_file(DATA / "os_slow.yaml")
    plan = plan_for("node-death", scenarios, "careful", max_episodes=3, trials=2)  # 3 OS slots
    jobs = [Job(s, t) for t in range(2) for s in scenarios]
    ctx = RunContext(plan=plan, policies=resolve_all(scenarios), make_agent=ReferenceAgent)
    sink = _KillOnStart(cluster, "web")
    anyio.run(lambda: RayExecutor(cluster.address, placement_timeout=60).play(ctx, jobs, sink))
    assert sink.killed_at is not None, "no episode was placed on the doomed node"
    by_key = {(p.job.scenario.id, p.job.trial): p for p in sink.done}
    assert len(sink.done) == len(jobs) == len(by_key)  # each episode reported exactly once
    for p in sink.done:  # replayed, never scored as a failure
        assert p.result.status == EpisodeStatus.finished and p.result.completed, p.result.error
    starts: dict[tuple[str, int], list[str]] = {}
    for j, n in sink.starts:
        starts.setdefault((j.scenario.id, j.trial), []).append(n)
    replayed = {k: ns for k, ns in starts.items() if len(ns) > 1}
    assert replayed, "the episode in flight on the killed node was not replayed"
    for k, ns in replayed.items():
        assert ns[0] == "web" and ns[-1] == "head" and by_key[k].node == "head"
    assert all(p.node == "head" for p in sink.done[-3:])  # after the kill, only the head plays
