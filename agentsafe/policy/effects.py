"""Compile an EffectMatcher into a predicate over effect dicts (as recorded in `effects` events)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from agentsafe.models.matchers import EffectMatcher
from agentsafe.runtime.base import HOME

EffectTest = Callable[[dict[str, Any]], bool]


def _as_list(v: Any) -> list[Any] | None:
    if v is None:
        return None
    return list(v) if isinstance(v, list) else [v]


@lru_cache(maxsize=2048)
def glob_regex(glob: str) -> re.Pattern[str]:
    """A path glob as a regex: `~` -> the home, `**` any depth, `*` and `?` inside one name,
    `[...]` classes. A glob without a leading `/` or `~` matches at any depth (like `**/glob`)."""
    g = glob.strip()
    if g == "~" or g.startswith("~/"):
        g = HOME + g[1:]
    anchored = g.startswith("/")
    out, i = [], 0
    while i < len(g):
        c = g[i]
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if g.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = g.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                out.append("[" + g[i + 1:j].replace("!", "^", 1) + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    return re.compile(("^" if anchored else "^(?:.*/)?") + body + "$")


def _globs(v: Any) -> list[re.Pattern[str]] | None:
    items = _as_list(v)
    return [glob_regex(str(x)) for x in items] if items is not None else None


def _names(v: Any) -> list[re.Pattern[str]] | None:
    items = _as_list(v)
    if items is None:
        return None
    return [re.compile("^" + re.escape(str(x)).replace(r"\*", ".*").replace(r"\?", ".") + "$",
                       re.IGNORECASE) for x in items]


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "busybox"})
VIEWERS = frozenset({"echo", "printf", "grep", "egrep", "fgrep", "rg", "man", "less", "more",
                     "cat", "head", "tail", "sed", "awk", "gawk", "wc", "sort", "diff", "git"})


def _spelling(e: dict[str, Any]) -> bool:
    """An exec whose arguments are text about commands, not a command: a shell running a
    command string, or a viewer (echo, grep, man...) printing or searching text."""
    prog = str(e.get("program", ""))
    argv = e.get("argv") or []
    return (prog in SHELLS and "-c" in argv) or prog in VIEWERS


def compile_effect(m: EffectMatcher) -> EffectTest:
    """A fast predicate for one effect matcher."""
    kinds = frozenset(_as_list(m.kind) or [])
    ops = frozenset(_as_list(m.op)) if m.op is not None else None
    paths, not_paths = _globs(m.path), _globs(m.not_path) or []
    programs, hosts, services = _names(m.program), _names(m.host), _names(m.service)
    ports = frozenset(_as_list(m.port)) if m.port is not None else None
    argv_rx = re.compile(m.argv) if m.argv else None
    ref_rx = glob_regex(m.ref) if m.ref else None
    types = frozenset(_as_list(m.type)) if m.type is not None else None
    stdins = _globs(m.stdin)

    def path_ok(p: str | None) -> bool:
        if not p:
            return False
        if any(rx.match(p) for rx in not_paths):
            return False
        return paths is None or any(rx.match(p) for rx in paths)

    def test(e: dict[str, Any]) -> bool:
        if e.get("kind") not in kinds:
            return False
        if ops is not None and e.get("op") not in ops:
            return False
        if paths is not None or not_paths:
            cands = [e.get("path"), e.get("dest")] if e.get("kind") == "file" else [e.get("path")]
            if e.get("kind") == "git":
                cands = [e.get("repo")]
            if not any(path_ok(p) for p in cands):
                return False
        if m.mode_gains is not None:
            after = e.get("after")
            before = e.get("before") if e.get("op") == "mode" else 0
            if after is None or e.get("op") not in ("mode", "created") or \
                    not (after & m.mode_gains & ~(before or 0)):
                return False
        if m.truncated is not None and bool(e.get("truncated")) != m.truncated:
            return False
        if types is not None and e.get("type") not in types:
            return False
        if stdins is not None and not any(rx.match(str(e.get("stdin") or "")) for rx in stdins):
            return False
        if m.min_shrink is not None:
            before, size = e.get("before_size"), e.get("size", 0)
            if e.get("op") != "modified" or not before or 1 - size / before < m.min_shrink - 1e-9:
                return False
        if programs is not None and not any(rx.match(str(e.get("program", ""))) for rx in programs):
            return False
        if argv_rx is not None:
            argv = e.get("argv") or []
            if programs is None and e.get("kind") == "exec" and _spelling(e):
                return False  # `bash -c "<text>"`: the text is a spelling, its programs are effects
            if not argv_rx.search(" ".join(argv[1:])):
                return False
        if hosts is not None:
            h = str(e.get("host") or e.get("ip") or "")
            if not any(rx.match(h) for rx in hosts):
                return False
        if ports is not None and e.get("port") not in ports:
            return False
        if ref_rx is not None and not ref_rx.match(str(e.get("ref", ""))):
            return False
        if m.repo_gone is not None and bool(e.get("repo_gone")) != m.repo_gone:
            return False
        return services is None or any(rx.match(str(e.get("service", ""))) for rx in services)

    return test


def compile_any(ms: EffectMatcher | list[EffectMatcher]) -> EffectTest:
    """A predicate true when any of the matchers holds."""
    tests = [compile_effect(m) for m in (ms if isinstance(ms, list) else [ms])]
    if len(tests) == 1:
        return tests[0]
    return lambda e: any(t(e) for t in tests)


def compile_weight(ms: EffectMatcher | list[EffectMatcher]) -> Callable[[dict[str, Any]], int]:
    """How much an effect counts: the largest weight among the matchers it satisfies (0: none)."""
    pairs = [(compile_effect(m), m.weight) for m in (ms if isinstance(ms, list) else [ms])]
    return lambda e: max((w for t, w in pairs if t(e)), default=0)
