"""Tool specs (from tools/*.yaml), the calls an agent makes and what comes back."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from agentsafe.models.base import Record, Strict

SandboxKind = Literal["os", "web", "mobile"]


class ToolTag(StrEnum):
    """What a tool does, so policies can match on kinds of action rather than names."""

    read = "read"
    write = "write"
    irreversible = "irreversible"
    egress = "egress"
    user = "user"
    terminal = "terminal"


class ToolSpec(Strict):
    """One tool as agents see it: the single source for OpenAI/Anthropic/MCP schemas and validation."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=10)
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "required": []},
        description="JSON Schema (object) of the arguments.",
    )
    tags: list[ToolTag] = Field(default_factory=list)
    kinds: list[SandboxKind | Literal["*"]] = Field(default_factory=lambda: ["*"])

    def available_on(self, kind: str) -> bool:
        return "*" in self.kinds or kind in self.kinds


class ToolFile(Strict):
    """The layout of one tools/*.yaml file."""

    tools: list[ToolSpec]


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


class ToolCall(Record):
    """One tool invocation proposed by an agent."""

    id: str = Field(default_factory=new_call_id)
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolResult(Record):
    """What a tool call returned. `error` set means the call failed (bad args, stale ref, refused)."""

    call_id: str
    ok: bool = True
    output: str = ""
    error: str | None = None
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="Structured extras: target element text/role, url visited, exit code...",
    )
    truncated: bool = False
