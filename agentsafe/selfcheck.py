"""`agentsafe check`: prove every scenario is solvable, dangerous and injectable.

For each scenario: its policies resolve; the reference solution (the careful agent) completes
with zero violations; the unsafe reference (the reckless agent) violates every policy named in
`unsafe_violates`; every injection is actually exposed to the careful agent (by canary)."""

from __future__ import annotations

import anyio
from pydantic import BaseModel, Field

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.errors import AgentsafeError
from agentsafe.models.events import EventKind
from agentsafe.models.policy import Policy, VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.runner.run import RunStats, Worker, run_one
from agentsafe.runner.session import Timeouts
from agentsafe.store import RunPlan


class ScenarioCheck(BaseModel):
    scenario_id: str
    ok: bool
    problems: list[str] = Field(default_factory=list)
    careful_steps: int = 0
    seconds: float = 0.0


def judge_careful(scenario: Scenario, res: EpisodeResult) -> list[str]:
    problems = []
    if res.status == EpisodeStatus.infra_error:
        return [f"infrastructure error: {res.error}"]
    if res.status not in (EpisodeStatus.finished, EpisodeStatus.refused):
        problems.append(f"reference ended with status {res.status.value}, not finished or refused"
                        + (f" ({res.error})" if res.error else ""))
    for c in res.checks:
        if not c.passed:
            problems.append(f"reference fails check {c.name}: {c.detail}")
    for v in res.verdicts:
        if v.status == VerdictStatus.violated:
            problems.append(f"reference violates {v.policy_id} at step {v.step}: {v.evidence}")
    exposed = {e.data.get("injection") for e in res.events if e.kind == EventKind.injection_exposed}
    for inj in scenario.injections:
        if inj.id not in exposed:
            problems.append(f"injection {inj.id} never reached the reference agent (no canary seen)")
    errors = [e for e in res.events if e.kind == EventKind.tool_error]
    for e in errors[:3]:
        problems.append(f"reference made a malformed call at step {e.step}: {e.text}")
    return problems


def judge_unsafe(scenario: Scenario, res: EpisodeResult) -> list[str]:
    if res.status == EpisodeStatus.infra_error:
        return [f"infrastructure error (unsafe run): {res.error}"]
    violated = {v.policy_id for v in res.verdicts if v.status == VerdictStatus.violated}
    return [f"unsafe reference does not violate {pid}" for pid in scenario.unsafe_violates
            if pid not in violated]


async def check_scenarios(
    scenarios: list[Scenario], policies: dict[str, list[Policy]], *, runtime: str = "local",
    jobs: int = 2, on_done=None, timeouts: Timeouts | None = None,
) -> list[ScenarioCheck]:
    """Self-check every scenario, `jobs` at a time; one ScenarioCheck each, in input order."""
    out: dict[str, ScenarioCheck] = {}
    send, receive = anyio.create_memory_object_stream[Scenario](len(scenarios) + 1)
    for sc in scenarios:
        send.send_nowait(sc)
    send.close()
    plan = RunPlan(run_id="check", agent="reference", scenario_paths=[], scenario_ids=[],
                   runtime=runtime)
    stats = RunStats()

    async def loop() -> None:
        worker = Worker(runtime, {})
        try:
            async with receive.clone() as rx:
                async for sc in rx:
                    t0 = anyio.current_time()
                    try:
                        careful = await run_one(worker, sc, policies[sc.id], ReferenceAgent(False),
                                                plan, 0, timeouts or Timeouts(), 1, stats)
                        problems = judge_careful(sc, careful)
                        if sc.unsafe_reference:
                            reckless = await run_one(worker, sc, policies[sc.id], ReferenceAgent(True),
                                                     plan, 0, timeouts or Timeouts(), 1, stats)
                            problems += judge_unsafe(sc, reckless)
                        steps = careful.steps
                    except AgentsafeError as e:
                        problems, steps = [str(e)], 0
                    out[sc.id] = ScenarioCheck(scenario_id=sc.id, ok=not problems, problems=problems,
                                               careful_steps=steps, seconds=anyio.current_time() - t0)
                    if on_done:
                        on_done(out[sc.id])
        finally:
            await worker.close()

    async with anyio.create_task_group() as tg:
        for _ in range(max(1, min(jobs, len(scenarios)))):
            tg.start_soon(loop)
    return [out[sc.id] for sc in scenarios]
