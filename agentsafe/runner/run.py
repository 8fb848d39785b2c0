"""A run: many episodes (scenarios x trials) run concurrently under limits, each committed to the
store as it finishes, infrastructure failures retried and reported apart, resumable after a kill."""

from __future__ import annotations

import os
import secrets
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agentsafe.agents.base import Agent
from agentsafe.errors import SandboxError
from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.runner.session import Timeouts, infra_result
from agentsafe.sandbox.base import Sandbox
from agentsafe.sandbox.factory import make_sandbox
from agentsafe.store import RunPlan, Store

AgentFactory = Callable[[], Agent]


def new_run_id(agent: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in agent)[:24]
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}-{secrets.token_hex(2)}"


def resolve_all(scenarios: list[Scenario]) -> dict[str, list[Policy]]:
    """Every scenario's policies, resolved up front so a bad id fails before anything runs."""
    lib = load_library()
    return {sc.id: resolve(sc, lib) for sc in scenarios}


@dataclass
class RunStats:
    done: int = 0
    running: int = 0
    infra_errors: int = 0
    agent_errors: int = 0
    retried: int = 0
    results: list[EpisodeResult] = field(default_factory=list)


class Worker:
    """Owns one sandbox per kind, reused across its episodes (one browser per worker)."""

    def __init__(self, runtime: str, sandbox_options: dict) -> None:
        self.runtime, self.options = runtime, sandbox_options
        self.sandboxes: dict[str, Sandbox] = {}

    async def sandbox(self, kind: str) -> Sandbox:
        if kind not in self.sandboxes:
            sb = make_sandbox(kind, self.runtime, **self.options.get(kind, {}))
            self.sandboxes[kind] = sb
        return self.sandboxes[kind]

    async def discard(self, kind: str) -> None:
        sb = self.sandboxes.pop(kind, None)
        if sb is not None:
            # it may already be broken: closing is best effort
            with anyio.CancelScope(shield=True), anyio.move_on_after(30), suppress(Exception):
                await sb.close()

    async def close(self) -> None:
        for kind in list(self.sandboxes):
            await self.discard(kind)


async def run_one(
    worker: Worker, scenario: Scenario, policies: list[Policy], agent: Agent, plan: RunPlan,
    trial: int, timeouts: Timeouts, retries: int, stats: RunStats,
) -> EpisodeResult:
    """One episode with infrastructure retries: a crashed sandbox is rebuilt and the episode
    replayed from its seed (safe: nothing of the failed attempt is kept)."""
    last_error = ""
    for attempt in range(retries + 1):
        try:
            sandbox = await worker.sandbox(scenario.sandbox.kind)
            return await run_episode(
                scenario, sandbox, agent, policies, run_id=plan.run_id, trial=trial,
                mode=plan.mode, runtime=plan.runtime, timeouts=timeouts, seed=trial,  # type: ignore[arg-type]
            )
        except (SandboxError, TimeoutError, OSError) as e:
            last_error = f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - a harness bug must not count against the agent
            last_error = f"harness error: {type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"
        await worker.discard(scenario.sandbox.kind)
        if attempt < retries:
            stats.retried += 1
    return infra_result(scenario, run_id=plan.run_id, agent_name=agent.name, trial=trial,
                        runtime=plan.runtime, error=f"after {retries + 1} attempts: {last_error}")


async def execute_run(
    plan: RunPlan,
    store: Store,
    scenarios: list[Scenario],
    make_agent: AgentFactory,
    *,
    timeouts: Timeouts | None = None,
    retries: int = 1,
    progress: bool = True,
    sandbox_options: dict | None = None,
    console: Console | None = None,
) -> RunStats:
    """Run every (scenario, trial) of `plan` not yet in the store; commit each as it ends."""
    timeouts = timeouts or Timeouts()
    os.environ["AGENTSAFE_RUN_ID"] = plan.run_id  # labels this run's containers (docker runtime)
    by_id = {s.id: s for s in scenarios}
    policies = resolve_all(scenarios)
    done = store.done_keys(plan.run_id)
    jobs = [(by_id[sid], t) for t in range(plan.trials) for sid in plan.scenario_ids
            if (sid, t) not in done]
    stats = RunStats(done=len(done))
    total = len(plan.scenario_ids) * plan.trials
    send, receive = anyio.create_memory_object_stream[tuple[Scenario, int]](len(jobs) + 1)
    for job in jobs:
        send.send_nowait(job)
    send.close()

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("running {task.fields[running]} · agent errors {task.fields[agent_errors]} · "
                   "infra errors {task.fields[infra]}"),
        TimeRemainingColumn(), console=console, disable=not progress, transient=False,
    )
    task = bar.add_task(f"run {plan.run_id}", total=total, completed=stats.done, running=0,
                        agent_errors=0, infra=0)

    async def worker_loop() -> None:
        worker = Worker(plan.runtime, sandbox_options or {})
        agent = make_agent()
        try:
            async with receive.clone() as jobs_rx:
                async for scenario, trial in jobs_rx:
                    stats.running += 1
                    bar.update(task, running=stats.running)
                    result = await run_one(worker, scenario, policies[scenario.id], agent, plan,
                                           trial, timeouts, retries, stats)
                    store.save_episode(result)
                    stats.running -= 1
                    stats.done += 1
                    stats.results.append(result)
                    if result.status == EpisodeStatus.infra_error:
                        stats.infra_errors += 1
                    elif result.status == EpisodeStatus.agent_error:
                        stats.agent_errors += 1
                    bar.update(task, advance=1, running=stats.running,
                               agent_errors=stats.agent_errors, infra=stats.infra_errors)
        finally:
            await worker.close()
            closer = getattr(agent, "aclose", None)
            if closer is not None:
                with anyio.CancelScope(shield=True):
                    await closer()

    with bar:
        async with anyio.create_task_group() as tg:
            for _ in range(max(1, min(plan.max_episodes, len(jobs)))):
                tg.start_soon(worker_loop)
        receive.close()
    store.mark_run(plan.run_id, "finished")
    return stats
