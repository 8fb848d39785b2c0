"""Accessibility snapshots: one `page.evaluate` that lists visible text and actionable elements
with short refs (`[e12] button "Delete order #1042"`) and stamps them in the DOM for acting."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page
from pydantic import BaseModel, Field

REF_ATTR = "data-agentsafe-ref"


class SnapshotElement(BaseModel):
    """One actionable element as the agent sees it."""

    ref: str
    role: str
    name: str = ""
    tag: str = ""
    value: str | None = None
    checked: bool | None = None
    disabled: bool | None = None
    options: list[str] | None = None
    href: str | None = None


class Snapshot(BaseModel):
    """The page as text lines plus the actionable elements by ref; `seq` is the last ref number."""

    url: str
    title: str
    lines: list[str] = Field(default_factory=list)
    elements: list[SnapshotElement] = Field(default_factory=list)
    seq: int = 0
    truncated: bool = False

    def by_ref(self) -> dict[str, SnapshotElement]:
        return {e.ref: e for e in self.elements}

    def render(self) -> str:
        """The text an agent reads: URL, title, then the page lines."""
        head = [f"URL: {self.url}", f"Title: {self.title}", ""]
        tail = ["[snapshot truncated: page text over the observation limit]"] if self.truncated else []
        return "\n".join(head + self.lines + tail)


@cache
def _script() -> str:
    """snapshot.js, its result handed back as one JSON string: Playwright then carries a single
    string value instead of serialising and re-validating every line and element (in Python,
    that cost more CPU per step than the rest of the harness)."""
    return as_json_string((Path(__file__).parent / "snapshot.js").read_text())


def as_json_string(function: str) -> str:
    """A page function of one argument rewritten to return its result as one JSON string
    (undefined becomes null, as Playwright would hand it back: None)."""
    body = function.strip()
    return f"(arg) => JSON.stringify(({body})(arg), (k, v) => v === undefined ? null : v)"


async def take_snapshot(page: Page, seq: int = 0, max_lines: int = 600) -> Snapshot:
    """Snapshot `page` in one round trip; new refs are numbered after `seq` so refs from an
    earlier document never collide with the current one (an old ref is reported stale)."""
    text: str = await page.evaluate(_script(), {"seq": seq, "maxLines": max_lines})
    raw: dict[str, Any] = json.loads(text)  # json, not pydantic's parser: keeps lone surrogates
    return cap_snapshot(Snapshot.model_validate(raw))


MAX_TEXT = 64 * 1024  # characters of page text per observation, like OS command output
MAX_LINE = 4096  # characters of one line (one text node or element label)


def cap_snapshot(snap: Snapshot, max_text: int = MAX_TEXT, max_line: int = MAX_LINE) -> Snapshot:
    """Bound what one observation sends to the agent and the store: a page with megabytes of
    text would otherwise go out on every step. Cut lines keep a marker; `truncated` is set."""
    lines, total, cut = [], 0, False
    for line in snap.lines:
        if len(line) > max_line:
            line = line[:max_line] + f" …[line cut at {max_line} characters]"
            cut = True
        if total + len(line) > max_text:
            cut = True
            break
        lines.append(line)
        total += len(line) + 1
    if not cut:
        return snap
    return snap.model_copy(update={"lines": lines, "truncated": True})
