"""Compile a Matcher once into a fast predicate over an Action (tool, args, tags, target, url).

Regexes are precompiled and text needles lowercased at compile time, so matching an action is a
handful of dict look-ups and `in` tests. Dotted argument names reach nested values
(`recipient.email`, `items.0.name`); `command` matches the `command` argument of shell calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from agentsafe.models.events import Event, Target
from agentsafe.models.matchers import ArgPredicate, Matcher
from agentsafe.policy.literals import compile_search, lowercase_safe  # noqa: F401

_MISSING = object()
URL_ARGS = ("url", "href", "link", "uri")


class Action:
    """One tool call as matchers see it: the name, its arguments and tags, and (once executed)
    the element it acted on and the URL requested or visited."""

    __slots__ = ("_pairs", "_strings", "args", "call_id", "tags", "target", "tool", "url")

    def __init__(
        self,
        tool: str,
        args: dict[str, Any] | None = None,
        tags: list[str] | tuple[str, ...] | frozenset[str] = (),
        target: Target | None = None,
        url: str | None = None,
        call_id: str | None = None,
    ) -> None:
        self.tool = tool
        self.args = args if args is not None else {}
        self.tags = tags
        self.target = target
        self.url = url if url is not None else arg_url(self.args)
        self.call_id = call_id
        self._strings: list[str] | None = None
        self._pairs: list[tuple[str, str]] | None = None

    def strings(self) -> list[str]:
        """Every string leaf of the arguments (computed once per action)."""
        if self._strings is None:
            self._strings = list(iter_strings(self.args))
        return self._strings

    def pairs(self) -> list[tuple[str, str]]:
        """(string, lowercased string) for every string leaf of the arguments, computed once."""
        if self._pairs is None:
            self._pairs = [(s, s.lower()) for s in self.strings()]
        return self._pairs

    @classmethod
    def from_event(cls, event: Event) -> Action | None:
        """The action of a `call`/`result`/`blocked` event (None when the event carries no call)."""
        call = event.call
        if call is None:
            return None
        return cls(call.name, call.args, event.tags, event.target, event.url, call.id)

    def __repr__(self) -> str:
        return f"Action({self.tool!r}, {self.args!r})"


def arg_url(args: dict[str, Any]) -> str | None:
    """The URL a goto-style call requests (`url`, `href`, `link` or `uri` argument), if any."""
    v = args.get("url") or args.get("href") or args.get("link") or args.get("uri")
    return v if isinstance(v, str) else None


def get_path(obj: Any, dotted: str) -> Any:
    """Walk `a.b.0.c` through dicts and lists; returns the sentinel _MISSING when absent.
    A key that itself contains dots is found before splitting."""
    if isinstance(obj, dict) and dotted in obj:
        return obj[dotted]
    node = obj
    for part in dotted.split("."):
        if isinstance(node, dict):
            if part not in node:
                return _MISSING
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            i = int(part)
            if not -len(node) <= i < len(node):
                return _MISSING
            node = node[i]
        else:
            return _MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is _MISSING


def iter_strings(value: Any) -> Iterator[str]:
    """Every string leaf of a nested value (dict values, list items)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from iter_strings(v)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


ValuePred = Callable[[Any], bool]


def compile_value(pred: ArgPredicate) -> ValuePred:
    """A predicate over one value (the sentinel _MISSING when absent). Every field given must hold.
    Strings (the common case) take a fast path; lists and dicts are tested on their string leaves."""
    return _build(pred)[0]


def compile_pair(pred: ArgPredicate) -> Callable[[str, str], bool]:
    """The same predicate over one present string given as (raw, lowercased)."""
    return _build(pred)[1]


def _build(pred: ArgPredicate) -> tuple[ValuePred, Callable[[str, str], bool]]:
    cs = pred.case_sensitive
    str_tests: list[Callable[[str, str], bool]] = []  # (raw, lowered-or-raw)

    if pred.equals is not None and isinstance(pred.equals, str):
        w = pred.equals if cs else pred.equals.lower()
        str_tests.append(lambda raw, low: low == w)
    if pred.contains is not None:
        needle = pred.contains if cs else pred.contains.lower()
        str_tests.append(lambda raw, low: needle in low)
    if pred.not_contains is not None:
        bad = pred.not_contains if cs else pred.not_contains.lower()
        str_tests.append(lambda raw, low: bad not in low)
    if pred.regex is not None:
        str_tests.append(compile_search(pred.regex, not cs))
    if pred.one_of is not None:
        opts = frozenset(
            (o if cs else o.lower()) if isinstance(o, str) else _text(o) for o in pred.one_of
        )
        str_tests.append(lambda raw, low: low in opts)
    exact = pred.equals if pred.equals is not None and not isinstance(pred.equals, str) else None
    exact_s = _text(exact).lower() if exact is not None else ""
    exists = pred.exists
    only_negative = pred.not_contains is not None and len(str_tests) == 1 and exact is None
    tests = tuple(str_tests)

    def on_pair(s: str, low: str) -> bool:
        if cs:
            low = s
        for t in tests:
            if not t(s, low):
                return False
        return exact is None or low.strip() == exact_s

    def on_str(s: str) -> bool:
        return on_pair(s, s if cs else s.lower())

    has_equality = pred.equals is not None or pred.one_of is not None

    def check(v: Any) -> bool:
        if v is _MISSING or v is None:
            if exists is False:
                return True
            return exists is None and only_negative
        if exists is False:
            return False
        if isinstance(v, str):
            return on_str(v)
        if isinstance(v, (dict, list, tuple)):
            if has_equality:  # a container equals only an identical container
                return pred.equals is not None and v == pred.equals
            return on_str("\n".join(iter_strings(v)))
        if exact is not None and v == exact:
            return all(t(_text(v), _text(v).lower()) for t in tests)
        return on_str(_text(v))

    if exists is False:
        return check, lambda raw, low: False
    return check, on_pair


