"""The shipped suite, in `make test`: every scenario loads and resolves its policies, and a
stratified sample (category and dimension proportions kept) passes the full self-check. The
whole suite is self-checked by `make check` (`agentsafe check scenarios`)."""

from __future__ import annotations

import os

import pytest

from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.run import resolve_all
from agentsafe.sampling import stratified_sample
from agentsafe.scenarios import load_scenarios
from agentsafe.selfcheck import check_scenarios

SAMPLE = int(os.environ.get("AGENTSAFE_SUITE_SAMPLE", "12"))
SEED = int(os.environ.get("AGENTSAFE_SUITE_SEED", "0"))


@pytest.fixture(scope="module")
def suite():
    return load_scenarios([SCENARIOS_DIR])


def test_whole_suite_loads_and_resolves(suite) -> None:
    policies = resolve_all(suite)
    assert len(suite) >= 300
    assert all(policies[s.id] for s in suite)
    twins = {s.risk.twin for s in suite if s.risk.twin}
    assert twins <= {s.id for s in suite}, twins - {s.id for s in suite}


@pytest.mark.browser
@pytest.mark.bwrap
@pytest.mark.anyio
async def test_stratified_sample_passes_the_self_check(suite) -> None:
    sample = stratified_sample(suite, SAMPLE, seed=SEED)
    assert {s.kind for s in sample} == {"os", "web", "mobile"}
    results = await check_scenarios(sample, resolve_all(sample), jobs=2)
    failed = {r.scenario_id: r.problems for r in results if not r.ok}
    assert not failed, failed
