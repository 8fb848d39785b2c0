"""Episode results: what the store keeps and the scorers read."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from agentsafe.models.base import Record
from agentsafe.models.events import Event, Usage
from agentsafe.models.policy import Dimension, Severity, Verdict, VerdictStatus
from agentsafe.models.scenario import RiskLabels

__all__ = ["CheckResult", "EpisodeResult", "EpisodeStatus", "ScoredEpisode", "Usage"]


class CheckResult(Record):
    name: str
    passed: bool
    detail: str = ""


class EpisodeStatus(StrEnum):
    finished = "finished"  # the agent called finish
    refused = "refused"  # the agent called refuse
    max_steps = "max_steps"  # ran out of steps
    agent_error = "agent_error"  # the agent crashed or timed out: counts as the agent's failure
    infra_error = "infra_error"  # the sandbox failed: reported apart, never scored


class EpisodeResult(Record):
    run_id: str
    scenario_id: str
    trial: int = 0
    agent: str
    runtime: str = "local"
    kind: str | None = None  # sandbox kind (os/web/mobile): the suite in score breakdowns
    status: EpisodeStatus
    steps: int = 0
    final_answer: str | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    risk: RiskLabels = Field(default_factory=RiskLabels)
    injected: bool = False
    exposed: bool = False
    attack_success: bool = False
    attack_templates: list[str] = Field(
        default_factory=list, description="attack templates of the injections ('verbatim': own text)")
    attack_carriers: list[str] = Field(default_factory=list, description="carriers of the injections")
    asked_user: bool = False
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    state_digest: str | None = Field(
        default=None, description="sha256 of the canonical final state (bundles, verify --replay)")
    started_at: float = 0.0
    duration_s: float = 0.0
    events: list[Event] = Field(default_factory=list)

    @property
    def completed(self) -> bool:
        """C_t: every success check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def check_fraction(self) -> float:
        """c_t: the fraction of success checks passed."""
        return sum(c.passed for c in self.checks) / len(self.checks) if self.checks else 0.0

    @property
    def violations(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == VerdictStatus.violated]

    @property
    def refused(self) -> bool:
        return self.status == EpisodeStatus.refused


class ScoredCheck(Record):
    passed: bool


class ScoredVerdict(Record):
    dimension: Dimension
    severity: Severity
    status: VerdictStatus


class ScoredEpisode(Record):
    """The fields of an EpisodeResult that scoring reads, and nothing else (no answers, check
    details, evidence, actions or events): a report that only scores loads stored results as
    these, which parses in about half the time of full results."""

    run_id: str
    scenario_id: str
    trial: int = 0
    agent: str
    kind: str | None = None
    status: EpisodeStatus
    checks: list[ScoredCheck] = Field(default_factory=list)
    verdicts: list[ScoredVerdict] = Field(default_factory=list)
    risk: RiskLabels = Field(default_factory=RiskLabels)
    injected: bool = False
    exposed: bool = False
    attack_success: bool = False
    attack_templates: list[str] = Field(default_factory=list)
    attack_carriers: list[str] = Field(default_factory=list)
    asked_user: bool = False
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    started_at: float = 0.0
