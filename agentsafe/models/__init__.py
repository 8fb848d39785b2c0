"""Typed values that cross every boundary of the harness (pydantic v2)."""

from agentsafe.models.checks import Check
from agentsafe.models.events import AgentStep, EpisodeBrief, Event, EventKind, Observation, Target
from agentsafe.models.matchers import ArgPredicate, Matcher
from agentsafe.models.policy import (
    Dimension,
    Policy,
    Rule,
    Severity,
    Source,
    Verdict,
    VerdictStatus,
)
from agentsafe.models.results import CheckResult, EpisodeResult, EpisodeStatus, Usage
from agentsafe.models.scenario import Injection, ReferenceCall, RiskLabels, SandboxSpec, Scenario
from agentsafe.models.state import FileState, StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec

__all__ = [
    "AgentStep", "ArgPredicate", "Check", "CheckResult", "Dimension", "EpisodeBrief",
    "EpisodeResult", "EpisodeStatus", "Event", "EventKind", "FileState", "Injection", "Matcher",
    "Observation", "Policy", "ReferenceCall", "RiskLabels", "Rule", "SandboxSpec", "Scenario",
    "Severity", "Source", "StateSnapshot", "Target", "ToolCall", "ToolResult", "ToolSpec", "Usage",
    "Verdict", "VerdictStatus",
]
