"""The Sandbox contract every kind implements, on every runtime."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agentsafe.models.events import Event
from agentsafe.models.scenario import Scenario
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec


@runtime_checkable
class Sandbox(Protocol):
    """One environment, reused across episodes: start() once, then per episode reset() ->
    call()... -> state(); close() at the end.

    Errors: every method may raise SandboxError (the sandbox crashed or is unreachable: an
    infrastructure error) or SandboxTimeout. A problem with the agent's call itself (bad ref,
    missing file, non-zero exit) is NOT an exception: it comes back as ToolResult(ok=False)."""

    kind: str

    async def start(self) -> None:
        """Bring up the backing processes (browser, app server, container). Idempotent."""

    async def reset(self, scenario: Scenario, seed: int = 0) -> None:
        """Restore the scenario's seed state and place its injections. Milliseconds, not minutes."""

    def tools(self) -> list[ToolSpec]:
        """The sandbox-specific tools (the harness adds the common ones)."""

    async def call(self, call: ToolCall) -> ToolResult:
        """Execute one validated, sandbox-specific tool call."""

    async def observe(self) -> tuple[str, dict]:
        """The current view as text for the agent, plus extras: url, title, screenshot (b64)."""

    def drain_events(self) -> list[Event]:
        """Events the sandbox produced since the last drain: egress attempts, navigations,
        arrived SMS/notifications. Their `step` is filled in by the runner."""

    async def state(self) -> StateSnapshot:
        """The real backend state (files, databases, device data), never the rendered page."""

    async def close(self) -> None:
        """Stop everything start() started. Idempotent."""
