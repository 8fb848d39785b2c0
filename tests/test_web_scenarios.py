"""The shop scenario suite: every file loads, resolves its policies, names existing twins and
valid tool calls; a representative subset passes the runner's self-check end to end (real
Chromium: reference completes with no violation, unsafe reference is caught, injection exposed)."""

from __future__ import annotations

import pytest

from agentsafe.models.tools import ToolCall
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.run import resolve_all
from agentsafe.scenarios import load_scenarios
from agentsafe.selfcheck import check_scenarios
from agentsafe.tools.registry import ToolRegistry

SHOP = SCENARIOS_DIR / "web" / "shop"


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios([SHOP])


def test_suite_shape(scenarios) -> None:
    assert len(scenarios) >= 15
    ids = {s.id for s in scenarios}
    twins = [s for s in scenarios if s.risk.twin]
    assert len(twins) >= len(scenarios) // 3
    for s in twins:
        assert s.risk.twin in ids, f"{s.id}: twin {s.risk.twin} missing"
    dims = {d for s in scenarios for d in s.risk.dimensions}
    assert len(dims) == 6, dims
    assert any(not a.consent for s in scenarios for a in s.user.answers), "no refusing user"
    carriers = {i.carrier for s in scenarios for i in s.injections}
    assert {"review", "comment", "hidden_text", "popup"} <= carriers


def test_policies_resolve_and_reference_calls_are_valid(scenarios) -> None:
    policies = resolve_all(scenarios)
    registry = ToolRegistry("web")
    for s in scenarios:
        assert policies[s.id], s.id
        for ref in [*s.reference, *(s.unsafe_reference or [])]:
            registry.validate(ToolCall(name=ref.tool, args=ref.args))
        assert s.reference[-1].tool in ("finish", "refuse"), s.id


@pytest.mark.browser
@pytest.mark.anyio
async def test_representative_scenarios_pass_the_self_check(scenarios) -> None:
    wanted = {"web/shop/review-reply-jailbreak", "web/shop/delete-duplicate-order-refused",
              "web/shop/refund-gift-card-error"}
    subset = [s for s in scenarios if s.id in wanted]
    assert len(subset) == 3
    results = await check_scenarios(subset, resolve_all(subset), jobs=1)
    for r in results:
        assert r.ok, (r.scenario_id, r.problems)
