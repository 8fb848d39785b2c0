"""Suite shape for effect-based verdicts (web and mobile): every harm to data has a `state` rule
(or an injection goal read from the final state), every high-risk scenario has at least two
unsafe variants by other routes, and every policy a variant names exists in its scenario.
`agentsafe check` proves the variants really trip those rules; this file keeps the suite from
silently losing them. Web attack-matrix cases are held to the same bar (their goals declare
variants by other UI paths and their `.clean` tasks carry state rules); mobile matrix cases are
still left out here."""

from __future__ import annotations

import pytest

from agentsafe.models.policy import Policy
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.run import resolve_all
from agentsafe.scenarios import load_scenarios

# Harms that are not data: a secret typed into the chat (no_leak on messages), URLs visited
# (navigation rules), an error the agent must report (report_error).
NOT_DATA = {
    "web/crm/reveal-api-key", "web/shop/smtp-password-request", "web/shop/refund-gift-card-error",
    "web/mail/newsletter-outside-link", "web/shop/customer-phone-scope",
    # errors the agent must surface (report_error rules): the harm is silence, not data
    "web/crm/case-update-fault", "web/crm/export-permission-error",
    "web/forge/merge-failed-pipeline", "web/mail/send-failure",
}


@pytest.fixture(scope="module")
def suite():
    scs = [s for s in load_scenarios([SCENARIOS_DIR / "web", SCENARIOS_DIR / "mobile"])
           if "/mobile/matrix/" not in (s.source_path or "")]
    return scs, resolve_all(scs)


def _has_state_rule(sc, policies: list[Policy]) -> bool:
    return (any(p.rule.kind == "state" for p in policies)
            or any(i.goal.check is not None for i in sc.injections))


def test_every_harm_to_data_has_a_state_rule(suite) -> None:
    scs, pols = suite
    missing = [s.id for s in scs if s.id not in NOT_DATA and not _has_state_rule(s, pols[s.id])]
    assert not missing, f"no state rule for the harm: {missing}"
    # the exemption list only names scenarios that exist and still lack one
    ids = {s.id: s for s in scs}
    assert all(i in ids and not _has_state_rule(ids[i], pols[i]) for i in NOT_DATA)


def test_every_high_risk_scenario_has_two_unsafe_variants(suite) -> None:
    scs, _ = suite
    few = [s.id for s in scs if s.risk.level == "high" and len(s.unsafe_variants) < 2]
    assert not few, f"fewer than 2 unsafe_variants: {few}"


def test_variants_name_policies_of_their_scenario(suite) -> None:
    scs, pols = suite
    for s in scs:
        known = {p.id for p in pols[s.id]} | {f"injection:{i.id}" for i in s.injections}
        names = [v.name for v in s.unsafe_variants]
        assert len(names) == len(set(names)), f"{s.id}: duplicate variant names"
        for v in s.unsafe_variants:
            unknown = set(v.violates) - known
            assert not unknown, f"{s.id} variant {v.name}: unknown policies {unknown}"
            assert len(v.calls) <= s.max_steps, f"{s.id} variant {v.name}: longer than max_steps"


def test_web_matrix_cases_are_in_the_suite(suite) -> None:
    scs, _ = suite
    web_matrix = [s for s in scs if "/web/" in (s.source_path or "") and "/matrix/" in (s.source_path or "")]
    assert web_matrix, "web attack-matrix cases are no longer checked here"
    assert all(s.unsafe_variants for s in web_matrix if s.injections)


def test_os_user_scenarios_have_four_routes_and_twins_an_unsafe_reference() -> None:
    """OS user-originated risks (issue: every high-risk OS scenario has >= 4 unsafe variants by
    other routes); each low-risk twin there has an unsafe reference, so careful and reckless
    differ; variants name policies of their own scenario."""
    scs = load_scenarios([SCENARIOS_DIR / "os" / "user"])
    pols = resolve_all(scs)
    few = [s.id for s in scs if s.risk.level == "high" and len(s.unsafe_variants) < 4]
    assert not few, f"fewer than 4 unsafe_variants: {few}"
    assert [s.id for s in scs if s.risk.level != "high" and not s.unsafe_reference] == []
    for s in scs:
        known = {p.id for p in pols[s.id]}
        assert len({v.name for v in s.unsafe_variants}) == len(s.unsafe_variants), s.id
        for v in s.unsafe_variants:
            assert set(v.violates) <= known, f"{s.id} variant {v.name}: {set(v.violates) - known}"


# ---------------------------------------------------------------- OS suite (attack matrix included)
@pytest.fixture(scope="module")
def os_suite():
    scs = load_scenarios([SCENARIOS_DIR / "os"])
    return scs, resolve_all(scs)


def _calls(v) -> tuple:
    return tuple((c.tool, repr(sorted(c.args.items()))) for c in v.calls)


def test_every_high_risk_os_scenario_has_four_unsafe_variants_by_different_routes(os_suite) -> None:
    """Issue 9: at least 4 unsafe variants per high-risk OS scenario, each a different call list
    (another flag spelling, find, python, perl, another tool), over the whole OS suite."""
    scs, _ = os_suite
    few = {s.id: len({_calls(v) for v in s.unsafe_variants}) for s in scs
           if s.risk.level == "high" and len({_calls(v) for v in s.unsafe_variants}) < 4}
    assert not few, f"fewer than 4 distinct unsafe_variants: {few}"


def test_os_variants_name_policies_of_their_scenario(os_suite) -> None:
    scs, pols = os_suite
    for s in scs:
        known = {p.id for p in pols[s.id]} | {f"injection:{i.id}" for i in s.injections}
        names = [v.name for v in s.unsafe_variants]
        assert len(names) == len(set(names)), f"{s.id}: duplicate variant names"
        for v in s.unsafe_variants:
            assert v.violates, f"{s.id} variant {v.name}: names no policy"
            unknown = set(v.violates) - known
            assert not unknown, f"{s.id} variant {v.name}: unknown policies {unknown}"


def test_os_injection_goals_are_judged_by_effect_or_state(os_suite) -> None:
    """A goal decided by a command regex sees one spelling; every OS goal reads effects or the
    final state, so any route to the harm counts (docs/attack-matrix.md)."""
    scs, _ = os_suite
    spelled = sorted({f"{s.id}:{i.id}" for s in scs for i in s.injections
                      if i.goal.effect is None and i.goal.check is None})
    assert not spelled, f"goals judged only by a call regex: {spelled}"
