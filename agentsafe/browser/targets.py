"""Resolve what an action acts on: a ref from the latest snapshot, or a stable target (text,
role, CSS selector) that reference solutions can name before the page renders."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, Page
from pydantic import BaseModel

from agentsafe.browser.snapshot import REF_ATTR, Snapshot, SnapshotElement


class TargetError(Exception):
    """The target cannot be found or is ambiguous; the message is written for the agent."""


class TargetSpec(BaseModel):
    """One of: `ref` (from the observation), `text` (+ optional `role`), or `selector` (CSS)."""

    ref: str | None = None
    text: str | None = None
    role: str | None = None
    selector: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any], text_is_target: bool = False,
                  required: bool = True) -> TargetSpec | None:
        """Read a tool's target arguments: `ref`, `element` (visible text / label; `text` too
        when `text_is_target`), `role`, `selector`. None when nothing is named and not required."""
        text = args.get("element") or (args.get("text") if text_is_target else None)
        spec = cls(ref=args.get("ref") or None, text=text or None, role=args.get("role") or None,
                   selector=args.get("selector") or None)
        if not (spec.ref or spec.text or spec.selector):
            if not required:
                return None
            raise TargetError(
                "name the element with `ref` (from the latest page snapshot), `element` (its "
                "visible text or label) or `selector`"
            )
        return spec


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def match_text(snapshot: Snapshot, spec: TargetSpec) -> SnapshotElement | None:
    """The unique element whose name (or value) equals, else contains, `spec.text`; None if no
    element matches; TargetError when several do."""
    want = _norm(spec.text or "")
    pool = [e for e in snapshot.elements if not spec.role or e.role == spec.role]
    for exact in (True, False):
        hits = [
            e for e in pool
            if (_norm(e.name) == want if exact else want in _norm(e.name))
        ]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            refs = ", ".join(f'{h.ref} {h.role} "{h.name}"' for h in hits[:6])
            raise TargetError(
                f'text "{spec.text}" matches {len(hits)} elements ({refs}); use a ref or more specific text'
            )
    return None


def stale_ref_message(ref: str) -> str:
    """What the agent is told when it acts on a ref its page no longer has."""
    return (f"ref {ref} is not on the current page (stale: the page changed since that "
            "snapshot); use a ref from the latest observation")


async def locate(page: Page, spec: TargetSpec, snapshot: Snapshot | None) -> tuple[Locator, dict]:
    """A locator for the target plus its description `{ref, role, text}`. Raises TargetError
    (stale ref, no match, ambiguous) with a message the agent can act on."""
    if spec.selector:
        loc = page.locator(spec.selector)
        n = await loc.count()
        if n == 0:
            raise TargetError(f"no element matches selector {spec.selector!r} on {page.url}")
        loc = loc.first
        info = await describe(loc)
        return loc, info
    if spec.ref:
        loc = page.locator(f'[{REF_ATTR}="{spec.ref}"]')
        if await loc.count() == 0:
            raise TargetError(stale_ref_message(spec.ref))
        el = snapshot.by_ref().get(spec.ref) if snapshot else None
        info = {"ref": spec.ref, "role": el.role, "text": el.name} if el else await describe(loc)
        return loc, info
    el = match_text(snapshot, spec) if snapshot else None
    if el is None:
        raise TargetError(
            f'no {spec.role or "element"} with text "{spec.text}" on {page.url}'
        )
    loc = page.locator(f'[{REF_ATTR}="{el.ref}"]')
    if await loc.count() == 0:  # the snapshot is older than the page: the caller re-snapshots
        raise TargetError(f'no {spec.role or "element"} with text "{spec.text}" on {page.url}')
    return loc, {"ref": el.ref, "role": el.role, "text": el.name}


_DESCRIBE = """(el) => ({ref: el.getAttribute('data-agentsafe-ref'),
  role: el.getAttribute('role') || ({A: 'link', BUTTON: 'button', SELECT: 'combobox',
        TEXTAREA: 'textbox', INPUT: (['submit','button','reset'].includes(el.type) ? 'button' :
        ['checkbox','radio'].includes(el.type) ? el.type : 'textbox')}[el.tagName] || el.tagName.toLowerCase()),
  text: (el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].innerText : '')
         || el.innerText || el.value || el.getAttribute('placeholder') || '').replace(/\\s+/g, ' ').trim()})"""


async def describe(loc: Locator) -> dict:
    """`{ref, role, text}` of the element under `loc` (one round trip)."""
    return await loc.evaluate(_DESCRIBE, timeout=2000)
