"""The local executor: `max_episodes` anyio tasks on this host, each with its own warm sandboxes
and agent, pulling episodes from one shared queue."""

from __future__ import annotations

from collections.abc import Iterable, Sized

import anyio

from agentsafe.runner.executors.base import Job, Played, RunContext, Sink
from agentsafe.runner.worker import Worker, close_agent, play


class LocalExecutor:
    """anyio tasks in this process (the default)."""

    name = "local"

    def __init__(self, node: str = "local") -> None:
        self.node = node

    async def play(self, ctx: RunContext, jobs: Iterable[Job], sink: Sink) -> None:
        queue = iter(jobs)  # one iterator shared by the tasks: each job is played once
        plan = ctx.plan

        async def slot() -> None:
            worker = Worker(plan.runtime, ctx.sandbox_options)
            agent = ctx.make_agent()
            try:
                for job in queue:
                    sink.started(job, self.node)
                    result, attempts = await play(
                        worker, job.scenario, ctx.policies[job.scenario.id], agent, plan,
                        job.trial, ctx.timeouts, ctx.retries)
                    await sink.finished(Played(job, result, self.node, attempts))
            finally:
                await worker.close()
                await close_agent(agent)

        slots = max(1, plan.max_episodes)
        if isinstance(jobs, Sized):
            slots = min(slots, len(jobs))
        async with anyio.create_task_group() as tg:
            for _ in range(slots):
                tg.start_soon(slot)
