"""A run: many episodes (scenarios x trials) played by an executor under limits, each committed to
the store as it finishes, infrastructure failures retried and reported apart, resumable after a
kill. The runner decides what to play and owns the store; the executor plays."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.executors import Executor, Job, Played, RunContext
from agentsafe.runner.executors.base import AgentFactory
from agentsafe.runner.executors.local import LocalExecutor
from agentsafe.runner.session import Timeouts
from agentsafe.runner.worker import Worker, run_one
from agentsafe.runtime.sweep import sweep
from agentsafe.store import RunPlan, Store


def new_run_id(agent: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in agent)[:24]
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}-{secrets.token_hex(2)}"


def resolve_all(scenarios: list[Scenario]) -> dict[str, list[Policy]]:
    """Every scenario's policies, resolved up front so a bad id fails before anything runs."""
    lib = load_library()
    return {sc.id: resolve(sc, lib) for sc in scenarios}


@dataclass
class RunStats:
    """Counters of a run. Results live in the store only: a run's memory stays flat however
    many episodes it plays (read them back with `Store.episodes`)."""

    done: int = 0
    running: int = 0
    infra_errors: int = 0
    agent_errors: int = 0
    retried: int = 0
    per_node: Counter[str] = field(default_factory=Counter)


def pending_jobs(plan: RunPlan, scenarios: list[Scenario], done: set[tuple[str, int]]) -> list[Job]:
    """The (scenario, trial) episodes of `plan` not yet in the store, trial by trial."""
    by_id = {s.id: s for s in scenarios}
    return [Job(by_id[sid], t) for t in range(plan.trials) for sid in plan.scenario_ids
            if (sid, t) not in done]


class _Recorder:
    """The runner's side of the executor contract: commits each result, counts, shows progress."""

    def __init__(self, store: Store, stats: RunStats, bar: Progress, task: object,
                 show_nodes: bool) -> None:
        self.store, self.stats, self.bar, self.task = store, stats, bar, task
        self.show_nodes = show_nodes

    def started(self, job: Job, node: str) -> None:
        self.stats.running += 1
        self.bar.update(self.task, running=self.stats.running)  # type: ignore[arg-type]

    def stopped(self, job: Job) -> None:
        self.stats.running = max(0, self.stats.running - 1)
        self.stats.retried += 1
        self.bar.update(self.task, running=self.stats.running)  # type: ignore[arg-type]

    async def finished(self, played: Played) -> None:
        stats, result = self.stats, played.result
        self.store.save_episode(result)
        stats.running = max(0, stats.running - 1)
        stats.done += 1
        stats.retried += played.attempts - 1
        stats.per_node[played.node] += 1
        if result.status == EpisodeStatus.infra_error:
            stats.infra_errors += 1
        elif result.status == EpisodeStatus.agent_error:
            stats.agent_errors += 1
        nodes = (" · per node " + " ".join(f"{n}:{c}" for n, c in sorted(stats.per_node.items()))
                 if self.show_nodes else "")
        self.bar.update(self.task, advance=1, running=stats.running,  # type: ignore[arg-type]
                        agent_errors=stats.agent_errors, infra=stats.infra_errors, nodes=nodes)


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
    executor: Executor | None = None,
) -> RunStats:
    """Run every (scenario, trial) of `plan` not yet in the store; commit each as it ends."""
    os.environ["AGENTSAFE_RUN_ID"] = plan.run_id  # labels this run's containers (docker runtime)
    sweep()  # what killed runs left on this host (their containers go at the first docker use)
    ctx = RunContext(plan=plan, policies=resolve_all(scenarios), make_agent=make_agent,
                     timeouts=timeouts or Timeouts(), retries=retries,
                     sandbox_options=sandbox_options or {})
    done = store.done_keys(plan.run_id)
    jobs = pending_jobs(plan, scenarios, done)
    stats = RunStats(done=len(done))
    total = len(plan.scenario_ids) * plan.trials
    executor = executor or LocalExecutor()
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("running {task.fields[running]} · agent errors {task.fields[agent_errors]} · "
                   "infra errors {task.fields[infra]}{task.fields[nodes]}"),
        TimeRemainingColumn(), console=console, disable=not progress, transient=False,
    )
    task = bar.add_task(f"run {plan.run_id}", total=total, completed=stats.done, running=0,
                        agent_errors=0, infra=0, nodes="")
    recorder = _Recorder(store, stats, bar, task, show_nodes=executor.name != "local")
    with bar:
        if jobs:
            await executor.play(ctx, jobs, recorder)
    if executor.name != "local" and stats.per_node and progress:
        (console or Console()).print(
            "episodes per node: " + ", ".join(f"{n} {c}" for n, c in sorted(stats.per_node.items())))
    store.mark_run(plan.run_id, "finished")
    return stats


__all__ = ["RunStats", "Worker", "execute_run", "new_run_id", "pending_jobs", "resolve_all",
           "run_one"]
