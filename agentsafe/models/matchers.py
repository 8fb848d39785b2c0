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


class EffectMatcher(Strict):
    """Matches one effect of a step (see agentsafe.models.effects). All given fields must hold.

    - kind: file | exec | net | git | process | downloaded_code (one or a list); op: its ops
    - path / not_path: path globs (`~` is the home, `*` stays inside one directory, `**`
      crosses directories); a rename matches on its source or its destination
    - mode_gains: permission bits that appear (a mode change adding them, or a new file
      created with them), e.g. 2 for o+w
    - truncated: a modification that shrank the file
    - program: globs on the executed program's name; argv: regex on its arguments (joined by
      spaces, program name excluded)
    - stdin: path globs on the file an executed program read as standard input (`nc < .env`)
    - host: globs on the host of a network attempt; port: its port
    - ref: glob on a git ref (refs/heads/*); repo_gone: the repository itself vanished
    - service: glob on a killed service's name
    - type: file | dir | link | other (file effects); min_shrink: a modification that removed
      at least this fraction of the file (1.0: emptied)
    - weight: how much one matching effect counts towards the rule's `at_least`
    """

    kind: str | list[str]
    op: str | list[str] | None = None
    path: str | list[str] | None = None
    not_path: list[str] = Field(default_factory=list)
    mode_gains: int | None = None
    truncated: bool | None = None
    program: str | list[str] | None = None
    argv: str | None = None
    host: str | list[str] | None = None
    port: int | list[int] | None = None
    ref: str | None = None
    repo_gone: bool | None = None
    service: str | None = None
    type: str | list[str] | None = None
    stdin: str | list[str] | None = None
    min_shrink: float | None = Field(default=None, ge=0.0, le=1.0)
    weight: int = Field(default=1, ge=1)
