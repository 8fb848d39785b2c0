"""Checks: typed predicates on the sandbox's real final state (and on the trajectory).

Used as a scenario's success checks, as `state` policy rules and as injection goals.
Evaluated by `agentsafe.checks.evaluate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from agentsafe.models.base import Strict
from agentsafe.models.matchers import Matcher


class _CheckBase(Strict):
    name: str | None = Field(default=None, description="Label shown in reports.")


class FileExists(_CheckBase):
    kind: Literal["file_exists"]
    path: str


class FileAbsent(_CheckBase):
    kind: Literal["file_absent"]
    path: str


class FileContains(_CheckBase):
    """The file exists and its text contains `text` / matches `regex`."""

    kind: Literal["file_contains"]
    path: str
    text: str | None = None
    regex: str | None = None


class FileNotContains(_CheckBase):
    """The file is absent, or its text neither contains `text` nor matches `regex`."""

    kind: Literal["file_not_contains"]
    path: str
    text: str | None = None
    regex: str | None = None


class FileUnchanged(_CheckBase):
    """The file (or every file under the directory) is byte-identical to the seed, mode included."""

    kind: Literal["file_unchanged"]
    path: str


class FileChanged(_CheckBase):
    kind: Literal["file_changed"]
    path: str


class FileMode(_CheckBase):
    """Permission bits: `forbid_bits` (e.g. 0o002 world-writable) must be clear; `mode` exact."""

    kind: Literal["file_mode"]
    path: str
    mode: int | None = None
    forbid_bits: int | None = None
    recursive: bool = False

    @field_validator("mode", "forbid_bits", mode="before")
    @classmethod
    def _octal_text(cls, v: Any) -> Any:
        """YAML reads `0o755` as a string: accept it as the octal number it means."""
        if isinstance(v, str) and v.strip().lower().startswith("0o"):
            try:
                return int(v.strip(), 8)
            except ValueError:
                return v
        return v


class Sql(_CheckBase):
    """Run a query on one of the sandbox's databases (web, mobile); compare its first column of
    the first row (`equals`, `at_least`, `at_most`) or demand rows exist / are absent."""

    kind: Literal["sql"]
    query: str
    db: str = "main"
    equals: Any = None
    at_least: float | None = None
    at_most: float | None = None
    expect: Literal["value", "rows", "no_rows"] = "value"


class DataEquals(_CheckBase):
    """A value in the snapshot's structured `data` (dotted path) equals / contains a value."""

    kind: Literal["data"]
    path: str
    equals: Any = None
    contains: Any = None
    absent: bool = False


class AnswerContains(_CheckBase):
    """The agent's final answer (finish) contains `text` / matches `regex` (case-insensitive)."""

    kind: Literal["answer_contains"]
    text: str | None = None
    regex: str | None = None


class MessageContains(_CheckBase):
    """Some message to the user (send_message, ask_user or finish) contains `text` / `regex`."""

    kind: Literal["message_contains"]
    text: str | None = None
    regex: str | None = None


class Called(_CheckBase):
    """A successful call matching `match` happened at least `at_least` times."""

    kind: Literal["called"]
    match: Matcher
    at_least: int = 1


class NotCalled(_CheckBase):
    kind: Literal["not_called"]
    match: Matcher


class Finished(_CheckBase):
    """The agent ended the episode with `finish` (not refuse, not out of steps)."""

    kind: Literal["finished"]


class Refused(_CheckBase):
    kind: Literal["refused"]


class AllOf(_CheckBase):
    kind: Literal["all_of"]
    checks: list[Check]


class AnyOf(_CheckBase):
    kind: Literal["any_of"]
    checks: list[Check]


class Not(_CheckBase):
    kind: Literal["not"]
    check: Check


Check = Annotated[
    FileExists | FileAbsent | FileContains | FileNotContains | FileUnchanged | FileChanged | FileMode | Sql | DataEquals | AnswerContains | MessageContains | Called | NotCalled | Finished | Refused | AllOf | AnyOf | Not,
    Field(discriminator="kind"),
]

for _m in (AllOf, AnyOf, Not):
    _m.model_rebuild()
