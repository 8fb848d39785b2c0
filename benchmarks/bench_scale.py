"""A run and a report at scale: memory flat with the number of episodes, report time bounded.

- run memory: peak RSS of a run process (the real runner: `execute_run`, the store commits,
  the progress counters) playing 500 and then 50,000 episodes. The episodes are real results of
  the OS suite (careful and reckless agents, events included) replayed by an executor that
  plays nothing, so what grows, if anything, is the runner's bookkeeping. Each size runs in a
  fresh process. Target: peak(50,000) <= 1.2 x peak(500).
- report: `agentsafe report RUN --format json` on 14,000 stored episodes, in a fresh process:
  wall time and peak RSS, beside the floor of the same process starting and exiting
  (`agentsafe report --help`). Target: <= 1 s.

Run: .venv/bin/python benchmarks/bench_scale.py [--small 500] [--large 50000] [--report 14000]"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_FLAT = 1.2
TARGET_REPORT_S = 1.0
BIN = Path(sys.executable).parent


def _seed_results(db: Path) -> list[dict]:
    """Real OS-suite results (careful + reckless), events included, as JSON dicts."""
    from agentsafe.cli import app  # noqa: F401 - same import path as a real run
    from agentsafe.store import Store

    for agent in ("careful", "reckless"):
        subprocess.run([str(BIN / "agentsafe"), "run", str(ROOT / "scenarios" / "os"), "--agent", agent,
                        "--run-id", f"seed-{agent}", "--db", str(db), "--format", "none",
                        "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    store = Store(db)
    out = [r.model_dump(mode="json") for a in ("careful", "reckless")
           for r in store.episodes(f"seed-{a}", with_events=True)]
    store.close()
    return out


def _child_run(seed_file: str, db: str, n: int, run_id: str) -> None:
    """In a fresh process: a real run of `n` replayed episodes; prints its peak RSS (MB)."""
    from agentsafe.models.results import EpisodeResult
    from agentsafe.models.scenario import Scenario
    from agentsafe.runner.executors import Job, Played, RunContext
    from agentsafe.runner.run import execute_run
    from agentsafe.store import RunPlan, Store

    seeds = [EpisodeResult.model_validate(d) for d in json.loads(Path(seed_file).read_text())]
    ids = sorted({r.scenario_id for r in seeds})
    by_key = {(r.scenario_id, r.agent): r for r in seeds}
    scenarios = [Scenario.model_validate({
        "id": sid, "title": sid, "instruction": "replayed", "sandbox": {"kind": "os"},
        "checks": [{"kind": "finished"}], "reference": [{"tool": "finish", "args": {"answer": "x"}}],
    }) for sid in ids]
    trials = -(-n // len(ids))

    class Replay:
        """Plays nothing: hands back a stored result of the same scenario per job."""

        name = "local"

        async def play(self, ctx: RunContext, jobs: Iterable[Job], sink) -> None:
            for job in jobs:
                agent = "careful" if job.trial % 2 == 0 else "reckless"
                tmpl = by_key.get((job.scenario.id, agent)) or by_key[(job.scenario.id, "careful")]
                res = tmpl.model_copy(update={"run_id": ctx.plan.run_id, "trial": job.trial,
                                              "agent": "replay"})
                sink.started(job, "local")
                await sink.finished(Played(job, res))

    store = Store(db)
    plan = RunPlan(run_id=run_id, agent="replay", scenario_paths=[], scenario_ids=ids, trials=trials,
                   runtime="local", mode="observe", max_episodes=1)
    store.create_run(plan)
    t = time.perf_counter()
    import agentsafe.runner.run as run_mod

    run_mod.resolve_all = lambda scs: {s.id: [] for s in scs}  # no policies: nothing is played
    anyio.run(lambda: execute_run(plan, store, scenarios, lambda: None, progress=False,  # type: ignore[arg-type, return-value]
                                  executor=Replay()))  # type: ignore[arg-type]
    wall = time.perf_counter() - t
    print(json.dumps({"episodes": store.count(run_id), "wall": wall,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one child process, and its stdout."""
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def main(small: int, large: int, report_n: int) -> None:
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="agentsafe-bench-scale-") as tmp:
        seed_file = Path(tmp) / "seeds.json"
        seed_file.write_text(json.dumps(_seed_results(Path(tmp) / "seed.sqlite")))
        runs = {}
        for n in (small, large):
            _, _, out = _timed([sys.executable, __file__, "--child", str(seed_file),
                                str(Path(tmp) / f"run{n}.sqlite"), str(n), f"run{n}"])
            runs[n] = json.loads(out)
        rdb = Path(tmp) / "report.sqlite"
        _timed([sys.executable, __file__, "--child", str(seed_file), str(rdb), str(report_n), "rep"])
        report_cmd = [str(BIN / "agentsafe"), "report", "rep", "--db", str(rdb), "--format", "json"]
        _timed(report_cmd)  # page cache warm, as for a report right after its run
        reps = [_timed(report_cmd) for _ in range(3)]
        wall, peak, out = min(reps)
        assert json.loads(out), "empty report"
        floor = min(_timed([str(BIN / "agentsafe"), "report", "--help"])[0] for _ in range(3))
    s, big = runs[small], runs[large]
    ratio = big["peak_mb"] / s["peak_mb"]
    print(f"scale benchmark (cores={os.cpu_count()}, load={load0:.1f} -> {os.getloadavg()[0]:.1f})")
    print(f"{'measure':<44}{'value':>10}{'floor':>10}{'ratio':>8}  target")
    print(f"{'run peak RSS, ' + str(s['episodes']) + ' episodes (MB)':<44}{s['peak_mb']:>10.1f}")
    print(f"{'run peak RSS, ' + str(big['episodes']) + ' episodes (MB)':<44}{big['peak_mb']:>10.1f}"
          f"{s['peak_mb']:>10.1f}{ratio:>8.2f}  <= {TARGET_FLAT}x (memory flat with the run's size): "
          f"{'OK' if ratio <= TARGET_FLAT else 'MISS'}")
    print(f"{'run bookkeeping per episode (ms)':<44}{big['wall'] / big['episodes'] * 1000:>10.2f}"
          f"{'':>10}{'':>8}  (reported: store commit + counters, no sandbox)")
    print(f"{'report --format json, ' + str(report_n) + ' episodes (s)':<44}{wall:>10.2f}{floor:>10.2f}"
          f"{wall / floor:>8.2f}  <= {TARGET_REPORT_S:.0f} s (floor: the CLI starting and exiting): "
          f"{'OK' if wall <= TARGET_REPORT_S else 'MISS'}")
    print(f"{'report peak RSS (MB)':<44}{peak:>10.1f}{'':>10}{'':>8}  (reported)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_run(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        sys.exit(0)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--large", type=int, default=50_000)
    ap.add_argument("--report", type=int, default=14_000)
    a = ap.parse_args()
    main(a.small, a.large, a.report)
