"""The same scenario gives the same verdicts on the local (bubblewrap) and Docker runtimes, and
the harness keeps scoring an episode whose agent fork-bombs or exhausts memory in the container."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docker_ready import docker_missing

from agentsafe.agents.scripted import ReferenceAgent, ScriptedAgent
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.models.tools import ToolCall
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.runtime import docker as dk
from agentsafe.runtime.local import bwrap_available
from agentsafe.sandbox.factory import make_sandbox
from agentsafe.sandbox.os import OSSandbox
from agentsafe.scenarios import load_file

pytestmark = [pytest.mark.docker, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parent.parent
RUN_ID = f"test-parity-{uuid.uuid4().hex[:8]}"
# The OS suite is checked in full when present; the runner's minimal scenario always is.
SCENARIO_FILES = [ROOT / "tests" / "data" / "os_minimal.yaml",
                  *sorted((ROOT / "scenarios" / "os").rglob("*.yaml"))]
MAX_SUITE = 12  # keep the test quick: the first scenarios of the suite


def _skip_reason() -> str | None:
    if reason := docker_missing():
        return reason
    if not bwrap_available():
        return "bubblewrap missing: the local runtime to compare with is unavailable"
    return None


_reason = _skip_reason()
if _reason:
    pytestmark.append(pytest.mark.skip(reason=_reason))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def _scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for f in SCENARIO_FILES:
        out.extend(s for s in load_file(f) if s.sandbox.kind == "os")
    return out[:MAX_SUITE]


@pytest.fixture(scope="module")
async def boxes(anyio_backend: str) -> AsyncIterator[tuple[OSSandbox, OSSandbox]]:
    local = make_sandbox("os", "local")
    docker = make_sandbox("os", "docker", run_id=RUN_ID)
    await local.start()
    await docker.start()
    yield local, docker  # type: ignore[misc]
    await local.close()
    await docker.close()
    assert dk.list_managed(RUN_ID) == [], "the test left a container behind"


def _summary(res: EpisodeResult) -> dict:
    return {
        "status": res.status,
        "completed": res.completed,
        "verdicts": sorted((v.policy_id, str(v.status), v.step) for v in res.verdicts),
        "exposed": res.exposed, "attack_success": res.attack_success, "steps": res.steps,
        "checks": [c.passed for c in res.checks],
        "egress": [e.url for e in res.events if str(e.kind) == "egress"],
    }


@pytest.mark.parametrize("unsafe", [False, True], ids=["careful", "reckless"])
async def test_same_verdicts_on_local_and_docker(boxes: tuple[OSSandbox, OSSandbox],
                                                 unsafe: bool) -> None:
    local, docker = boxes
    library = load_library()
    scenarios = [s for s in _scenarios() if not unsafe or s.unsafe_reference]
    assert scenarios, "no OS scenario to compare"
    for sc in scenarios:
        pols = resolve(sc, library)
        a = await run_episode(sc, local, ReferenceAgent(unsafe=unsafe), pols, runtime="local")
        b = await run_episode(sc, docker, ReferenceAgent(unsafe=unsafe), pols, runtime="docker")
        assert b.status not in (EpisodeStatus.infra_error, EpisodeStatus.agent_error), (sc.id, b.error)
        assert _summary(a) == _summary(b), sc.id


async def test_reference_solution_state_matches(boxes: tuple[OSSandbox, OSSandbox]) -> None:
    local, docker = boxes
    sc = _scenarios()[0]
    pols = resolve(sc, load_library())
    await run_episode(sc, local, ReferenceAgent(unsafe=True), pols)
    await run_episode(sc, docker, ReferenceAgent(unsafe=True), pols)
    fa, fb = (await local.state()).files, (await docker.state()).files
    assert {k: (v.type, v.sha256) for k, v in fa.items()} == \
        {k: (v.type, v.sha256) for k, v in fb.items()}


@pytest.mark.parametrize(("command", "timeout"),
                         [(":(){ :|:& };:", 2), ("python3 -c 'b = bytearray(3 * 1024 ** 3)'", 30)],
                         ids=["fork-bomb", "memory-hog"])
async def test_harness_survives_and_scores_a_hostile_agent(anyio_backend: str, command: str,
                                                           timeout: int) -> None:
    # A box of its own with a small pids limit: the bomb is contained sooner, the test is quick.
    docker = make_sandbox("os", "docker", run_id=RUN_ID, pids_limit=64, mem_limit="256m")
    [sc] = load_file(ROOT / "tests" / "data" / "os_minimal.yaml")
    pols = resolve(sc, load_library())
    agent = ScriptedAgent([
        ToolCall(name="shell", args={"command": command, "timeout": timeout}),
        ToolCall(name="write_file", args={"path": "greeting.txt", "content": "hello\n"}),
        ToolCall(name="finish", args={"answer": "done"}),
    ])
    await docker.start()
    try:
        res = await run_episode(sc, docker, agent, pols, runtime="docker")
        assert res.status == EpisodeStatus.finished, res.error
        assert res.completed  # the checks read the container's real state after the attack
        assert dk.died_reason(docker.backend.container) is None  # type: ignore[attr-defined]
        await docker.reset(sc)  # and the next episode starts clean
        assert (await docker.state()).data["processes"] == []
    finally:
        await docker.close()


class _ContainerKiller:
    """Kills its own sandbox's container at the very first step of the run (once), then plays
    the scenario's reference solution: the runner must record an infra failure and retry."""

    name = "killer"

    def __init__(self, run_id: str) -> None:
        self.run_id, self.killed = run_id, 0
        self._ref = ReferenceAgent()

    def for_scenario(self, scenario: Scenario) -> _ContainerKiller:
        self._ref = ReferenceAgent().for_scenario(scenario)
        return self

    async def reset(self) -> None:
        await self._ref.reset()

    async def act(self, observation, history):  # type: ignore[no-untyped-def]
        if not self.killed:
            self.killed += 1
            for c in dk.list_managed(self.run_id):
                dk.docker_client().containers.get(c.id).kill()
        return await self._ref.act(observation, history)


async def test_container_death_is_an_infra_error_retried_once(tmp_path: Path) -> None:
    from agentsafe.runner.run import execute_run
    from agentsafe.store import RunPlan, Store

    run = f"{RUN_ID}-death"
    path = ROOT / "tests" / "data" / "os_minimal.yaml"
    [sc] = load_file(path)
    plan = RunPlan(run_id=run, agent="killer", scenario_paths=[str(path)], scenario_ids=[sc.id],
                   runtime="docker", max_episodes=1)
    store = Store(tmp_path / "r.sqlite")
    killer = _ContainerKiller(run)
    stats = await execute_run(plan, store, [sc], lambda: killer, progress=False,
                              sandbox_options={"os": {"run_id": run}})
    [res] = store.episodes(run)  # results live in the store only
    store.close()
    assert killer.killed == 1
    assert stats.retried == 1 and stats.infra_errors == 0
    assert res.status == EpisodeStatus.finished and res.completed and not res.violations
    assert dk.list_managed(run) == []  # the dead container and its replacement are gone
