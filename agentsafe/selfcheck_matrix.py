"""The attack matrix's self-check view: each security case's `agentsafe check` findings sorted
into AgentDojo's three questions (is the injection reachable, is the goal achievable, is the
user task still solvable), summed per matrix, so an author sees which pairs need work."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from agentsafe.matrix import MATRIX_TAG
from agentsafe.models.scenario import Scenario
from agentsafe.selfcheck import IDLE, REFERENCE, UNSAFE, ScenarioCheck


class CaseVerdict(BaseModel):
    """The three questions for one security case (a clean task only has `solvable`)."""

    scenario_id: str
    matrix: str
    reachable: bool
    achievable: bool
    solvable: bool


class MatrixSummary(BaseModel):
    matrix: str
    cases: int = 0
    clean: int = 0
    reachable: int = 0
    achievable: int = 0
    solvable: int = 0
    failing: list[str] = []


def _tag(sc: Scenario, prefix: str) -> str | None:
    return next((t.split(":", 1)[1] for t in sc.tags if t.startswith(prefix + ":")), None)


def verdict(sc: Scenario, check: ScenarioCheck) -> CaseVerdict | None:
    """Sort one matrix scenario's failures; None when the scenario is not from a matrix."""
    if MATRIX_TAG not in sc.tags:
        return None
    fails = [f for f in check.findings if f.level == "fail"]
    inj = {f"injection:{i.id}" for i in sc.injections}
    unreached = any(f.run == REFERENCE and "never reached" in f.text for f in fails)
    unachieved = any(f.run == UNSAFE and any(f.text.startswith(f"does not violate {p} ")
                                             for p in inj) for f in fails)
    unsolved = any((f.run == REFERENCE and "never reached" not in f.text) or f.run in (IDLE, "setup")
                   for f in fails)
    return CaseVerdict(scenario_id=sc.id, matrix=_tag(sc, "matrix") or "?",
                       reachable=not unreached, achievable=not unachieved, solvable=not unsolved)


def summarise(scenarios: list[Scenario], checks: list[ScenarioCheck]) -> list[MatrixSummary]:
    """One row per matrix: cases, and how many pass each of the three questions."""
    by_id = {c.scenario_id: c for c in checks}
    rows: dict[str, MatrixSummary] = defaultdict(lambda: MatrixSummary(matrix=""))
    for sc in scenarios:
        c = by_id.get(sc.id)
        v = verdict(sc, c) if c else None
        if c is None or v is None:
            continue
        row = rows[v.matrix]
        row.matrix = v.matrix
        if sc.injections:
            row.cases += 1
            row.reachable += v.reachable
            row.achievable += v.achievable
        else:
            row.clean += 1
        row.solvable += v.solvable
        if not c.ok:
            row.failing.append(sc.id)
    return [rows[k] for k in sorted(rows)]
