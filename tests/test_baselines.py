"""The four baseline agents on a stratified sample of the built-in suites get the values each
metric's definition implies (DESIGN.md §4 sanity rule): careful CuP, harm prevention and safe
completion 1.00 with over-refusal 0; refuse-all harm prevention 1.00 and over-refusal 1.00;
idle harm prevention 0. A wrong label or a wrong metric breaks one of these."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from agentsafe.agents.loader import make_agent
from agentsafe.models.scenario import Scenario
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.run import execute_run
from agentsafe.scenarios import load_scenarios
from agentsafe.scoring import score
from agentsafe.store import RunPlan, Store

AGENTS = ("careful", "reckless", "idle", "refuse")


def stratified(kinds: tuple[str, ...]) -> list[Scenario]:
    """One hand-written scenario per (kind, level, safe behaviour), plus the twin of each
    high-risk pick so over-refusal has a population; attack-matrix cases are left out."""
    scenarios = [s for s in load_scenarios([SCENARIOS_DIR / k for k in kinds])
                 if "attack-matrix" not in s.tags and ".tier" not in s.id]
    by_id = {s.id: s for s in scenarios}
    picked: dict[tuple[str, str, str | None], Scenario] = {}
    for s in sorted(scenarios, key=lambda s: (s.risk.twin is None, s.id)):  # twinned first
        picked.setdefault((s.kind, s.risk.level, s.risk.safe_behaviour), s)
    out = {s.id: s for s in picked.values()}
    for s in list(out.values()):
        if s.risk.level == "high" and s.risk.twin in by_id:
            out.setdefault(s.risk.twin, by_id[s.risk.twin])
    return list(out.values())


def run_baselines(scenarios: list[Scenario], db: Path) -> dict:
    store = Store(db)
    cards = {}
    for agent in AGENTS:
        plan = RunPlan(run_id=f"base-{agent}", agent=agent, scenario_paths=[str(SCENARIOS_DIR)],
                       scenario_ids=[s.id for s in scenarios], max_episodes=2)
        store.create_run(plan)
        anyio.run(lambda p=plan, a=agent: execute_run(p, store, scenarios, lambda: make_agent(a),
                                                       progress=False))
        results = store.episodes(plan.run_id)
        assert not [r for r in results if r.status in ("infra_error", "agent_error")], agent
        cards[agent] = score(results, n_boot=0)
    return cards


def assert_baselines(cards: dict) -> None:
    careful, reckless, idle, refuse = (cards[a] for a in AGENTS)
    assert careful.cup.value == 1.0, careful.cup
    assert careful.harm_prevention.value == 1.0, careful.harm_prevention
    assert careful.safe_completion.value == 1.0, careful.safe_completion
    assert careful.over_refusal.value == 0.0, careful.over_refusal
    assert refuse.harm_prevention.value == 1.0, refuse.harm_prevention
    assert refuse.over_refusal.value == 1.0, refuse.over_refusal
    assert refuse.helpfulness.value == 0.0 and refuse.safe_completion.value == 0.0
    assert idle.harm_prevention.value == 0.0, idle.harm_prevention
    assert idle.over_refusal.value == 0.0
    # the reckless agent is the floor of harm prevention and safe completion
    assert reckless.harm_prevention.value == 0.0, reckless.harm_prevention
    assert reckless.safe_completion.value is not None and reckless.safe_completion.value < 1.0


@pytest.mark.bwrap
def test_four_baselines_on_a_stratified_os_sample(tmp_path: Path) -> None:
    sample = stratified(("os",))
    strata = {(s.risk.level, s.risk.safe_behaviour) for s in sample}
    assert {("high", "refuse"), ("high", "ask"), ("high", "ignore_injection"),
            ("low", "complete_under_policy")} <= strata
    assert_baselines(run_baselines(sample, tmp_path / "r.sqlite"))


@pytest.mark.browser
def test_four_baselines_on_a_stratified_web_and_mobile_sample(tmp_path: Path) -> None:
    sample = stratified(("web", "mobile"))
    assert {s.kind for s in sample} == {"web", "mobile"}
    assert_baselines(run_baselines(sample, tmp_path / "r.sqlite"))


DORMANCY = {  # scenario -> its policy that used to charge an agent for not acting
    "mobile.private.location-mom": "task.location-only-mom",
    "web/forge/delete-sandbox-project": "forge.delete-only-sandbox",
    "web/shop/partial-refund-once": "shop.refund-exactly-once",
    "web/crm/export-permission-error": "crm.report-permission-error",
    "web/crm/case-update-fault": "crm.report-save-failure",
    "web/mail/send-failure": "mail.report-send-failure",
    "web/forge/merge-failed-pipeline": "forge.report-merge-block",
    "web/forge/protected-branch-error": "forge.report-protected",
}


@pytest.mark.browser
def test_doing_nothing_is_never_a_violation_of_a_success_criterion(tmp_path: Path) -> None:
    """Success criteria are checks, and "report the error" fires only after an error: the idle
    and refuse agents break none of these policies (each was violated by doing nothing)."""
    sample = [s for s in load_scenarios([SCENARIOS_DIR]) if s.id in DORMANCY]
    assert len(sample) == len(DORMANCY)
    store = Store(tmp_path / "r.sqlite")
    for agent in ("idle", "refuse"):
        plan = RunPlan(run_id=agent, agent=agent, scenario_paths=[str(SCENARIOS_DIR)],
                       scenario_ids=[s.id for s in sample], max_episodes=2)
        store.create_run(plan)
        anyio.run(lambda p=plan, a=agent: execute_run(p, store, sample, lambda: make_agent(a),
                                                       progress=False))
        for r in store.episodes(agent):
            status = {v.policy_id: v.status for v in r.verdicts}[DORMANCY[r.scenario_id]]
            assert status != "violated", (agent, r.scenario_id)
            assert not r.completed, (agent, r.scenario_id)  # the success checks still fail
