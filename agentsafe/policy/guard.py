"""Guard mode as a library: check an agent's proposed tool call against policies before it runs,
with no sandbox and no runner. Wrap any agent's tool executor with `Guard.check` / `Guard.record`.

    guard = Guard.from_yaml(["policies/os.yaml"], secrets={"aws": "AKIA..."})
    decision = guard.check("shell", {"command": "rm -rf ~"})
    if not decision.allowed:
        tell_agent(decision.message)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentsafe.models.events import Event, EventKind, Target
from agentsafe.models.policy import Policy, Verdict
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult
from agentsafe.policy.engine import GuardDecision, PolicyEngine
from agentsafe.policy.library import load_policy_file

#: tags of the common tools, so callers need not pass them
DEFAULT_TAGS: dict[str, list[str]] = {
    "ask_user": ["user"],
    "send_message": ["user"],
    "finish": ["user", "terminal"],
    "refuse": ["user", "terminal"],
}


class Guard:
    """A policy engine in guard mode around your own agent. `check` before each call; `record`
    what happened (results, user answers, messages) so stateful rules (consent, counts) see it;
    `verdicts()` at the end for the same per-policy verdicts a benchmark run would give."""

    def __init__(
        self,
        policies: Iterable[Policy],
        *,
        secrets: Mapping[str, str] | None = None,
        tool_tags: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.engine = PolicyEngine(list(policies), secrets=dict(secrets or {}), mode="guard")
        self.tool_tags: dict[str, list[str]] = {
            **DEFAULT_TAGS,
            **{k: list(v) for k, v in (tool_tags or {}).items()},
        }
        self.step = 0
        self._calls: dict[str, ToolCall] = {}

    @classmethod
    def from_yaml(cls, paths: str | Path | Iterable[str | Path], **kw: Any) -> Guard:
        """Load policies from YAML files in the policies/ layout (`policies: [...]`)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        policies = [p for path in paths for p, _line in load_policy_file(path)]
        return cls(policies, **kw)

    def _tags(self, tool: str, tags: Sequence[str] | None) -> list[str]:
        return list(tags) if tags is not None else self.tool_tags.get(tool, [])

    def check(
        self,
        tool: str,
        args: Mapping[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
        url: str | None = None,
        target_text: str | None = None,
        target_role: str | None = None,
        call_id: str | None = None,
    ) -> GuardDecision:
        """May this call run now? Not allowed when it would violate a blocking policy; the
        decision's `message` names each such policy and its description for the agent."""
        self.step += 1
        call = ToolCall(name=tool, args=dict(args or {}), **({"id": call_id} if call_id else {}))
        self._calls[call.id] = call
        target = (
            Target(text=target_text, role=target_role) if (target_text or target_role) else None
        )
        ev = Event(
            step=self.step,
            kind=EventKind.call,
            call=call,
            tags=self._tags(tool, tags),
            target=target,
            url=url,
        )
        decision = self.engine.check(ev)
        self.engine.observe(
            ev if decision.allowed else ev.model_copy(update={"kind": EventKind.blocked})
        )
        return decision

    def record(
        self,
        tool: str,
        args: Mapping[str, Any] | None = None,
        *,
        ok: bool = True,
        output: str = "",
        error: str | None = None,
        tags: Sequence[str] | None = None,
        url: str | None = None,
        target_text: str | None = None,
        target_role: str | None = None,
    ) -> None:
        """Record that a call ran (successfully or not), so later checks and verdicts see it."""
        call = ToolCall(name=tool, args=dict(args or {}))
        target = (
            Target(text=target_text, role=target_role) if (target_text or target_role) else None
        )
        res = ToolResult(call_id=call.id, ok=ok and error is None, output=output, error=error)
        self.engine.observe(
            Event(
                step=self.step,
                kind=EventKind.result,
                call=call,
                tags=self._tags(tool, tags),
                result=res,
                target=target,
                url=url,
                text=output if res.ok else (error or output),
            )
        )

    def record_answer(self, question: str, consent: bool, reply: str = "") -> None:
        """Record the user's answer to a question: consent for `require_consent_before` rules."""
        self.engine.observe(
            Event(
                step=self.step,
                kind=EventKind.user_answer,
                text=reply,
                data={"question": question, "consent": consent},
            )
        )
        self.record("ask_user", {"question": question}, output=reply)

    def record_event(self, event: Event) -> None:
        """Feed any raw event (navigation, egress, observation text...)."""
        self.engine.observe(event)

    def verdicts(
        self, final_state: StateSnapshot | None = None, finished: bool = True
    ) -> list[Verdict]:
        """One verdict per policy for everything recorded so far."""
        return self.engine.finalize(final_state, None, finished)
