"""Scoring speed: a full Scorecard (every §4 metric, 1000 scenario-bootstrap resamples, suite /
agent / category breakdowns) against two floors measured in the same run: one plain pass computing
the point estimates, and the bootstrap alone (numpy only: the resample draws, one product per
card, the ratios and one sort, for as many rates as the cards hold). Times are CPU seconds of this
process (BLAS runs on one thread), so a loaded machine does not move the ratios much."""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentsafe.models import CheckResult, EpisodeResult, Verdict
from agentsafe.report import render
from agentsafe.scoring import Rate, Scorecard, score

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


def bootstrapped(card: Scorecard) -> Iterator[Scorecard]:
    """A scorecard and every breakdown slice score() bootstraps (a slice holding all of its
    parent's episodes is a copy of it, not bootstrapped again)."""
    yield card
    total = card.episodes + card.infra_errors
    for group in (card.by_suite, card.by_agent, card.by_category):
        for sub in group.values():
            if sub.episodes + sub.infra_errors < total:
                yield from bootstrapped(sub)


def interval_shape(card: Scorecard) -> list[tuple[int, int]]:
    """(scenarios, rates with an interval) of every bootstrapped card: the bootstrap's work."""
    out = []
    for c in bootstrapped(card):
        fields = c.__dict__.values()
        rates = [v for v in fields if isinstance(v, Rate)]
        rates += [r for d in fields if isinstance(d, dict) for r in d.values() if isinstance(r, Rate)]
        out.append((c.scenarios, sum(r.ci_low is not None for r in rates)))
    return out


def per_scenario_sums(shape: list[tuple[int, int]]) -> list[np.ndarray]:
    """Stand-ins for each card's per-scenario numerators and denominators (scenarios x 2 rates)."""
    rng = np.random.default_rng(1)
    return [rng.random((size, 2 * k)) + 1.0 for size, k in shape]


def bootstrap_floor(sums: list[np.ndarray], n_boot: int = 1000, seed: int = 0) -> None:
    """The bootstrap alone, numpy only: one resample-count matrix per distinct scenario count,
    per card one product of it with the rates' per-scenario numerators and denominators, the
    ratios, then one sort of every rate's resampled ratios (no Python per rate)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for size in {len(x) for x in sums}:
        draws = rng.integers(0, size, size=(n_boot, size), dtype=np.int32)
        flat = draws + (size * np.arange(n_boot, dtype=np.int64))[:, None]
        weights[size] = np.bincount(flat.ravel(), minlength=n_boot * size).reshape(
            n_boot, size).astype(np.float64)
    rows = []
    for x in sums:
        k = x.shape[1] // 2
        prod = weights[len(x)] @ x
        rows.append((prod[:, :k] / prod[:, k:]).T)
    np.concatenate(rows).sort(axis=1)


def timed(fn, repeat: int) -> float:
    """Median CPU seconds of `fn` (this process: other load on the machine barely counts)."""
    samples = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return statistics.median(samples)


def main() -> None:
    print(f"{'case (CPU time)':<56} {'measured':>10} {'floor':>10} {'ratio':>8}  target")
    for scenarios, trials in [(100, 3), (400, 5), (2000, 5)]:
        results = synthetic(scenarios, trials)
        n = len(results)
        card = score(results, n_boot=1000, seed=0)
        shape = interval_shape(card)
        base = timed(lambda rs=results: floor(rs), 9)
        full = timed(lambda rs=results: score(rs, n_boot=1000, seed=0), 5)
        sums = per_scenario_sums(shape)
        with threadpool_limits(1, "blas"):
            boot = timed(lambda x=sums: bootstrap_floor(x), 5)
        k = sum(r for _, r in shape)
        print(f"{f'score(): {n} episodes, {scenarios} scenarios':<56} {full * 1e3:>8.1f}ms "
              f"{base * 1e3:>8.1f}ms {full / base:>7.1f}x  <= 10x from 2,000 episodes; <= 1 s at 10k")
        print(f"{f'  bootstrap floor: 1,000 resamples x {k} rates, {len(shape)} cards':<56} "
              f"{boot * 1e3:>8.1f}ms {base * 1e3:>8.1f}ms {boot / base:>7.1f}x  (numpy only)")
        both = base + boot
        print(f"{'  score() / (one pass + bootstrap floor)':<56} {full * 1e3:>8.1f}ms "
              f"{both * 1e3:>8.1f}ms {full / both:>7.1f}x  <= 3x")
        rend = timed(lambda c=card: render(c, "table"), 3)
        print(f"{f'render(table): {n} episodes':<56} {rend * 1e3:>8.1f}ms {'-':>10} {'-':>8}  "
              f"interactive (< 0.5 s)")

if __name__ == "__main__":
    main()