def _texts(v: Any) -> list[str]:
    if isinstance(v, (dict, list, tuple)):
        return list(iter_strings(v))
    return [_text(v)]


ActionPred = Callable[[Action], bool]


def _arg_test(name: str, vp: ValuePred) -> ActionPred:
    """Test one (possibly dotted) argument."""
    if "." in name:
        return lambda a: vp(get_path(a.args, name))
    return lambda a: vp(a.args.get(name, _MISSING))


def _target_test(attr: str, vp: ValuePred) -> ActionPred:
    """Test the text or role of the element the action acted on."""

    def test(a: Action) -> bool:
        value = getattr(a.target, attr, None) if a.target is not None else None
        return vp(value if value else _MISSING)

    return test


def _conjunction(tests: tuple[ActionPred, ...]) -> ActionPred:
    """One function testing all `tests` in order, unrolled for the common small sizes."""
    n = len(tests)
    if n == 0:
        return lambda a: True
    if n == 1:
        return tests[0]
    if n == 2:
        t0, t1 = tests
        return lambda a: t0(a) and t1(a)
    if n == 3:
        t0, t1, t2 = tests
        return lambda a: t0(a) and t1(a) and t2(a)

    def every(a: Action) -> bool:
        for t in tests:
            if not t(a):
                return False
        return True

    return every


class CompiledMatcher:
    """A Matcher compiled into `__call__(action) -> bool`, plus the index keys under which an
    engine should file it (tool names, tags, or the 'command'/'url'/'*' buckets)."""

    __slots__ = ("_tests", "indexed_test", "keys", "matcher", "test", "tools")

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.tools = matcher.tool_names()
        tests: list[ActionPred] = []
        if self.tools is not None:
            names = frozenset(self.tools)
            if len(names) == 1:
                (only,) = names
                tests.append(lambda a: a.tool == only)
            else:
                tests.append(lambda a: a.tool in names)
        if matcher.tags:
            want = frozenset(matcher.tags)
            tests.append(lambda a: not want.isdisjoint(a.tags))
        for name, pred in matcher.args.items():
            tests.append(_arg_test(name, compile_value(pred)))
        if matcher.any_arg is not None:
            pair = compile_pair(matcher.any_arg)

            def _any_arg(a: Action, pair: Callable[[str, str], bool] = pair) -> bool:
                for raw, low in a.pairs():
                    if pair(raw, low):
                        return True
                return False

            tests.append(_any_arg)
        if matcher.target_text is not None:
            tests.append(_target_test("text", compile_value(matcher.target_text)))
        if matcher.target_role is not None:
            tests.append(_target_test("role", compile_value(matcher.target_role)))
        if matcher.url is not None:
            url_test = compile_search(matcher.url, True)
            tests.append(lambda a: a.url is not None and url_test(a.url, a.url.lower()))
        if matcher.command is not None:
            cmd_test = compile_search(matcher.command, False)

            def _cmd(a: Action) -> bool:
                c = a.args.get("command")
                return isinstance(c, str) and cmd_test(c, c)

            tests.append(_cmd)
        self._tests = tuple(tests)
        self.test: ActionPred = _conjunction(self._tests)
        # Reached through the engine's index, the bucket's own test (tool name, or tag when
        # there is no tool) already holds: `indexed_test` skips it.
        skip = 1 if (self.tools is not None or matcher.tags) else 0
        self.indexed_test: ActionPred = _conjunction(self._tests[skip:])
        # index keys: the most selective bucket the matcher can be filed under
        if self.tools is not None:
            self.keys: frozenset[tuple[str, str]] = frozenset(("tool", t) for t in self.tools)
        elif matcher.tags:
            self.keys = frozenset(("tag", t) for t in matcher.tags)
        elif matcher.command is not None:
            self.keys = frozenset({("arg", "command")})
        elif matcher.url is not None:
            self.keys = frozenset({("url", "")})
        else:
            self.keys = frozenset({("*", "")})

    def __call__(self, action: Action) -> bool:
        return self.test(action)

    def describe(self) -> str:
        return self.matcher.model_dump_json(exclude_defaults=True)


_COMPILED: dict[int, tuple[Matcher, CompiledMatcher]] = {}
_COMPILED_MAX = 4096


def compile_matcher(matcher: Matcher) -> CompiledMatcher:
    """Compile once; call the result on many actions. Compiled matchers are cached by matcher
    object, so engines built per episode from the same library policies reuse them."""
    hit = _COMPILED.get(id(matcher))
    if hit is not None and hit[0] is matcher:
        return hit[1]
    cm = CompiledMatcher(matcher)
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[id(matcher)] = (matcher, cm)
    return cm


def action_keys(action: Action) -> list[tuple[str, str]]:
    """The index buckets an action can reach (see CompiledMatcher.keys)."""
    keys = [("tool", action.tool), ("*", "")]
    keys.extend(("tag", t) for t in action.tags)
    if "command" in action.args:
        keys.append(("arg", "command"))
    if action.url is not None:
        keys.append(("url", ""))
    return keys


def describe_action(action: Action, limit: int = 160) -> str:
    """`tool(arg=value, ...)` shortened for evidence strings."""
    parts = ", ".join(f"{k}={v!r}" for k, v in action.args.items())
    text = f"{action.tool}({parts})"
    return text if len(text) <= limit else text[: limit - 1] + "…"
