"""`agentsafe suite stats` (counts, policy density, baseline separation from stored runs) and
`agentsafe run --sample N` (a stratified sample keeping category and dimension proportions)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentsafe.cli import app
from agentsafe.models import CheckResult, EpisodeResult, Verdict
from agentsafe.models.scenario import RiskLabels
from agentsafe.runner.run import resolve_all
from agentsafe.sampling import stratified_sample, stratum
from agentsafe.scenarios import load_file
from agentsafe.store import RunPlan, Store
from agentsafe.suite_stats import compute, separation

DATA = Path(__file__).parent / "data"
SMALL = DATA / "matrix_small.yaml"
runner = CliRunner()


def test_counts_and_policy_density() -> None:
    scs = load_file(SMALL)
    stats = compute(scs, resolve_all(scs))
    assert stats.scenarios == 17 and stats.security_cases == 15
    by = {c.name: c.n for c in stats.by_template}
    assert by == {"important-instructions": 5, "encoded": 5, "tool-knowledge": 5}
    assert {c.name: c.n for c in stats.by_carrier} == {"file": 6, "email": 6, "command_output": 3}
    assert {c.name: c.n for c in stats.by_kind} == {"os": 17}
    assert {c.name: c.n for c in stats.by_tier} == {"untiered": 17}
    (os_, all_) = stats.policies
    assert os_.kind == "os" and all_.kind == "all" and os_.tasks == 17
    # injection goals are not counted as policy instances
    expected = sum(len([p for p in resolve_all(scs)[s.id] if not p.id.startswith("injection:")]) for s in scs)
    assert os_.instances == expected and os_.per_task == round(expected / 17, 2)
    assert sum(os_.by_dimension.values()) == expected


def _ep(agent: str, sid: str, completed: bool, violated: bool, run: str) -> EpisodeResult:
    verdicts = [Verdict(policy_id="p", dimension="user_consent", source="user", severity="high", status="violated")] if violated else []
    return EpisodeResult(run_id=run, scenario_id=sid, agent=agent, status="finished",
                         checks=[CheckResult(name="c", passed=completed)], verdicts=verdicts,
                         risk=RiskLabels())


def _store(tmp_path: Path, table: dict[str, dict[str, tuple[bool, bool]]]) -> Store:
    store = Store(tmp_path / "r.sqlite")
    for agent, outcomes in table.items():
        plan = RunPlan(run_id=f"run-{agent}", agent=agent, scenario_paths=[], scenario_ids=list(outcomes))
        store.create_run(plan)
        for sid, (done, bad) in outcomes.items():
            store.save_episode(_ep(agent, sid, done, bad, plan.run_id))
    return store


def test_separation_lists_scenarios_where_the_baselines_agree(tmp_path) -> None:
    store = _store(tmp_path, {
        "careful": {"a": (True, False), "b": (False, False), "c": (True, False)},
        "reckless": {"a": (True, True), "b": (False, False), "c": (True, False)},
        "idle": {"a": (False, False), "b": (False, False), "c": (False, False)},
        "refuse": {"a": (False, False), "b": (False, False)},
    })
    sep = separation(store, ["a", "b", "c"])
    assert (sep.compared, sep.differing) == (2, 1) and sep.share == 0.5
    assert sep.not_differing == ["b"]
    assert sep.careful_not_above_reckless == ["b"]
    assert sep.missing == {"refuse": 1}
    assert sep.runs == {"careful": "run-careful", "reckless": "run-reckless", "idle": "run-idle",
                        "refuse": "run-refuse"}


def test_separation_reads_the_newest_run(tmp_path) -> None:
    store = _store(tmp_path, {a: {"a": (False, False)} for a in ("careful", "reckless", "idle", "refuse")})
    assert separation(store, ["a"]).not_differing == ["a"]
    newer = RunPlan(run_id="run-careful-2", agent="careful", scenario_paths=[], scenario_ids=["a"])
    store.create_run(newer)
    store.save_episode(_ep("careful", "a", True, False, "run-careful-2"))
    sep = separation(store, ["a"])
    assert sep.differing == 1 and sep.runs["careful"] == "run-careful-2"


def test_stratified_sample_keeps_proportions() -> None:
    base = load_file(SMALL)
    scs = []
    for i in range(100):  # 60 / 30 / 10 over three strata
        cat, dim = ("a", "user_consent") if i < 60 else ("b", "strict_execution") if i < 90 else ("c", "error_handling")
        s = base[0].model_copy(update={"id": f"s{i}", "risk": RiskLabels(category=cat, dimensions=[dim])})
        scs.append(s)
    sample = stratified_sample(scs, 20, seed=1)
    assert Counter(stratum(s)[0] for s in sample) == {"a": 12, "b": 6, "c": 2}
    assert [s.id for s in sample] == sorted((s.id for s in sample), key=lambda x: int(x[1:]))
    assert [s.id for s in stratified_sample(scs, 20, seed=1)] == [s.id for s in sample]
    assert [s.id for s in stratified_sample(scs, 20, seed=2)] != [s.id for s in sample]
    odd = stratified_sample(scs, 7, seed=0)  # quotas 4.2 / 2.1 / 0.7: the remainder goes to c
    assert Counter(stratum(s)[0] for s in odd) == {"a": 4, "b": 2, "c": 1}
    assert len(stratified_sample(scs, 500)) == 100
    with pytest.raises(ValueError):
        stratified_sample(scs, 0)


def test_cli_suite_stats_json(tmp_path) -> None:
    r = runner.invoke(app, ["suite", "stats", str(SMALL), "--db", str(tmp_path / "x.sqlite"),
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["scenarios"] == 17 and doc["separation"]["compared"] == 0
    assert doc["separation"]["missing"]["careful"] == 17


@pytest.mark.bwrap
def test_cli_suite_stats_runs_the_baselines(tmp_path) -> None:
    r = runner.invoke(app, ["suite", "stats", str(SMALL), "--db", str(tmp_path / "x.sqlite"),
                            "--run-baselines"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "outcomes differ on 17/17 scenarios (100.0%)" in r.output
    assert "careful not separated" not in r.output
    assert "Scenarios per attack template" in r.output and "per task" in r.output


@pytest.mark.bwrap
def test_cli_run_sample(tmp_path) -> None:
    db = tmp_path / "x.sqlite"
    r = runner.invoke(app, ["run", str(SMALL), "--sample", "4", "--db", str(db), "--run-id", "s",
                            "--format", "none", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "4 scenarios" in r.output and Store(db).count("s") == 4
    bad = runner.invoke(app, ["run", str(SMALL), "--sample", "0", "--db", str(db)])
    assert bad.exit_code == 2 and "at least 1" in bad.output
