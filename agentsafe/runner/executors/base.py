"""The executor contract: the runner decides which episodes to play and owns the store; an
executor plays them wherever it likes and hands each result back as soon as it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentsafe.agents.base import Agent
from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult
from agentsafe.models.scenario import Scenario
from agentsafe.runner.session import Timeouts
from agentsafe.store import RunPlan

AgentFactory = Callable[[], Agent]


@dataclass(frozen=True)
class Job:
    """One episode to play: a scenario and a trial number (also the sandbox seed)."""

    scenario: Scenario
    trial: int


@dataclass
class Played:
    """A finished episode as an executor hands it back: the result, where it ran, and how many
    attempts it took (attempts - 1 infrastructure retries)."""

    job: Job
    result: EpisodeResult
    node: str = "local"
    attempts: int = 1


@dataclass
class RunContext:
    """What every episode of a run shares. `make_agent` builds an agent in this process (local
    executor); remote executors build it on the worker from `plan.agent` and `plan.agent_options`."""

    plan: RunPlan
    policies: dict[str, list[Policy]]
    make_agent: AgentFactory
    timeouts: Timeouts = field(default_factory=Timeouts)
    retries: int = 1
    sandbox_options: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where an executor reports: `started` when an episode begins on `node`, `stopped` when an
    attempt was lost and the episode goes back in the queue, `finished` (awaited: the runner
    commits the result to the store there) when it ends for good."""

    def started(self, job: Job, node: str) -> None: ...

    def stopped(self, job: Job) -> None: ...

    async def finished(self, played: Played) -> None: ...


class Executor(Protocol):
    """Plays `jobs` (an iterable consumed lazily, at most `plan.max_episodes` at once) and reports
    each through `sink`. An episode lost to infrastructure comes back as an infra_error result,
    never as an exception; `play` raises only when the executor cannot run at all."""

    name: str

    async def play(self, ctx: RunContext, jobs: Iterable[Job], sink: Sink) -> None: ...
