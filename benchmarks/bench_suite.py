"""Whole-run throughput: episodes per second of real runs (`agentsafe run`, careful agent), each in
a fresh process as a user starts it.

- suite: the whole built-in suite at the default `--max-episodes` (chosen from the machine's
  cores and the browser build, see agentsafe/runner/limits.py). Target: >= 4 episodes/s on 2
  cores.
- concurrency x browser: a web + mobile sample (every Kth scenario) at several `--max-episodes`
  with the headless shell, and with the full Chromium beside it. The configurations are played
  in alternating rounds so a change in the machine's load hits them all alike; the ratios
  against `--max-episodes 1` of the same browser say whether concurrency helps.

Run: .venv/bin/python benchmarks/bench_suite.py [--every 2] [--rounds 2] [--no-suite]"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentsafe.browser.launch import HEADLESS_SHELL, SYSTEM_CHROMIUM
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.runner.limits import default_max_episodes
from agentsafe.scenarios import load_scenarios

TARGET_EPS = 4.0
AGENTSAFE = str(Path(sys.executable).parent / "agentsafe")


def run(paths: list[str], db: Path, jobs: int | None, browser: str | None) -> tuple[float, int]:
    """Wall seconds and episodes of one `agentsafe run` in a fresh process."""
    cmd = [AGENTSAFE, "run", *paths, "--agent", "careful", "--db", str(db), "--format", "none",
           "--no-progress"]
    if jobs is not None:
        cmd += ["--max-episodes", str(jobs)]
    if browser:
        cmd += ["--browser", browser]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    n = int(subprocess.run(["sqlite3", str(db), "select count(*) from episodes"], check=True,
                           capture_output=True, text=True).stdout.strip() or 0)
    db.unlink()
    return wall, n


def main(every: int, rounds: int, suite: bool, levels: list[int]) -> None:
    load0 = os.getloadavg()[0]
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="agentsafe-bench-suite-") as tmp:
        if suite:
            scs = load_scenarios([SCENARIOS_DIR])
            auto = default_max_episodes({s.sandbox.kind for s in scs})
            wall, n = run([str(SCENARIOS_DIR)], Path(tmp) / "suite.sqlite", None, None)
            eps = n / wall
            rows.append(f"{'whole suite, ' + str(n) + ' episodes, default -j ' + str(auto):<46}"
                        f"{wall:>8.1f} s {eps:>7.2f} ep/s   >= {TARGET_EPS} ep/s: "
                        f"{'OK' if eps >= TARGET_EPS else 'MISS'}")
        sample = sorted(p for k in ("web", "mobile") for p in (SCENARIOS_DIR / k).rglob("*.yaml")
                        if "matrix" not in p.parts)[::every]  # a matrix file holds dozens
        paths = [str(p) for p in sample]
        browsers = [b for b, exe in (("headless-shell", HEADLESS_SHELL), ("chromium", SYSTEM_CHROMIUM))
                    if os.access(exe, os.X_OK)]
        configs = [(b, j) for b in browsers for j in (levels if b == browsers[0] else [1, max(levels)])]
        walls: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
        n = 0
        for r in range(rounds):
            for c in (configs if r % 2 == 0 else configs[::-1]):
                wall, n = run(paths, Path(tmp) / "s.sqlite", c[1], c[0])
                walls[c].append(wall)
    print(f"suite throughput (cores={os.cpu_count()}, load {load0:.1f} -> {os.getloadavg()[0]:.1f}; "
          "absolute figures scale with the load, compare the ratios)")
    for row in rows:
        print(row)
    print(f"sample: {n} web + mobile episodes, median of {rounds} alternating rounds")
    print(f"{'browser':<16}{'-j':>4}{'wall s':>9}{'ep/s':>8}{'vs -j 1':>9}")
    for (b, j), ws in walls.items():
        w = statistics.median(ws)
        base = statistics.median(walls[(b, 1)])
        print(f"{b:<16}{j:>4}{w:>9.1f}{n / w:>8.2f}{base / w:>8.2f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--every", type=int, default=2, help="sample every Kth web/mobile scenario file")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--levels", default="1,2,3", help="--max-episodes values for the sample")
    ap.add_argument("--no-suite", dest="suite", action="store_false")
    a = ap.parse_args()
    main(a.every, a.rounds, a.suite, [int(x) for x in a.levels.split(",")])
