"""What the OpenAI and Anthropic agents share: the turn loop with repair of malformed replies,
the context budget, token/cost accounting and the scrubbing of API keys from anything printed."""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from agentsafe.agents.render import result_text, system_prompt
from agentsafe.errors import ToolCallError
from agentsafe.models.events import AgentStep, Event, Observation, Usage
from agentsafe.models.tools import ToolCall, ToolSpec
from agentsafe.tools.registry import ToolRegistry

log = logging.getLogger("agentsafe.agents")

# USD per million (input, output) tokens; the longest matching model-name prefix wins.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4": (1.00, 5.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
}


def price_for(model: str, prices: Mapping[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """(input, output) USD per million tokens for `model`; (0, 0) when unknown (local models)."""
    table = {**PRICES, **(prices or {})}
    if model in table:
        return table[model]
    best = max((k for k in table if model.startswith(k)), key=len, default=None)
    return table[best] if best else (0.0, 0.0)


def cost_usd(model: str, input_tokens: int, output_tokens: int,
             prices: Mapping[str, tuple[float, float]] | None = None) -> float:
    """The cost of one request at the table's prices."""
    pin, pout = price_for(model, prices)
    return (input_tokens * pin + output_tokens * pout) / 1_000_000


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret (API keys, credentials in URLs) replaced by `***`."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


_SECRETS: set[str] = set()
_factory_installed = False


def _scrub_record(record: logging.LogRecord) -> None:
    """Mask every registered secret in a log record's formatted message."""
    try:
        msg = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken log call must not break the agent
        return
    clean = scrub(msg, sorted(_SECRETS, key=len, reverse=True))
    if clean != msg:
        record.msg, record.args = clean, None


class ScrubFilter(logging.Filter):
    """A logging filter masking registered secrets; add it to your own handlers if you log
    objects created before the secret was registered."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            _scrub_record(record)
        return True


def register_secret(secret: str | None) -> None:
    """Mask `secret` in every log record created from now on, whatever the logger (the SDKs'
    and HTTP clients' debug logs included): installs a scrubbing LogRecord factory once."""
    global _factory_installed
    if not secret:
        return
    _SECRETS.add(secret)
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _SECRETS:
            _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def key_from_env(var: str, needed: bool) -> str | None:
    """The API key in environment variable `var`; None when unset and not `needed` (local servers)."""
    value = os.environ.get(var) or None
    if value is None and needed:
        from agentsafe.errors import AgentError

        raise AgentError(f"set the {var} environment variable (the API key is read from there)")
    return value


LOCAL_PLACEHOLDER_KEY = "not-needed"  # SDKs insist on a key; local servers ignore it


def url_secret(url: str | None) -> str | None:
    """The userinfo (user:password) of a URL, which must never be printed."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    return None


def public_url(url: str | None) -> str | None:
    """A URL with any credentials removed, for reprs and messages."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return parts._replace(netloc=host).geturl()


@dataclass
class RawCall:
    """A tool call as the provider returned it, before validation (arguments may be bad JSON)."""

    id: str
    name: str
    args: str | dict[str, Any] | None


@dataclass
class Reply:
    """One model response, normalised: its text, its raw tool calls, its token usage."""

    text: str | None
    calls: list[RawCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


NO_CALL = (
    "Your reply contained no tool call. Every reply must call a tool: act with the environment's "
    "tools, ask_user for consent, finish(answer) when done, or refuse(reason) to decline."
)


def estimate_tokens(value: Any) -> int:
    """A cheap token estimate of a message list: ~4 characters a token, ~1000 a picture."""
    if isinstance(value, str):
        return len(value) // 4 + 1
    if isinstance(value, Mapping):
        if value.get("type") in ("image_url", "image"):
            return 1000
        return sum(estimate_tokens(v) for v in value.values()) + 2
    if isinstance(value, list | tuple):
        return sum(estimate_tokens(v) for v in value)
    return 1


class LLMAgent(ABC):
    """The provider-neutral turn loop. Each `act` adds the observation (with the results of the
    calls made last turn), asks the model, and validates its calls; a reply with no valid call is
    sent back as an error up to `max_repairs` times, and every problem lands in AgentStep.errors."""

    provider: str = "llm"

    def __init__(
        self,
        model: str,
        *,
        vision: bool = False,
        context_budget: int = 60_000,
        keep_observations: int = 3,
        max_repairs: int = 2,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.model = model
        self.name = f"{self.provider}:{model}"
        self.vision = vision
        self.context_budget = context_budget
        self.keep_observations = max(1, keep_observations)
        self.max_repairs = max(0, max_repairs)
        self.prices = dict(prices or {})
        self._secrets: list[str] = []
        self.base_url: str | None = None
        self.usage = Usage()
        self._reset_state()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def _credentials(self, api_key_env: str, base_url: str | None) -> str:
        """The API key for the SDK client (a placeholder for a local server that needs none);
        the key and any password in `base_url` are registered so no log or repr shows them."""
        key = key_from_env(api_key_env, needed=base_url is None)
        self.base_url = base_url
        self._secrets = [s for s in (key, url_secret(base_url)) if s]
        for s in self._secrets:
            register_secret(s)
        return key or LOCAL_PLACEHOLDER_KEY

    def _reset_state(self) -> None:
        self.usage = Usage()
        self._started = False
        self._tool_names: set[str] = set()
        self._pending: list[str] = []
        self._pending_errors: dict[str, str] = {}
        self._trimmers: list[Callable[[], None]] = []
        self._reported: list[str] = []
        self._reset_messages()

    async def reset(self) -> None:
        """Forget the previous episode's conversation and usage."""
        self._reset_state()

    # -- provider hooks -------------------------------------------------------------------
    @abstractmethod
    def _reset_messages(self) -> None: ...

    @abstractmethod
    def _begin(self, system: str, tools: list[ToolSpec]) -> None:
        """Set the system prompt and the tool schemas for the episode."""

    @abstractmethod
    def _add_observation(self, obs: Observation, results: list[tuple[str, str, bool]]) -> None:
        """Append the results of last turn's calls (id, text, is_error) and the observation; must
        register a trimmer (see `_register_trimmer`) for the bulky parts."""

    @abstractmethod
    def _add_feedback(self, reply: Reply, problems: list[tuple[RawCall | None, str]]) -> None:
        """Tell the model at once why its reply was rejected (error tool results / a user message)."""

    @abstractmethod
    async def _complete(self) -> Reply:
        """Send the conversation, append the assistant's message, return it normalised."""

    @abstractmethod
    def _messages(self) -> list[Any]: ...

    # -- shared machinery -----------------------------------------------------------------
    def _register_trimmer(self, trim: Callable[[], None]) -> None:
        self._trimmers.append(trim)

    def _trim(self) -> None:
        """Blank old observations (oldest first, keeping the last few) until under the budget."""
        while (
            len(self._trimmers) > self.keep_observations
            and estimate_tokens(self._messages()) > self.context_budget
        ):
            self._trimmers.pop(0)()

    def _cost(self, input_tokens: int, output_tokens: int) -> Usage:
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd(self.model, input_tokens, output_tokens, self.prices),
            requests=1,
        )

    def _validate(self, reply: Reply) -> tuple[list[ToolCall], list[tuple[RawCall | None, str]]]:
        calls: list[ToolCall] = []
        problems: list[tuple[RawCall | None, str]] = []
        for raw in reply.calls:
            if raw.name not in self._tool_names:
                known = ", ".join(sorted(self._tool_names))
                problems.append((raw, f"unknown tool '{raw.name}'. Available tools: {known}"))
                continue
            try:
                args = ToolRegistry.parse_args(raw.args)
            except ToolCallError as e:
                problems.append((raw, f"{raw.name}: {e}"))
                continue
            calls.append(ToolCall(id=raw.id, name=raw.name, args=args))
        if not reply.calls:
            problems.append((None, NO_CALL))
        return calls, problems

    def _without_echoes(self, obs: Observation) -> Observation:
        """The observation minus the runner's "Tool error: ..." notices for errors this agent
        already sent back to the model (so the model does not read them twice)."""
        echoes = {f"Tool error: {e}" for e in self._reported}
        self._reported = []
        if not echoes or not any(n in echoes for n in obs.notices):
            return obs
        return obs.model_copy(update={"notices": [n for n in obs.notices if n not in echoes]})

    def _results_for_pending(self, obs: Observation) -> list[tuple[str, str, bool]]:
        by_id = {r.call_id: r for r in obs.last_results}
        out: list[tuple[str, str, bool]] = []
        for cid in self._pending:
            if cid in self._pending_errors:
                out.append((cid, f"Error: {self._pending_errors[cid]}", True))
            elif cid in by_id:
                r = by_id[cid]
                out.append((cid, result_text(r), not r.ok or r.error is not None))
            else:
                out.append((cid, "(this call was not executed)", True))
        self._pending, self._pending_errors = [], {}
        return out

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        """One turn: show the observation, get a valid tool call (repairing bad replies)."""
        if not self._started:
            self._begin(system_prompt(observation.brief), list(observation.brief.tools))
            self._tool_names = {t.name for t in observation.brief.tools}
            self._started = True
        self._add_observation(self._without_echoes(observation),
                              self._results_for_pending(observation))
        errors: list[str] = []
        usage = Usage()
        reply = Reply(text=None)
        for _ in range(self.max_repairs + 1):
            self._trim()
            reply = await self._complete()
            usage = usage.add(reply.usage)
            calls, problems = self._validate(reply)
            errors.extend(msg for _, msg in problems)
            if calls:
                self._pending = [c.id for c in calls] + [r.id for r, _ in problems if r]
                self._pending_errors = {r.id: msg for r, msg in problems if r}
                self.usage = self.usage.add(usage)
                self._reported = list(errors)
                return AgentStep(calls=calls, text=reply.text or None, usage=usage, errors=errors)
            self._add_feedback(reply, problems)
        self.usage = self.usage.add(usage)
        self._reported = list(errors)
        return AgentStep(calls=[], text=reply.text or None, usage=usage, errors=errors)

    async def aclose(self) -> None:
        """Release the provider client's connections (subclasses close their SDK client)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def describe_error(self, exc: BaseException) -> str:
        """An SDK error as one line, with every known secret masked."""
        return scrub(f"{type(exc).__name__}: {exc}", self._secrets)

    @staticmethod
    def dumps(value: Any) -> str:
        """Compact JSON, non-ASCII kept (arguments echoed back to the model)."""
        return json.dumps(value, ensure_ascii=False)
