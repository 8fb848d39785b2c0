"""A worker's warm sandboxes and the play of one episode with infrastructure retries; shared by
every executor (anyio tasks on this host, Ray actors on a cluster)."""

from __future__ import annotations

import traceback
from contextlib import suppress
from typing import Any, Protocol

import anyio

from agentsafe.agents.base import Agent
from agentsafe.errors import ConfigError, SandboxError
from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult
from agentsafe.models.scenario import Scenario
from agentsafe.runner.episode import run_episode
from agentsafe.runner.session import Timeouts, infra_result
from agentsafe.sandbox.base import Sandbox
from agentsafe.sandbox.factory import make_sandbox
from agentsafe.store import RunPlan


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


class _Retries(Protocol):
    retried: int


async def play(
    worker: Worker, scenario: Scenario, policies: list[Policy], agent: Agent, plan: RunPlan,
    trial: int, timeouts: Timeouts, retries: int,
) -> tuple[EpisodeResult, int]:
    """One episode with infrastructure retries, and how many attempts it took: a crashed sandbox
    is rebuilt and the episode replayed from its seed (safe: nothing of the failed attempt is kept)."""
    last_error = ""
    for attempt in range(retries + 1):
        try:
            sandbox = await worker.sandbox(scenario.sandbox.kind)
            result = await run_episode(
                scenario, sandbox, agent, policies, run_id=plan.run_id, trial=trial,
                mode=plan.mode, runtime=plan.runtime, timeouts=timeouts, seed=trial,  # type: ignore[arg-type]
            )
            return result, attempt + 1
        except ConfigError as e:
            # the scenario's data was refused (a wrong injection target, bad SQL): replaying
            # it cannot help, so it is reported at once, not retried as an infrastructure error
            await worker.discard(scenario.sandbox.kind)
            return infra_result(scenario, run_id=plan.run_id, agent_name=agent.name, trial=trial,
                                runtime=plan.runtime,
                                error=f"scenario error (not retried): {e}"), attempt + 1
        except (SandboxError, TimeoutError, OSError) as e:
            last_error = f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - a harness bug must not count against the agent
            last_error = f"harness error: {type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"
        await worker.discard(scenario.sandbox.kind)
    return infra_result(scenario, run_id=plan.run_id, agent_name=agent.name, trial=trial,
                        runtime=plan.runtime,
                        error=f"after {retries + 1} attempts: {last_error}"), retries + 1


async def run_one(
    worker: Worker, scenario: Scenario, policies: list[Policy], agent: Agent, plan: RunPlan,
    trial: int, timeouts: Timeouts, retries: int, stats: _Retries,
) -> EpisodeResult:
    """`play`, counting retries into `stats.retried` (the self-check's entry point)."""
    result, attempts = await play(worker, scenario, policies, agent, plan, trial, timeouts, retries)
    stats.retried += attempts - 1
    return result


async def close_agent(agent: Any) -> None:
    """Close an agent's clients, if it has any (shielded: runs during cancellation too)."""
    closer = getattr(agent, "aclose", None)
    if closer is not None:
        with anyio.CancelScope(shield=True), suppress(Exception):
            await closer()
