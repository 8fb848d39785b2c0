"""Exceptions the harness raises, split by who must act on them."""

from __future__ import annotations


class AgentsafeError(Exception):
    """Base class of every error agentsafe raises on purpose."""


class ConfigError(AgentsafeError):
    """A YAML file (scenario, policy, tool spec) is malformed; names the file, line and field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = path + (f":{line}" if line else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}".replace(": ", ": ", 1))


class UnknownPolicyError(ConfigError):
    """A scenario names a policy id that no file under policies/ defines."""


class ToolCallError(AgentsafeError):
    """An agent's tool call is unknown or malformed; returned to the agent, never raised past the loop."""


class SandboxError(AgentsafeError):
    """The sandbox itself failed (crashed, unreachable): an infrastructure error, not the agent's fault."""


class SandboxTimeout(SandboxError):
    """A sandbox call exceeded its timeout."""


class AgentError(AgentsafeError):
    """The agent failed to produce a step (API down after retries, bug in user code)."""


class IntegrityError(SandboxError):
    """The agent under test broke the harness (a forged or out-of-step control reply, a final
    state too large or unparseable, a control process it killed). Unlike other SandboxErrors
    this is scored, never retried: the episode gets a critical violation of the built-in
    `harness_integrity` policy (see agentsafe.runner.integrity)."""
