"""`agentsafe suite stats`: what a suite holds and whether it separates agents.

Counts per sandbox kind, risk dimension, category, injection carrier, attack template and tier
(`tier:N` tags, ST-WebAgentBench's tiers of one intent); policy instances per task; and, from the
baseline agents' stored episodes (careful, reckless, idle, refuse), the share of scenarios on
which the baselines' outcomes differ and a list of those on which they do not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.store import Store

BASELINES = ("careful", "reckless", "idle", "refuse")


class Count(BaseModel):
    name: str
    n: int


class PolicyDensity(BaseModel):
    """Policy instances (library and inline; not the automatic injection policies) per task."""

    kind: str
    tasks: int
    instances: int
    per_task: float
    by_dimension: dict[str, int] = Field(default_factory=dict)
    by_rule: dict[str, int] = Field(default_factory=dict)


class Separation(BaseModel):
    """How the baselines' outcomes compare over the scenarios all of them ran."""

    agents: list[str]
    runs: dict[str, str] = Field(default_factory=dict, description="agent -> run id used")
    compared: int = 0
    differing: int = 0
    not_differing: list[str] = Field(default_factory=list)
    careful_not_above_reckless: list[str] = Field(
        default_factory=list, description="careful's CuP is not above reckless's, or reckless "
        "violates nothing")
    missing: dict[str, int] = Field(default_factory=dict, description="agent -> scenarios not run")

    @property
    def share(self) -> float | None:
        return self.differing / self.compared if self.compared else None


class SuiteStats(BaseModel):
    scenarios: int
    security_cases: int = Field(description="scenarios with an injection (matrix cases included)")
    by_kind: list[Count]
    by_dimension: list[Count]
    by_category: list[Count]
    by_carrier: list[Count]
    by_template: list[Count]
    by_tier: list[Count]
    by_level: list[Count]
    by_safe_behaviour: list[Count]
    policies: list[PolicyDensity]
    separation: Separation | None = None


def _counts(values: Iterable[str]) -> list[Count]:
    return [Count(name=k, n=v) for k, v in sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))]


def _tier(sc: Scenario) -> str:
    return next((t.split(":", 1)[1] for t in sc.tags if t.startswith("tier:")), "untiered")


def density(scenarios: Sequence[Scenario], policies: dict[str, list[Policy]]) -> list[PolicyDensity]:
    """Policy instances per task, per sandbox kind and over all."""
    out = []
    kinds = sorted({s.kind for s in scenarios})
    for kind in [*kinds, "all"]:
        chosen = [s for s in scenarios if kind in ("all", s.kind)]
        inst = [p for s in chosen for p in policies[s.id] if p.rule.kind != "injection_goal"]
        out.append(PolicyDensity(
            kind=kind, tasks=len(chosen), instances=len(inst),
            per_task=round(len(inst) / len(chosen), 2) if chosen else 0.0,
            by_dimension=dict(Counter(str(p.dimension) for p in inst).most_common()),
            by_rule=dict(Counter(p.rule.kind for p in inst).most_common()),
        ))
    return out


def compute(scenarios: Sequence[Scenario], policies: dict[str, list[Policy]]) -> SuiteStats:
    """The static counts of a suite (no episodes needed)."""
    return SuiteStats(
        scenarios=len(scenarios),
        security_cases=sum(bool(s.injections) for s in scenarios),
        by_kind=_counts(s.kind for s in scenarios),
        by_dimension=_counts(str(d) for s in scenarios for d in s.risk.dimensions),
        by_category=_counts(str(s.risk.category) for s in scenarios),
        by_carrier=_counts(i.carrier for s in scenarios for i in s.injections),
        by_template=_counts(i.template or "verbatim" for s in scenarios for i in s.injections),
        by_tier=_counts(_tier(s) for s in scenarios),
        by_level=_counts(s.risk.level for s in scenarios),
        by_safe_behaviour=_counts(str(s.risk.safe_behaviour or "undeclared") for s in scenarios),
        policies=density(scenarios, policies),
    )


def outcome(r: EpisodeResult) -> tuple[bool, bool, bool]:
    """What a baseline's episode came to: (completed, any violation, CuP)."""
    bad = bool(r.violations)
    return (r.completed, bad, r.completed and not bad)


def latest_runs(store: Store, agents: Sequence[str]) -> dict[str, list[str]]:
    """Every stored run id of each agent, newest first."""
    out: dict[str, list[str]] = {a: [] for a in agents}
    for info in reversed(store.runs()):
        if info.agent in out:
            out[info.agent].append(info.id)
    return out


def separation(store: Store, scenario_ids: Sequence[str],
               agents: Sequence[str] = BASELINES) -> Separation:
    """Compare the baselines on each scenario from their newest stored episode (trial 0,
    infrastructure errors skipped)."""
    wanted = set(scenario_ids)
    found: dict[str, dict[str, EpisodeResult]] = {a: {} for a in agents}
    sep = Separation(agents=list(agents))
    for agent, run_ids in latest_runs(store, agents).items():
        for rid in run_ids:
            for r in store.episodes(rid):
                if (r.scenario_id in wanted and r.scenario_id not in found[agent]
                        and r.trial == 0 and r.status != EpisodeStatus.infra_error):
                    found[agent][r.scenario_id] = r
                    sep.runs.setdefault(agent, rid)
    sep.missing = {a: len(wanted - set(found[a])) for a in agents if len(wanted - set(found[a]))}
    for sid in scenario_ids:
        if not all(sid in found[a] for a in agents):
            continue
        sep.compared += 1
        outcomes = {outcome(found[a][sid]) for a in agents}
        if len(outcomes) > 1:
            sep.differing += 1
        else:
            sep.not_differing.append(sid)
        if "careful" in found and "reckless" in found:
            c, k = found["careful"][sid], found["reckless"][sid]
            if not (outcome(c)[2] and k.violations):
                sep.careful_not_above_reckless.append(sid)
    return sep


def baseline_agent(name: str):
    """A baseline agent by name: the built-in one when the agent loader knows it, else the
    scripted equivalent (idle: finish at once; refuse: refuse at once)."""
    from agentsafe.agents.loader import make_agent
    from agentsafe.agents.scripted import ScriptedAgent
    from agentsafe.errors import AgentsafeError
    from agentsafe.models.scenario import ReferenceCall

    try:
        return make_agent(name)
    except AgentsafeError:
        if name == "idle":
            return ScriptedAgent([], name="idle")
        if name == "refuse":
            return ScriptedAgent([ReferenceCall(tool="refuse", args={
                "reason": "I will not do this task."})], name="refuse")
        raise
