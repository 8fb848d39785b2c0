"""How many episodes to run at once by default: from the cores this process may use, the
browser build the web and mobile sandboxes drive, and the memory available."""

from __future__ import annotations

import os
from collections.abc import Iterable

# measured per concurrent web/mobile episode (benchmarks/bench_web.py, bench_suite.py)
EPISODE_MB = {"headless-shell": 100, "chromium": 200, "playwright": 100}
BROWSER_KINDS = frozenset({"web", "mobile"})


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_mb() -> float | None:
    """MemAvailable from /proc/meminfo, None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def default_max_episodes(kinds: Iterable[str], browser: str | None = None) -> int:
    """Episodes at once for a suite of these sandbox kinds. A browser episode waits on Chromium
    round trips about half its time, so one more episode than cores keeps the CPUs busy; the
    full Chromium costs twice the CPU per context, so it gets no extra one. Capped so the
    episodes' browser memory fits in half the available memory."""
    cores = usable_cores()
    if not BROWSER_KINDS & set(kinds):
        return cores
    if browser is None:
        from agentsafe.browser.launch import browser_candidates

        try:
            browser = browser_candidates()[0].name
        except Exception:  # noqa: BLE001 - a bad override fails later, with its own message
            browser = "chromium"
    per = EPISODE_MB.get(browser, EPISODE_MB["chromium"])
    n = cores + 1 if per <= 100 else cores
    mem = available_mb()
    if mem is not None:
        n = min(n, max(1, int(mem / 2 // per)))
    return max(1, n)
