"""The Ray actor that plays episodes on a worker node: it holds warm sandboxes (its own browser
for web and mobile, the OS backend, the Docker client) and an agent built there from its spec."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult
from agentsafe.models.scenario import Scenario
from agentsafe.runner.session import Timeouts
from agentsafe.runner.worker import Worker, close_agent, play
from agentsafe.store import RunPlan


@dataclass
class RunBundle:
    """What every actor of a run needs, put in Ray's object store once per run."""

    plan: RunPlan
    scenarios: dict[str, Scenario]
    policies: dict[str, list[Policy]]
    timeouts: Timeouts
    retries: int
    sandbox_options: dict[str, Any] = field(default_factory=dict)


class Sealed:
    """Environment variables (API keys) on their way to a worker: a Ray object, never task
    metadata, and a repr that shows only their names."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = dict(env)

    def open(self) -> dict[str, str]:
        return dict(self._env)

    def __repr__(self) -> str:
        return f"Sealed({', '.join(sorted(self._env))})"

    __str__ = __repr__


class EpisodeActor:
    """One slot of a Ray run: plays one episode at a time, keeps its sandboxes warm between them."""

    def __init__(self, bundle: RunBundle, sealed: Sealed) -> None:
        from agentsafe.agents.loader import make_agent

        os.environ.update(sealed.open())  # this worker process only; read by the agent's SDK
        self.bundle = bundle
        plan = bundle.plan
        os.environ["AGENTSAFE_RUN_ID"] = plan.run_id  # labels this run's containers (docker)
        self.agent = make_agent(plan.agent, **plan.agent_options)
        self.worker = Worker(plan.runtime, bundle.sandbox_options)
        self.node = _node_label()

    async def ready(self) -> str:
        """The node this actor lives on (also proves it was placed and constructed)."""
        return self.node

    async def play(self, scenario_id: str, trial: int) -> tuple[EpisodeResult, int, str]:
        b = self.bundle
        result, attempts = await play(
            self.worker, b.scenarios[scenario_id], b.policies[scenario_id], self.agent, b.plan,
            trial, b.timeouts, b.retries)
        return result, attempts, self.node

    async def close(self) -> None:
        await self.worker.close()
        await close_agent(self.agent)


def _node_label() -> str:
    """A short, stable name for this node: $AGENTSAFE_NODE_NAME, else the start of Ray's node id."""
    name = os.environ.get("AGENTSAFE_NODE_NAME")
    if name:
        return name
    import ray

    return "node-" + ray.get_runtime_context().get_node_id()[:8]
