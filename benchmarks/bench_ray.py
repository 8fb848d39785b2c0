"""Ray executor cost, against the local executor measured in this run on the same OS episodes.

- per-episode overhead: for each episode, the driver's time from "started" to "result in hand"
  minus the episode's own duration (measured inside the sandbox session); median with the Ray
  executor minus median with the local one = what Ray adds per episode (scheduling the call,
  shipping the result back). Target: <= 30 ms.
- throughput: episodes/s of the same episodes with the local executor (2 slots), Ray on one node
  (2 OS slots) and Ray on two nodes of this machine (1 + 1 OS slots), side by side: the whole run
  (connect, start actors and sandboxes) and the steady rate (first to last result).
- idle node memory: resident memory of every process of an idle Ray node (head: GCS, raylet,
  agents; worker node: raylet and agents), with no actor running.

Run: .venv/bin/python benchmarks/bench_ray.py [--episodes 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.runner.executors import Job, Played, RunContext
from agentsafe.runner.executors.local import LocalExecutor
from agentsafe.runner.run import resolve_all
from agentsafe.scenarios import load_scenarios
from agentsafe.store import RunPlan

OVERHEAD_TARGET_MS = 30.0


class Timing:
    """A sink that keeps driver-side start/finish times and never touches a store."""

    def __init__(self) -> None:
        self.t0: dict[tuple[str, int], float] = {}
        self.overheads: list[float] = []
        self.finished_at: list[float] = []
        self.nodes: dict[str, int] = {}
        self.bad = 0

    def started(self, job: Job, node: str) -> None:
        self.t0[(job.scenario.id, job.trial)] = time.perf_counter()

    def stopped(self, job: Job) -> None:
        self.bad += 1

    async def finished(self, played: Played) -> None:
        now = time.perf_counter()
        r = played.result
        self.overheads.append(now - self.t0[(r.scenario_id, r.trial)] - r.duration_s)
        self.finished_at.append(now)
        self.nodes[played.node] = self.nodes.get(played.node, 0) + 1
        self.bad += r.status.value in ("infra_error", "agent_error")


def workload(n: int) -> tuple[RunContext, list[Job]]:
    scs = sorted(load_scenarios([ROOT / "scenarios" / "os"]), key=lambda s: s.id)
    trials = max(1, -(-n // len(scs)))
    plan = RunPlan(run_id="bench-ray", agent="careful", scenario_paths=[], trials=trials,
                   scenario_ids=[s.id for s in scs], max_episodes=2)
    jobs = [Job(s, t) for t in range(trials) for s in scs][:n]
    return RunContext(plan=plan, policies=resolve_all(scs), make_agent=ReferenceAgent), jobs


def measure(executor, ctx: RunContext, jobs: list[Job]) -> dict:
    sink = Timing()
    t0 = time.perf_counter()
    anyio.run(lambda: executor.play(ctx, jobs, sink))
    wall = time.perf_counter() - t0
    fin = sorted(sink.finished_at)
    steady = (len(fin) - 1) / (fin[-1] - fin[0]) if len(fin) > 1 and fin[-1] > fin[0] else 0.0
    return {"eps": len(jobs) / wall, "steady": steady, "overhead": statistics.median(sink.overheads),
            "nodes": sink.nodes, "bad": sink.bad, "n": len(sink.overheads)}


def node_rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description="Ray executor vs local executor")
    ap.add_argument("--episodes", type=int, default=40)
    args = ap.parse_args()
    try:
        from agentsafe.runner.executors.local_cluster import LocalCluster, session_pids
        from agentsafe.runner.executors.ray import RayExecutor
    except ImportError as e:
        print(f"bench_ray: skipped: {e}")
        return 0
    ctx, jobs = workload(args.episodes)
    measure(LocalExecutor(), ctx, jobs[:4])  # warm caches (seed builds) outside the timings
    rows: dict[str, dict] = {"local (2 slots)": measure(LocalExecutor(), ctx, jobs)}
    idle: dict[str, float] = {}
    with LocalCluster.start({"agentsafe_os": 2}, num_cpus=1) as cluster:
        head = cluster.nodes[0]
        time.sleep(5)
        idle["head node (GCS, raylet, agents; no dashboard)"] = node_rss_mb(session_pids(head.pgid))
        rows["ray, 1 node (2 slots)"] = measure(RayExecutor(cluster.address), ctx, jobs)
    with LocalCluster.start({"agentsafe_os": 1}, num_cpus=1) as cluster:
        node = cluster.add_node("second", {"agentsafe_os": 1})
        time.sleep(5)
        idle["worker node (raylet, agents)"] = node_rss_mb(session_pids(node.pgid))
        rows["ray, 2 nodes (1 + 1 slots)"] = measure(RayExecutor(cluster.address), ctx, jobs)

    local = rows["local (2 slots)"]
    print(f"## Ray executor vs local, {len(jobs)} OS episodes (careful agent)\n")
    print("| executor | episodes/s (whole run) | episodes/s (steady) | median overhead/episode | per node | lost |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        nodes = " ".join(f"{k}:{v}" for k, v in sorted(r["nodes"].items()))
        print(f"| {name} | {r['eps']:.2f} | {r['steady']:.2f} | {r['overhead'] * 1000:.1f} ms | "
              f"{nodes} | {r['bad']} |")
    worst = 0.0
    print("\n| measure | value | floor (local) | added | target | |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        if name.startswith("ray"):
            added = (r["overhead"] - local["overhead"]) * 1000
            worst = max(worst, added)
            ok = "ok" if added <= OVERHEAD_TARGET_MS else "MISSED"
            print(f"| overhead per episode, {name} | {r['overhead'] * 1000:.1f} ms | "
                  f"{local['overhead'] * 1000:.1f} ms | {added:.1f} ms | <= {OVERHEAD_TARGET_MS:.0f} ms | {ok} |")
    print("\n| idle Ray node | resident memory |")
    print("|---|---|")
    for name, mb in idle.items():
        print(f"| {name} | {mb:.0f} MB |")
    return 0 if all(r["bad"] == 0 for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
