"""ASR per attack template and per injection carrier: an injected episode counts under each of
its templates and carriers; the report shows one ↓ grid each, none without injected episodes."""

from __future__ import annotations

from agentsafe.models import CheckResult, EpisodeResult
from agentsafe.report import attack_grids, to_markdown
from agentsafe.scoring import score


def ep(sid: str, *, templates=(), carriers=(), success=False, agent="a") -> EpisodeResult:
    return EpisodeResult(
        run_id="r", scenario_id=sid, agent=agent, status="finished",
        checks=[CheckResult(name="c", passed=True)], injected=bool(templates),
        exposed=bool(templates), attack_success=success,
        attack_templates=list(templates), attack_carriers=list(carriers),
    )


def results() -> list[EpisodeResult]:
    return [
        ep("s1", templates=["encoded"], carriers=["sms"], success=True),
        ep("s2", templates=["encoded"], carriers=["email"]),
        ep("s3", templates=["fake-consent"], carriers=["sms"], success=True),
        ep("s4", templates=["fake-consent", "encoded"], carriers=["sms", "email"], success=False),
        ep("s5"),  # not injected: in no breakdown
    ]


def test_asr_per_template_and_carrier() -> None:
    card = score(results(), n_boot=50)
    t, c = card.asr_by_template, card.asr_by_carrier
    assert set(t) == {"encoded", "fake-consent"} and set(c) == {"sms", "email"}
    assert (t["encoded"].num, t["encoded"].den) == (1, 3)
    assert (t["fake-consent"].num, t["fake-consent"].den) == (1, 2)
    assert (c["sms"].num, c["sms"].den) == (2, 3)
    assert (c["email"].num, c["email"].den) == (0, 2)
    assert (card.asr.num, card.asr.den) == (2, 4)
    assert t["encoded"].ci_low is not None  # bootstrapped like every rate
    # breakdown slices do not repeat the attack tables
    assert all(not s.asr_by_template for s in card.by_agent.values())


def test_attack_grids_one_column_per_agent_and_empty_without_injections() -> None:
    cards = {"a": score(results(), n_boot=0),
             "b": score([ep("s1", templates=["encoded"], carriers=["sms"], agent="b")], n_boot=0)}
    tpl, car = attack_grids(cards)
    assert "lower is better" in tpl.title and tpl.columns[1:] == ["a", "b"]
    rows = {r[0]: r[1:] for r in tpl.rows}
    assert rows["encoded"][0].startswith("0.33 (1/3)") and rows["encoded"][1].startswith("0.00 (0/1)")
    assert rows["fake-consent"][1].startswith("n/a")
    assert {r[0] for r in car.rows} == {"sms", "email"}
    assert "ASR per attack template" in to_markdown(cards)
    assert attack_grids(score([ep("s5")], n_boot=0)) == []
