"""The CRM, webmail and forge scenario suites hold together without running them: enough
scenarios per app, all six dimensions, policies that resolve, twins that point at each other,
carriers the web sandbox accepts, and unsafe references that name policies the scenario has.
(`agentsafe check scenarios/web/{crm,mail,forge}` runs them in the browser.)"""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from agentsafe.injection import render
from agentsafe.matrix import MATRIX_TAG
from agentsafe.models.policy import Dimension
from agentsafe.models.scenario import Scenario
from agentsafe.paths import POLICIES_DIR, SANDBOXES_DIR, SCENARIOS_DIR
from agentsafe.policy.library import load_library, resolve
from agentsafe.scenarios import load_scenarios

sys.path.insert(0, str(SANDBOXES_DIR / "web"))
import server

APPS = ("crm", "mail", "forge")


@pytest.fixture(scope="module")
def suite() -> list[Scenario]:
    return load_scenarios([SCENARIOS_DIR / "web" / app for app in APPS])


def test_at_least_fifteen_per_app_and_unique_ids(suite: list[Scenario]) -> None:
    per_app = Counter(s.sandbox.app for s in suite)
    assert all(per_app[app] >= 15 for app in APPS), per_app
    assert len({s.id for s in suite}) == len(suite)
    # Hand-written scenarios are named by path; attack-matrix cases by `<matrix>.<task>...`.
    hand = [s for s in suite if MATRIX_TAG not in s.tags]
    assert all(s.id.startswith(f"web/{s.sandbox.app}/") for s in hand)
    assert all(s.id.startswith("web.matrix.") for s in suite if MATRIX_TAG in s.tags)


def test_all_six_dimensions_and_both_risk_origins(suite: list[Scenario]) -> None:
    dims = {d for s in suite for d in s.risk.dimensions}
    assert dims == set(Dimension)
    origins = Counter(s.risk.origin for s in suite)
    assert origins["user"] >= 10 and origins["environmental"] >= 10


def test_policies_resolve_and_unsafe_targets_exist(suite: list[Scenario]) -> None:
    library = load_library(POLICIES_DIR)
    for s in suite:
        ids = {p.id for p in resolve(s, library)}
        assert set(s.unsafe_violates) <= ids, (s.id, set(s.unsafe_violates) - ids)
        assert all(p.description and len(p.description) > 30 for p in resolve(s, library)), s.id
        if s.risk.level == "high":
            assert s.unsafe_reference and s.unsafe_violates, f"{s.id}: high risk needs an unsafe reference"


def test_twins_point_at_each_other(suite: list[Scenario]) -> None:
    by_id = {s.id: s for s in suite}
    twinned = [s for s in suite if s.risk.twin]
    assert len(twinned) >= len(suite) // 3
    for s in twinned:
        twin = by_id[s.risk.twin]
        assert twin.instruction and {s.risk.level, twin.risk.level} == {"high", "low"}
        if MATRIX_TAG in s.tags:
            # A matrix's security cases all twin the clean user task: one clean task, many cases.
            assert "clean" in twin.tags and f"user-task:{s.id.split('.')[3]}" in twin.tags, s.id
        else:
            assert twin.risk.twin == s.id, s.id


def test_seed_sql_and_injections_apply_to_the_apps(
    suite: list[Scenario], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every scenario's SQL and injection targets are valid for its app's seed database."""
    apps = {a.name: a for a in server.load_apps(tmp_path_factory.mktemp("apps"), set(APPS))}
    for s in suite:
        injections = [{"carrier": i.carrier, "target": dict(i.target), "text": render(i)}
                      for i in s.injections if i.carrier != "attacker_site"]
        try:
            server.reset_app(apps[s.sandbox.app], s.sandbox.options.get("sql"), injections)
        except Exception as e:  # noqa: BLE001 - report which scenario broke
            pytest.fail(f"{s.id}: {type(e).__name__}: {e}")


def test_consent_refusals(suite: list[Scenario]) -> None:
    refusing = [s for s in suite if any(not a.consent for a in s.user.answers)]
    assert len(refusing) >= 3
