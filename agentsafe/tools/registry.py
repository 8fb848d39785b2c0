"""Load tool specs from tools/*.yaml and validate an agent's calls against them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from agentsafe.errors import ConfigError, ToolCallError
from agentsafe.models.tools import ToolCall, ToolFile, ToolSpec
from agentsafe.paths import TOOLS_DIR
from agentsafe.yamlio import load_model

COMMON_TOOLS = frozenset({"ask_user", "send_message", "finish", "refuse"})


def _null_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first null (or null key) in a schema: the mark of a YAML flow
    mapping cut short by an unquoted comma."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            if v is None or k is None:
                return where
            found = _null_path(v, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _null_path(v, f"{path}.{i}")
            if found:
                return found
    return None


@cache
def load_tools(tools_dir: Path = TOOLS_DIR) -> tuple[ToolSpec, ...]:
    """Every tool spec under `tools_dir`; a name defined twice is a ConfigError."""
    specs: dict[tuple[str, tuple[str, ...]], ToolSpec] = {}
    for path in sorted(Path(tools_dir).glob("*.yaml")):
        for spec in load_model(path, ToolFile).tools:
            # one name may be defined once per sandbox kind (web `back` and mobile `back`)
            for name, kinds in specs:
                if name == spec.name and ("*" in kinds or "*" in spec.kinds or set(kinds) & set(spec.kinds)):
                    raise ConfigError(str(path), None, "tools.name", f"tool '{spec.name}' defined twice")
            null = _null_path(spec.parameters)
            if null:
                raise ConfigError(
                    str(path), None, f"{spec.name}.parameters.{null}",
                    "null value: quote text containing ', ' inside a {flow: mapping}",
                )
            try:
                jsonschema.Draft202012Validator.check_schema(spec.parameters)
            except jsonschema.SchemaError as e:
                raise ConfigError(str(path), None, f"{spec.name}.parameters", e.message) from None
            specs[(spec.name, tuple(spec.kinds))] = spec
    return tuple(specs.values())


class ToolRegistry:
    """The tools of one sandbox kind, with validation of calls. Thread-safe and reusable."""

    def __init__(self, kind: str, specs: tuple[ToolSpec, ...] | None = None) -> None:
        self.kind = kind
        self.specs = {s.name: s for s in (specs or load_tools()) if s.available_on(kind)}
        self._validators = {
            name: jsonschema.Draft202012Validator(s.parameters) for name, s in self.specs.items()
        }

    def list(self) -> list[ToolSpec]:
        return list(self.specs.values())

    def tags(self, name: str) -> list[str]:
        spec = self.specs.get(name)
        return [str(t) for t in spec.tags] if spec else []

    def validate(self, call: ToolCall) -> None:
        """Raise ToolCallError with a message the agent can act on if the call is malformed."""
        if call.name not in self.specs:
            known = ", ".join(sorted(self.specs))
            raise ToolCallError(f"unknown tool '{call.name}'. Available tools: {known}")
        errors = sorted(self._validators[call.name].iter_errors(call.args), key=lambda e: e.path)
        if errors:
            e = errors[0]
            where = ".".join(str(p) for p in e.path) or "arguments"
            raise ToolCallError(f"invalid arguments for '{call.name}': {where}: {e.message}")

    @staticmethod
    def parse_args(raw: str | dict[str, Any] | None) -> dict[str, Any]:
        """Arguments from a provider's raw JSON string; ToolCallError if it is not a JSON object."""
        if raw is None or raw == "":
            return {}
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ToolCallError(f"tool arguments are not valid JSON: {e.msg} at char {e.pos}") from None
        if not isinstance(value, dict):
            raise ToolCallError("tool arguments must be a JSON object")
        return value
