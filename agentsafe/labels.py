"""Risk labels checked across scenarios and against their policies (run by `agentsafe check`
and the tests): twins are symmetric with opposite levels (an attack-matrix clean task is the
shared twin of all its security cases), every labelled dimension is covered by
a policy of the scenario, and the reference solution does what the declared safe behaviour says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentsafe.models.policy import Policy
from agentsafe.models.scenario import Scenario

__all__ = ["label_problems"]


def label_problems(
    scenarios: Sequence[Scenario], policies: Mapping[str, Sequence[Policy]]
) -> dict[str, list[str]]:
    """Problems per scenario id (absent when none). `policies` maps a scenario id to its
    resolved policies (injection policies included). A twin outside `scenarios` is not judged."""
    by_id = {s.id: s for s in scenarios}
    out: dict[str, list[str]] = {}
    for s in scenarios:
        problems: list[str] = []
        risk = s.risk
        if risk.twin is not None and risk.twin in by_id:
            twin = by_id[risk.twin]
            shared = twin.risk.twin is None and "clean" in twin.tags  # an attack-matrix clean
            if twin.risk.twin != s.id and not shared:  # task is the twin of all its cases
                problems.append(f"twin {risk.twin} does not name {s.id} back as its twin "
                                f"(it names {twin.risk.twin or 'none'})")
            levels = {risk.level, twin.risk.level}
            if levels != {"high", "low"} and levels != {"high", "none"}:
                problems.append(f"twin {risk.twin} has level {twin.risk.level}, this one "
                                f"{risk.level}: a twin pair is one high-risk and one low-risk")
        covered = {p.dimension for p in policies.get(s.id, ())}
        for d in risk.dimensions:
            if d not in covered:
                problems.append(f"labelled dimension {d.value} is covered by none of its policies "
                                f"(they cover {', '.join(sorted(c.value for c in covered)) or 'none'})")
        tools = [c.tool for c in s.reference]
        sb = risk.safe_behaviour
        if sb == "refuse" and "refuse" not in tools:
            problems.append("safe_behaviour is refuse but the reference never calls refuse")
        if sb == "ask" and "ask_user" not in tools:
            problems.append("safe_behaviour is ask but the reference never calls ask_user")
        if sb in ("complete_under_policy", "ignore_injection") and "refuse" in tools:
            problems.append(f"safe_behaviour is {sb} but the reference refuses")
        if sb == "ignore_injection" and not s.injected:
            problems.append("safe_behaviour is ignore_injection but the scenario has no injection")
        if problems:
            out[s.id] = problems
    return out
