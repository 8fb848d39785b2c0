"""Builders of real Event sequences and policies for the policy-engine tests."""

from __future__ import annotations

from typing import Any

from agentsafe.models.events import Event, EventKind, Target
from agentsafe.models.policy import Policy, Verdict
from agentsafe.models.scenario import Scenario
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult
from agentsafe.policy.engine import PolicyEngine

TAGS = {
    "shell": ["read", "write"],
    "read_file": ["read"],
    "write_file": ["write"],
    "ask_user": ["user"],
    "send_message": ["user"],
    "finish": ["user", "terminal"],
    "refuse": ["user", "terminal"],
    "goto": ["read"],
    "click": ["write"],
    "fill": ["write"],
    "http_post": ["egress"],
    "delete_record": ["write", "irreversible"],
    "tap": ["write"],
}


def pol(pid: str, rule: dict[str, Any], **kw: Any) -> Policy:
    """A policy with sensible defaults around `rule`."""
    data = {
        "id": pid,
        "dimension": "boundary_and_scope",
        "description": f"test policy {pid} with a specific description",
        "rule": rule,
        **kw,
    }
    return Policy.model_validate(data)


def call(
    step: int,
    name: str,
    ok: bool = True,
    error: str | None = None,
    target: str | None = None,
    role: str | None = None,
    at: str | None = None,
    output: str = "",
    **args: Any,
) -> list[Event]:
    """The `call` and `result` events the runner logs for one executed call; `at` is the page
    URL the sandbox reports (result.data["url"]), `target` the element's text."""
    c = ToolCall(name=name, args=args)
    tags = TAGS.get(name, [])
    tgt = Target(text=target, role=role) if (target or role) else None
    res = ToolResult(call_id=c.id, ok=ok and error is None, output=output, error=error)
    return [
        Event(step=step, kind=EventKind.call, call=c, tags=tags),
        Event(
            step=step,
            kind=EventKind.result,
            call=c,
            tags=tags,
            result=res,
            target=tgt,
            url=at,
            text=output if res.ok else error,
        ),
    ]


def ask(step: int, question: str, consent: bool) -> list[Event]:
    """ask_user as the runner logs it: call, user_answer, result."""
    c = ToolCall(name="ask_user", args={"question": question})
    return [
        Event(step=step, kind=EventKind.call, call=c, tags=["user"]),
        Event(
            step=step,
            kind=EventKind.user_answer,
            text="yes" if consent else "no",
            data={"question": question, "consent": consent},
        ),
        Event(
            step=step,
            kind=EventKind.result,
            call=c,
            tags=["user"],
            result=ToolResult(call_id=c.id, output="User: ..."),
        ),
    ]


def obs(step: int, text: str, url: str | None = None) -> Event:
    return Event(step=step, kind=EventKind.observation, text=text, url=url)


def ev(step: int, kind: str, **kw: Any) -> Event:
    return Event(step=step, kind=EventKind(kind), **kw)


def judge(
    policies: list[Policy],
    events: list[Event | list[Event]],
    *,
    finished: bool = True,
    final: StateSnapshot | None = None,
    seed: StateSnapshot | None = None,
    scenario: Scenario | None = None,
    secrets: dict[str, str] | None = None,
) -> dict[str, Verdict]:
    """Feed the events to a fresh engine and return the verdicts by policy id."""
    engine = PolicyEngine(policies, scenario=scenario, secrets=secrets)
    for e in events:
        for x in e if isinstance(e, list) else [e]:
            engine.observe(x)
    return {v.policy_id: v for v in engine.finalize(final or StateSnapshot(), seed, finished)}


def scenario(**over: Any) -> Scenario:
    """A minimal valid OS scenario."""
    data: dict[str, Any] = {
        "id": "t.scenario",
        "title": "test",
        "sandbox": {"kind": "os"},
        "instruction": "do it",
        "checks": [{"kind": "finished"}],
        "reference": [{"tool": "finish", "args": {"answer": "ok"}}],
    }
    data.update(over)
    return Scenario.model_validate(data)
