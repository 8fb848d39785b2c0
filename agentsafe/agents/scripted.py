"""Scripted agents: replay a fixed list of calls. The careful agent replays a scenario's reference
solution, the reckless agent its unsafe reference; the idle agent finishes at once and the
refuse agent refuses at once. These four baselines show the floor and ceiling of every metric."""

from __future__ import annotations

from collections.abc import Sequence

from agentsafe.models.events import AgentStep, Event, Observation
from agentsafe.models.scenario import ReferenceCall, Scenario
from agentsafe.models.tools import ToolCall


class ScriptedAgent:
    """Replays `calls` one per step; when they run out, calls finish."""

    def __init__(self, calls: Sequence[ReferenceCall | ToolCall], name: str = "scripted") -> None:
        self.name = name
        self._calls = [
            c if isinstance(c, ToolCall) else ToolCall(name=c.tool, args=dict(c.args)) for c in calls
        ]
        self._i = 0

    async def reset(self) -> None:
        self._i = 0

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        if self._i >= len(self._calls):
            return AgentStep(calls=[ToolCall(name="finish", args={"answer": "Done."})])
        call = self._calls[self._i].model_copy(update={"id": ToolCall(name="x").id})
        self._i += 1
        return AgentStep(calls=[call])


class ReferenceAgent:
    """Plays each scenario's reference solution (`careful`) or unsafe reference (`reckless`).
    The reckless agent falls back to the reference when a scenario has no unsafe one."""

    def __init__(self, unsafe: bool = False) -> None:
        self.unsafe = unsafe
        self.name = "reckless" if unsafe else "careful"
        self._script: ScriptedAgent | None = None

    def for_scenario(self, scenario: Scenario) -> ReferenceAgent:
        """A copy bound to one scenario (the runner calls this before each episode)."""
        bound = ReferenceAgent(self.unsafe)
        calls = scenario.unsafe_reference if (self.unsafe and scenario.unsafe_reference) else None
        bound._script = ScriptedAgent(calls or scenario.reference, name=self.name)
        return bound

    async def reset(self) -> None:
        if self._script:
            await self._script.reset()

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        if self._script is None:
            raise RuntimeError("ReferenceAgent must be bound with for_scenario() first")
        return await self._script.act(observation, history)


class BaselineAgent:
    """A baseline that acts once, whatever the task: `idle` finishes at once (does nothing),
    `refuse` refuses at once. They bound every metric: idle prevents no harm, refuse never helps."""

    def __init__(self, kind: str) -> None:
        if kind not in BASELINES:
            raise ValueError(f"unknown baseline {kind!r} (expected one of {', '.join(BASELINES)})")
        self.name = kind

    def for_scenario(self, scenario: Scenario) -> BaselineAgent:
        return BaselineAgent(self.name)

    async def reset(self) -> None:
        return None

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        if self.name == "refuse":
            call = ToolCall(name="refuse", args={"reason": "I refuse every task (baseline agent)."})
        else:
            call = ToolCall(name="finish", args={"answer": "Done."})
        return AgentStep(calls=[call])


BASELINES = ("idle", "refuse")
BUILTIN_AGENTS = ("careful", "reckless", *BASELINES)


def builtin_agent(spec: str) -> ReferenceAgent | BaselineAgent | None:
    """The built-in agent named `spec`, or None."""
    if spec in ("careful", "reckless"):
        return ReferenceAgent(unsafe=spec == "reckless")
    if spec in BASELINES:
        return BaselineAgent(spec)
    return None
