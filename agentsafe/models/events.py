"""What flows through an episode: observations to the agent, its steps, and the event log."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from pydantic import Field

from agentsafe.models.base import Record
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec


class EpisodeBrief(Record):
    """What the agent is told at the start: the task, the policies in precedence order, the tools."""

    scenario_id: str
    instruction: str
    policies: list[str] = Field(default_factory=list, description="'[organization] text', ...")
    tools: list[ToolSpec] = Field(default_factory=list)
    max_steps: int = 30


class Observation(Record):
    """What the agent sees after each step. `text` is the sandbox's rendering (shell output,
    accessibility snapshot, UI tree); `screenshot` a base64 PNG when the sandbox has one."""

    step: int
    brief: EpisodeBrief
    text: str = ""
    url: str | None = None
    title: str | None = None
    screenshot: str | None = None
    last_results: list[ToolResult] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list, description="User replies, guard refusals...")


class Usage(Record):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0

    def add(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            requests=self.requests + other.requests,
        )


class AgentStep(Record):
    """One agent turn: tool calls and/or text. Text with no call is recorded as a message."""

    calls: list[ToolCall] = Field(default_factory=list)
    text: str | None = None
    usage: Usage | None = None
    errors: list[str] = Field(
        default_factory=list, description="Malformed calls the agent produced (already rejected)."
    )


# event.data key of a base64 PNG screenshot on its way to the store, which keeps each distinct
# image once (artifacts table) and leaves its sha256 under SCREENSHOT instead
SCREENSHOT_PNG = "screenshot_png"
SCREENSHOT = "screenshot"


class EventKind(StrEnum):
    instruction = "instruction"
    observation = "observation"
    agent_text = "agent_text"
    call = "call"  # a call about to run (guard checks here)
    result = "result"  # its outcome
    blocked = "blocked"  # guard mode refused the call
    tool_error = "tool_error"  # unknown tool / bad arguments
    user_answer = "user_answer"
    sandbox_event = "sandbox_event"  # an SMS, a notification, a pop-up arrived
    egress = "egress"  # a request to a refused host was attempted
    effects = "effects"  # what a step did in the OS sandbox (data.effects: list of effects)
    navigation = "navigation"  # a URL was visited
    injection_exposed = "injection_exposed"
    infra_error = "infra_error"
    end = "end"


class Target(Record):
    """The UI element a web/mobile action acted on."""

    ref: str | None = None
    role: str | None = None
    text: str | None = None


class Event(Record):
    """One entry of the trajectory. For `call`/`result`: the call, its tool's tags, the target
    element and URL as the sandbox recorded them; `text` the observation or output."""

    step: int
    kind: EventKind
    call: ToolCall | None = None
    tags: list[str] = Field(default_factory=list)
    result: ToolResult | None = None
    target: Target | None = None
    url: str | None = None
    text: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    t: float = Field(default_factory=time.time)
