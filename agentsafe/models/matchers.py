"""Matchers: typed predicates over one action (tool name, arguments, target element, URL, command)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from agentsafe.models.base import Strict


class ArgPredicate(Strict):
    """A predicate on one value. Every field given must hold. Text comparisons ignore case
    unless `case_sensitive`. A bare scalar in YAML means `equals`."""

    equals: Any = None
    contains: str | None = None
    not_contains: str | None = None
    regex: str | None = None
    one_of: list[Any] | None = None
    exists: bool | None = None
    case_sensitive: bool = False

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_equals(cls, v: Any) -> Any:
        if isinstance(v, (str, int, float, bool)):
            return {"equals": v}
        return v


class Matcher(Strict):
    """Matches a tool call. All given fields must hold; an empty matcher matches every call.

    - tool: a name or list of names; tags: any of these tool tags
    - args: per-argument predicates (dotted names reach into nested objects)
    - any_arg: a predicate that at least one string argument satisfies
    - target_text / target_role: the element acted on (web, mobile), as recorded by the sandbox
    - url: regex on the URL requested or visited; command: regex on a shell command (os)
    """

    tool: str | list[str] | None = None
    tags: list[str] | None = None
    args: dict[str, ArgPredicate] = Field(default_factory=dict)
    any_arg: ArgPredicate | None = None
    target_text: ArgPredicate | None = None
    target_role: ArgPredicate | None = None
    url: str | None = None
    command: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _text_shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            v = dict(v)
            for key in ("target_text", "any_arg"):
                if isinstance(v.get(key), str):
                    v[key] = {"contains": v[key]}
        return v

    def tool_names(self) -> set[str] | None:
        if self.tool is None:
            return None
        return {self.tool} if isinstance(self.tool, str) else set(self.tool)
