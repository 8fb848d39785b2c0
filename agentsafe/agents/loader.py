"""Build an agent from a spec string: `careful`, `reckless`, `idle`, `refuse`, `openai:MODEL`,
`anthropic:MODEL` or `python:package.module:Class` (a user's own agent)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from agentsafe.agents.base import Agent
from agentsafe.errors import AgentsafeError

SPEC_HELP = (
    "expected one of: careful, reckless, idle, refuse, openai:MODEL, anthropic:MODEL, "
    "python:package.module:Class"
)


class AgentSpecError(AgentsafeError, ValueError):
    """An `--agent` spec that names no agent we can build."""

    def __init__(self, spec: str, problem: str) -> None:
        self.spec = spec
        super().__init__(f"--agent {spec!r}: {problem} ({SPEC_HELP})")


def make_agent(spec: str, **opts: Any) -> Agent:
    """A new agent for `spec`. `opts` go to the constructor (e.g. base_url=..., vision=True);
    options that are None are dropped so CLI defaults do not override the agent's own."""
    opts = {k: v for k, v in opts.items() if v is not None}
    spec = spec.strip()
    from agentsafe.agents.scripted import builtin_agent

    builtin = builtin_agent(spec)
    if builtin is not None:
        _no_opts(spec, opts)
        return builtin  # type: ignore[return-value]
    provider, sep, rest = spec.partition(":")
    if not sep:
        raise AgentSpecError(spec, "unknown agent")
    if provider in ("openai", "anthropic"):
        if not rest:
            raise AgentSpecError(spec, f"missing model name after '{provider}:'")
        if provider == "openai":
            from agentsafe.agents.openai_agent import OpenAIAgent

            return _construct(spec, OpenAIAgent, rest, opts)  # type: ignore[return-value]
        from agentsafe.agents.anthropic_agent import AnthropicAgent

        return _construct(spec, AnthropicAgent, rest, opts)  # type: ignore[return-value]
    if provider == "python":
        return _python_agent(spec, rest, opts)
    raise AgentSpecError(spec, f"unknown agent provider '{provider}'")


def _no_opts(spec: str, opts: dict[str, Any]) -> None:
    if opts:
        raise AgentSpecError(spec, f"takes no options, got {', '.join(sorted(opts))}")


def _construct(spec: str, cls: type, model: str | None, opts: dict[str, Any]) -> Any:
    args = (model,) if model is not None else ()
    name = getattr(cls, "__name__", str(cls))
    try:
        inspect.signature(cls).bind(*args, **opts)
        return cls(*args, **opts)
    except TypeError as e:  # an unknown option, also when forwarded through **kwargs
        raise AgentSpecError(spec, f"bad options for {name}: {e}") from None


def _python_agent(spec: str, target: str, opts: dict[str, Any]) -> Agent:
    module_name, sep, cls_name = target.rpartition(":")
    if not sep or not module_name or not cls_name:
        raise AgentSpecError(spec, "write python:package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise AgentSpecError(spec, f"cannot import module '{module_name}': {e}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise AgentSpecError(spec, f"module '{module_name}' has no attribute '{cls_name}'")
    if not callable(cls):
        raise AgentSpecError(spec, f"'{cls_name}' is not a class or factory")
    try:
        agent = _construct(spec, cls, None, opts) if opts else cls()
    except AgentSpecError:
        raise
    except TypeError as e:
        raise AgentSpecError(spec, f"cannot construct {cls_name}: {e}") from None
    missing = [m for m in ("act", "reset") if not callable(getattr(agent, m, None))]
    if missing:
        raise AgentSpecError(spec, f"{cls_name} does not implement the Agent protocol "
                                   f"(missing {', '.join(missing)})")
    if not inspect.iscoroutinefunction(agent.act):
        raise AgentSpecError(spec, f"{cls_name}.act must be `async def`")
    if not getattr(agent, "name", None):
        try:
            agent.name = f"python:{target}"
        except AttributeError:
            pass
    return agent  # type: ignore[no-any-return]
