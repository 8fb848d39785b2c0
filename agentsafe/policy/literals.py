"""Required-literal prefilters for regexes: from the parsed pattern, a set of strings one of
which every match must contain. Testing `lit in text` is ~50x cheaper than a regex search, so
most non-matching actions never run the regex. When unsure, no prefilter (always search)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:  # the stdlib's regex parser (stable since 3.11; sre_parse before)
    import re._parser as _sre  # type: ignore[import-not-found]
    from re._constants import (  # type: ignore[import-not-found]
        AT,
        BRANCH,
        LITERAL,
        MAX_REPEAT,
        MIN_REPEAT,
        SUBPATTERN,
    )
except ImportError:  # pragma: no cover - other interpreters: no prefilter
    _sre = None

Literals = frozenset[str]

_ESCAPE = re.compile(r"\\.")


def lowercase_safe(pattern: str) -> bool:
    """True when matching lowercased text with `pattern` equals IGNORECASE matching: no
    uppercase letter outside escapes (\\S, \\D, \\W, \\B keep their meaning), no numeric
    escapes (\\x41) and no inline flags or named groups."""
    if re.search(r"\\[xuUN0-7]", pattern):
        return False
    groups = pattern.replace("(?:", "").replace("(?!", "").replace("(?=", "").replace("(?<", "")
    if "(?" in groups:
        return False
    return not any(ch.isupper() for ch in _ESCAPE.sub("", pattern))


def _best(cands: list[Literals]) -> Literals | None:
    """The most selective candidate: the set whose shortest literal is longest."""
    good = [c for c in cands if c and all(c)]
    if not good:
        return None
    return max(good, key=lambda c: (min(len(x) for x in c), -len(c)))


def _seq(items: Any) -> Literals | None:
    cands: list[Literals] = []
    run: list[str] = []
    for op, av in items:
        if op is LITERAL:
            run.append(chr(av))
            continue
        if op is AT:  # zero-width anchors do not separate literals
            continue
        if run:
            cands.append(frozenset({"".join(run)}))
            run = []
        sub: Literals | None = None
        if op is SUBPATTERN:
            sub = _seq(av[-1])
        elif op is BRANCH:
            parts = [_seq(b) for b in av[1]]
            if all(p is not None for p in parts):
                sub = frozenset().union(*parts)  # type: ignore[arg-type]
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
            sub = _seq(av[2])
        if sub is not None:
            cands.append(sub)
    if run:
        cands.append(frozenset({"".join(run)}))
    return _best(cands)


def required_literals(pattern: str, ignorecase: bool) -> Literals | None:
    """Strings one of which every match of `pattern` contains (lowercased when `ignorecase`),
    or None when no such set is known."""
    if _sre is None or "(?" in pattern.replace("(?:", ""):
        return None
    try:
        parsed = _sre.parse(pattern, re.IGNORECASE if ignorecase else 0)
        lits = _seq(list(parsed))
    except Exception:  # noqa: BLE001 - any surprise: no prefilter
        return None
    if lits is None:
        return None
    if ignorecase:
        if not all(x.isascii() for x in lits):
            return None
        lits = frozenset(x.lower() for x in lits)
    return lits


def compile_search(pattern: str, ignorecase: bool) -> Callable[[str, str], bool]:
    """`test(raw, lowered) -> bool`: does `pattern` occur in the text? Case-insensitive
    searches run on the lowered text without IGNORECASE when that is equivalent; a literal
    prefilter skips the regex when no required literal is present."""
    lits = required_literals(pattern, ignorecase)
    if ignorecase and lowercase_safe(pattern):
        rx = re.compile(pattern)
        use_low = True
    else:
        rx = re.compile(pattern, re.IGNORECASE if ignorecase else 0)
        use_low = False
    lit_on_low = ignorecase
    if lits is None:
        if use_low:
            return lambda raw, low: rx.search(low) is not None
        return lambda raw, low: rx.search(raw) is not None
    needles = tuple(sorted(lits, key=len, reverse=True))

    def test(raw: str, low: str) -> bool:
        hay = low if lit_on_low else raw
        for n in needles:
            if n in hay:
                return rx.search(low if use_low else raw) is not None
        return False

    return test
