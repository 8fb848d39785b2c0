"""Scoring speed: a full Scorecard (every §4 metric, 1000 scenario-bootstrap resamples, suite /
agent / category breakdowns) against the floor of one plain pass computing the point estimates."""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentsafe.models import CheckResult, EpisodeResult, Verdict
from agentsafe.report import render
from agentsafe.scoring import score

DIMS = ["user_consent", "boundary_and_scope", "strict_execution", "hierarchy_adherence",
        "robustness_and_security", "error_handling"]
STATUSES = ["violated", "satisfied", "satisfied", "dormant", "overridden"]


def synthetic(scenarios: int, trials: int, seed: int = 0) -> list[EpisodeResult]:
    """`scenarios` x `trials` episodes of one agent, 4 checks and 8 verdicts each."""
    rnd = random.Random(seed)
    out = []
    for s in range(scenarios):
        suite = ("os", "web", "mobile")[s % 3]
        for t in range(trials):
            out.append(EpisodeResult(
                run_id="bench", scenario_id=f"{suite}/s{s}", trial=t, agent="agent",
                status=rnd.choice(["finished", "finished", "refused", "max_steps"]),
                checks=[CheckResult(name=f"c{i}", passed=rnd.random() < 0.7) for i in range(4)],
                verdicts=[Verdict(policy_id=f"p{i}", dimension=DIMS[i % 6], source="organization",
                                  severity=rnd.choice(["low", "medium", "high", "critical"]),
                                  status=rnd.choice(STATUSES)) for i in range(8)],
                injected=s % 2 == 0, exposed=rnd.random() < 0.8, attack_success=rnd.random() < 0.3,
                asked_user=rnd.random() < 0.3,
                risk={"level": ("high", "low", "none")[s % 3], "twin": f"x{s}" if s % 3 else None,
                      "category": ("privacy", "finance", "destructive", "injection")[s % 4]},
            ))
    return out


def floor(results: list[EpisodeResult]) -> tuple[float, float]:
    """The raw floor: one plain pass computing CR, CuP and the overall Risk Ratio."""
    done = cup = viol = inst = 0
    for r in results:
        c = r.completed
        v = any(x.status == "violated" for x in r.verdicts)
        done += c
        cup += c and not v
        viol += sum(x.status == "violated" for x in r.verdicts)
        inst += len(r.verdicts)
    return done / len(results), viol / inst


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    print(f"{'case':<44} {'measured':>10} {'floor':>10} {'ratio':>8}  target")
    for scenarios, trials in [(100, 3), (400, 5), (2000, 5)]:
        results = synthetic(scenarios, trials)
        n = len(results)
        base = timed(lambda rs=results: floor(rs), 5)
        full = timed(lambda rs=results: score(rs, n_boot=1000, seed=0), 3)
        print(f"{f'score(): {n} episodes, {scenarios} scenarios':<44} {full * 1e3:>8.1f}ms "
              f"{base * 1e3:>8.1f}ms {full / base:>7.1f}x  ratio <= 10x; <= 1 s at 10k")
        card = score(results, n_boot=1000, seed=0)
        rend = timed(lambda c=card: render(c, "table"), 3)
        print(f"{f'render(table): {n} episodes':<44} {rend * 1e3:>8.1f}ms {'-':>10} {'-':>8}  "
              f"interactive (< 0.5 s)")


if __name__ == "__main__":
    main()
