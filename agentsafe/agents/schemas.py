"""Provider tool schemas generated from the single ToolSpec source (tools/*.yaml): OpenAI
function tools, Anthropic tools and the MCP tool list all come from the same specs."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import mcp.types as mcp_types

from agentsafe.models.tools import ToolSpec, ToolTag
from agentsafe.tools.registry import ToolRegistry

_NULLABLE_KEYWORDS = frozenset({"default", "const", "examples"})


def _drop_nulls(value: Any) -> Any:
    """The schema without null-valued keys (never valid keywords; a YAML flow mapping with a
    comma in an unquoted description yields one, and providers reject them)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items()
                if v is not None or k in _NULLABLE_KEYWORDS}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _parameters(spec: ToolSpec) -> dict[str, Any]:
    """A deep copy of the spec's JSON Schema, always an object schema with `properties`."""
    schema = _drop_nulls(copy.deepcopy(spec.parameters)) or {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def openai_tools(specs: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """Chat-completions `tools=[{"type": "function", "function": {...}}]` for the given specs."""
    return [
        {
            "type": "function",
            "function": {
                "name": s.name,
                "description": s.description,
                "parameters": _parameters(s),
            },
        }
        for s in specs
    ]


def anthropic_tools(specs: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """Messages-API `tools=[{"name", "description", "input_schema"}]` for the given specs."""
    return [
        {"name": s.name, "description": s.description, "input_schema": _parameters(s)}
        for s in specs
    ]


def mcp_annotations(spec: ToolSpec) -> mcp_types.ToolAnnotations:
    """MCP hints derived from the spec's tags: read-only, destructive (irreversible), open-world (egress)."""
    tags = set(spec.tags)
    return mcp_types.ToolAnnotations(
        title=spec.name.replace("_", " "),
        read_only_hint=bool(tags) and tags <= {ToolTag.read},
        destructive_hint=ToolTag.irreversible in tags,
        open_world_hint=ToolTag.egress in tags,
    )


def mcp_tools(specs: Iterable[ToolSpec]) -> list[mcp_types.Tool]:
    """The MCP `tools/list` entries for the given specs."""
    return [
        mcp_types.Tool(
            name=s.name,
            description=s.description,
            input_schema=_parameters(s),
            annotations=mcp_annotations(s),
        )
        for s in specs
    ]


def tools_for_kind(kind: str) -> list[ToolSpec]:
    """Every tool an agent gets on a sandbox kind: the kind's own tools plus the common ones."""
    return ToolRegistry(kind).list()
