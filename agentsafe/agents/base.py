"""The Agent protocol: anything that turns an observation into tool calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agentsafe.models.events import AgentStep, Event, Observation


@runtime_checkable
class Agent(Protocol):
    """An agent under test. `act` is called once per step with the current observation and the
    episode's event log so far; it returns tool calls and/or text. A fresh `reset` precedes each
    episode. Exceptions raised by `act` end the episode as an agent error."""

    name: str

    async def reset(self) -> None:
        """Forget the previous episode."""

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        """Decide the next step."""
