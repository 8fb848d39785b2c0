"""The one-pass scorer gives exactly the card of the straightforward recomputation it replaced
(tests/scoring_reference.py), on varied samples: every value, count and interval bound equal."""

from __future__ import annotations

import random

import numpy as np
import pytest
import scoring_reference as reference

from agentsafe.models import CheckResult, EpisodeResult, Verdict
from agentsafe.models.results import ScoredEpisode
from agentsafe.scoring import _draw_weights, score, score_by_agent

DIMS = ["user_consent", "boundary_and_scope", "strict_execution", "hierarchy_adherence",
        "robustness_and_security", "error_handling"]
TEMPLATES = ["verbatim", "urgent-admin", "fake-system", "polite-ask", "tool-hijack"]
CARRIERS = ["email", "readme", "sms", "web-comment", "notification", "file-name"]


def varied(seed: int, scenarios: int = 60) -> list[EpisodeResult]:
    """Episodes covering every branch the scorer has: several agents and runs, uneven trials,
    infra and agent errors, kinds set or derived, fractional check passes, every verdict status
    and severity, twins, declared and derived safe behaviours, attack labels, float costs."""
    rnd = random.Random(seed)
    out = []
    for s in range(scenarios):
        suite = ("os", "web", "mobile", "misc")[s % 4]
        sid = f"{suite}/s{s}" if suite != "misc" else f"custom.s{s}"
        level = rnd.choice(["high", "high", "low", "none"])
        behaviour = rnd.choice([None, "refuse", "ask", "complete_under_policy", "ignore_injection"])
        category = rnd.choice(["privacy", "finance", "destructive", "injection"])
        injected = rnd.random() < 0.5
        for agent in rnd.sample(["careful", "reckless", "idle"], rnd.randint(1, 3)):
            for t in range(rnd.randint(1, 5)):
                status = rnd.choice(["finished", "finished", "refused", "max_steps",
                                     "agent_error", "infra_error"])
                out.append(EpisodeResult(
                    run_id=rnd.choice(["r1", "r2"]), scenario_id=sid, trial=t, agent=agent,
                    kind=rnd.choice([None, suite if suite != "misc" else "os"]),
                    status=status,
                    error=rnd.choice(["Timeout after 30 s\ntrace", "boom", None])
                    if status == "agent_error" else None,
                    checks=[CheckResult(name=f"c{i}", passed=rnd.random() < 0.7)
                            for i in range(rnd.randint(0, 5))],
                    verdicts=[Verdict(policy_id=f"p{i}", dimension=rnd.choice(DIMS),
                                      source="organization",
                                      severity=rnd.choice(["low", "medium", "high", "critical"]),
                                      status=rnd.choice(["violated", "satisfied", "dormant",
                                                         "overridden"]))
                              for i in range(rnd.randint(0, 7))],
                    injected=injected, exposed=injected and rnd.random() < 0.8,
                    attack_success=injected and rnd.random() < 0.3,
                    attack_templates=rnd.sample(TEMPLATES, rnd.randint(0, 2)) if injected else [],
                    attack_carriers=rnd.sample(CARRIERS, rnd.randint(0, 3)) if injected else [],
                    asked_user=rnd.random() < 0.3,
                    usage={"input_tokens": rnd.randint(0, 5000), "output_tokens": rnd.randint(0, 900),
                           "cost_usd": rnd.random() / 7, "requests": rnd.randint(0, 9)},
                    started_at=rnd.random() * 1e6,
                    risk={"level": level, "twin": f"x{s}" if level != "high" and s % 3 else None,
                          "category": category, "safe_behaviour": behaviour},
                ))
    rnd.shuffle(out)
    return out


@pytest.mark.parametrize(("seed", "kwargs"), [
    (0, {}),
    (1, {"n_boot": 200, "seed": 7}),
    (2, {"n_boot": 0}),
    (3, {"ks": [1, 3, 9], "n_boot": 300}),
])
def test_fast_card_equals_reference_card(seed: int, kwargs: dict) -> None:
    rows = varied(seed)
    fast, slow = score(rows, **kwargs), reference.score(rows, **kwargs)
    assert fast.model_dump() == slow.model_dump()
    # the sample reaches every breakdown, so the comparison above covers them
    assert len(fast.by_agent) == 3 and len(fast.by_suite) >= 3 and len(fast.by_category) == 4
    assert fast.asr_by_template and fast.asr_by_carrier and fast.agent_errors and fast.infra_errors
    assert any(r.ci_low is not None for r in fast.pass_hat_k.values()) == (kwargs.get("n_boot") != 0)


def test_fast_card_equals_reference_per_agent_and_on_edges() -> None:
    rows = varied(4, scenarios=25)
    fast = score_by_agent(rows, n_boot=100)
    slow = reference.score_by_agent(rows, n_boot=100)
    assert {a: c.model_dump() for a, c in fast.items()} == {a: c.model_dump() for a, c in slow.items()}
    only_infra = [r for r in rows if r.status == "infra_error"][:5]
    for sample in ([], only_infra, rows[:1]):
        assert score(sample).model_dump() == reference.score(sample).model_dump()


def test_weights_drawn_as_int32_equal_the_int64_draw() -> None:
    for size, n_boot, seed in [(1, 10, 0), (37, 1000, 3), (2000, 50, 11)]:
        draws = np.random.default_rng(seed).integers(0, size, size=(n_boot, size))
        flat = (draws + size * np.arange(n_boot)[:, None]).ravel()
        expected = np.bincount(flat, minlength=n_boot * size).reshape(n_boot, size)
        assert np.array_equal(_draw_weights(size, n_boot, seed), expected)


def test_scored_view_gives_the_card_of_full_results() -> None:
    # reports load stored results as ScoredEpisode (only what scoring reads): same card
    rows = varied(5, scenarios=30)
    slim = [ScoredEpisode.model_validate_json(r.model_dump_json()) for r in rows]
    assert score(slim, n_boot=100).model_dump() == score(rows, n_boot=100).model_dump()
