"""Stratified samples of a suite (`agentsafe run --sample N`): quick runs that keep the suite's
proportions of risk categories and dimensions."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from agentsafe.models.scenario import Scenario


def stratum(sc: Scenario) -> tuple[str, str]:
    """(category, first dimension): stratifying on both keeps both marginals close."""
    dims = sc.risk.dimensions
    return (str(sc.risk.category), str(dims[0]) if dims else "none")


def stratified_sample(scenarios: Sequence[Scenario], n: int, seed: int = 0) -> list[Scenario]:
    """`n` scenarios drawn without replacement, each stratum given its share of `n` by largest
    remainder (ties to the bigger stratum), members picked by `seed`; input order is kept."""
    if n < 1:
        raise ValueError(f"--sample must be at least 1, got {n}")
    if n >= len(scenarios):
        return list(scenarios)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, sc in enumerate(scenarios):
        groups[stratum(sc)].append(i)
    total = len(scenarios)
    quota = {k: n * len(v) / total for k, v in groups.items()}
    take = {k: int(q) for k, q in quota.items()}
    left = n - sum(take.values())
    for k in sorted(groups, key=lambda k: (-(quota[k] - take[k]), -len(groups[k]), k))[:left]:
        take[k] += 1
    rng = random.Random(seed)
    chosen: set[int] = set()
    for k in sorted(groups):
        chosen.update(rng.sample(groups[k], take[k]))
    return [sc for i, sc in enumerate(scenarios) if i in chosen]
