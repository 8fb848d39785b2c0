"""Docker runtime speed, against raw floors measured in this run.

- start to first command: median seconds from `DockerOSBackend.start()` (hardened container,
  control script copied in, control session opened) to the answer of a first `shell` command,
  vs the floor: a bare `containers.run(image, detach=True)` + one `exec_run` through the SDK.
  Target: median <= 1 s.
- shell step: median `OSSandbox.call(shell)` on runtime docker (the harness's whole path) vs a
  raw `container.exec_run(["bash", "-c", cmd])` through the SDK into the same container,
  interleaved. Target: ratio <= 1.3x.
- guard (transactional) step: the same commands in guard mode (the vault synced before each
  step, the live processes noted) vs the same raw exec_run floor. Target: ratio <= 3x. Also
  reported: a step that removes ~/Documents and starts a background job, rolled back.
- reset: median `OSSandbox.reset(scenario)` after a destructive episode (not timed).
- throughput: the OS suite (scenarios/os, or the runner's minimal scenario when the suite is
  empty) played by the careful reference agent through `execute_run`, 1 vs 4 concurrent
  containers: episodes per second and the speed-up.

Run: .venv/bin/python benchmarks/bench_docker.py [--n 30] [--starts 5] [--episodes 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warm_shell import RunningShell

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.errors import SandboxError
from agentsafe.models import Scenario, ToolCall
from agentsafe.runtime import docker as dk
from agentsafe.sandbox.os import OSSandbox
from agentsafe.scenarios import load_file

START_TARGET_S = 1.0
STEP_TARGET_RATIO = 1.3
GUARD_TARGET_RATIO = 3.0
DESTROY = "rm -rf ~/Documents; nohup sleep 100 >/dev/null 2>&1 &"
COMMANDS = ["true", "ls -la ~", "echo hello > /tmp/x && cat /tmp/x"]
RUN = f"bench-docker-{uuid.uuid4().hex[:6]}"


def bench_scenario() -> Scenario:
    return Scenario.model_validate({
        "id": "bench.docker", "title": "bench", "instruction": "tidy the notes",
        "sandbox": {"kind": "os", "files": {"Documents/todo_extra.txt": "call the bank\n"}},
        "checks": [{"kind": "finished"}], "reference": [{"tool": "finish", "args": {"answer": "ok"}}],
    })


async def start_to_first(n: int) -> tuple[float, float]:
    """Median seconds: harness start + first shell command; raw SDK run + exec."""
    ours, raw = [], []
    client = dk.docker_client()
    for _ in range(n):
        t0 = time.perf_counter()
        backend = dk.DockerOSBackend(run_id=RUN)
        await backend.start()
        r = await backend.exec("echo ready")
        ours.append(time.perf_counter() - t0)
        assert r.stdout == b"ready\n"
        await backend.close()

        def raw_once() -> float:
            t0 = time.perf_counter()
            c = client.containers.run(dk.OS_IMAGE, ["sleep", "300"], detach=True,
                                      network_mode="none", labels={dk.LABEL_MANAGED: "1",
                                                                   dk.LABEL_RUN: RUN})
            out = c.exec_run(["echo", "ready"])
            dt = time.perf_counter() - t0
            assert out.output == b"ready\n"
            c.remove(force=True)
            return dt

        raw.append(await anyio.to_thread.run_sync(raw_once))
    return statistics.median(ours), statistics.median(raw)


class WarmShell(RunningShell):
    """A bash already running in the container over one attached `docker exec -i`: the honest
    floor of a command when the container and a session are already up (as the harness's)."""

    @classmethod
    async def open(cls, cid: str) -> WarmShell:
        return await cls.spawn(["docker", "exec", "-i", "-u", "1000:1000", "-w", "/home/user",
                                cid, "bash", "--norc"])


WARM: list[float] = []  # honest-floor samples of the last shell_steps run


def raw_exec(ctr, env: dict[str, str], cmd: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds of the raw floor: the same command by the docker SDK's exec_run, as the agent."""
    t0 = time.perf_counter()
    ctr.exec_run(["bash", "-c", cmd], user="1000:1000", environment=env, workdir="/home/user")
    return time.perf_counter() - t0


async def shell_steps(n: int) -> tuple[float, float, float]:
    """Median seconds of OSSandbox.call(shell) vs raw exec_run, interleaved; and reset.
    Also fills WARM with the same commands in an already-running session."""
    sb = OSSandbox(runtime="docker", run_id=RUN)
    await sb.start()
    sc = bench_scenario()
    await sb.reset(sc)
    ctr = sb.backend.container  # type: ignore[attr-defined]
    env = dk._sandbox_env()
    ours, raw, resets = [], [], []
    warm = await WarmShell.open(ctr.id)
    WARM.clear()
    try:
        for i in range(n):
            cmd = COMMANDS[i % len(COMMANDS)]
            t0 = time.perf_counter()
            res = await sb.call(ToolCall(name="shell", args={"command": cmd}))
            ours.append(time.perf_counter() - t0)
            assert res.ok, res.error

            raw.append(await anyio.to_thread.run_sync(raw_exec, ctr, env, cmd))
            WARM.append(await warm.run(cmd))
            if i % 5 == 4 or (i == n - 1 and not resets):  # at least one reset, even for a small --n
                await sb.call(ToolCall(name="shell", args={
                    "command": "rm -rf ~/Documents ~/.ssh; echo junk > ~/new.txt"}))
                t0 = time.perf_counter()
                await sb.reset(sc)
                resets.append(time.perf_counter() - t0)
                await warm.close()  # reset kills every episode process, this shell too
                warm = await WarmShell.open(ctr.id)
    finally:
        await warm.close()
        await sb.close()
    return statistics.median(ours), statistics.median(raw), statistics.median(resets)


async def guard_steps(n: int) -> tuple[float, float, float]:
    """Median seconds of a guarded OSSandbox.call(shell) vs raw exec_run, interleaved; and of
    a destructive step plus its rollback."""
    sb = OSSandbox(runtime="docker", run_id=RUN)
    sb.transactions(True)
    await sb.start()
    await sb.reset(bench_scenario())
    ctr = sb.backend.container  # type: ignore[attr-defined]
    env = dk._sandbox_env()
    ours, raw, undo = [], [], []
    try:
        for i in range(n):
            cmd = COMMANDS[i % len(COMMANDS)]
            t0 = time.perf_counter()
            res = await sb.call(ToolCall(name="shell", args={"command": cmd}))
            ours.append(time.perf_counter() - t0)
            assert res.ok, res.error
            sb.drain_events()

            raw.append(await anyio.to_thread.run_sync(raw_exec, ctr, env, cmd))
            if i % 3 == 2:
                t0 = time.perf_counter()
                await sb.call(ToolCall(name="shell", args={"command": DESTROY}))
                await sb.rollback()
                undo.append(time.perf_counter() - t0)
                sb.drain_events()
                assert not await sb.backend.processes(), "rollback left a process"
    finally:
        await sb.close()
    return statistics.median(ours), statistics.median(raw), statistics.median(undo)


def suite() -> list[Scenario]:
    files = sorted((ROOT / "scenarios" / "os").rglob("*.yaml"))
    scs = [s for f in files for s in load_file(f) if s.sandbox.kind == "os"]
    return scs or load_file(ROOT / "tests" / "data" / "os_minimal.yaml")


async def throughput(episodes: int, concurrency: int) -> tuple[float, int, int]:
    """Episodes/second of the OS suite through the runner with `concurrency` containers."""
    from agentsafe.runner.run import execute_run
    from agentsafe.store import RunPlan, Store

    scs = suite()
    trials = max(1, -(-episodes // len(scs)))
    run = f"{RUN}-c{concurrency}"
    plan = RunPlan(run_id=run, agent="careful", scenario_paths=[], runtime="docker",
                   scenario_ids=[s.id for s in scs], trials=trials, max_episodes=concurrency)
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "bench.sqlite")
        t0 = time.perf_counter()
        await execute_run(plan, store, scs, ReferenceAgent, progress=False,
                          sandbox_options={"os": {"run_id": run}})
        dt = time.perf_counter() - t0
        results = store.episodes(run)  # results live in the store only
        store.close()
    n = len(results)
    bad = sum(1 for r in results if r.status.value in ("infra_error", "agent_error"))
    return n / dt, n, bad


def row(name: str, value: str, floor: str, ratio: str, target: str, ok: bool | None) -> str:
    mark = "" if ok is None else ("ok" if ok else "MISSED")
    return f"| {name} | {value} | {floor} | {ratio} | {target} | {mark} |"


async def main() -> int:
    ap = argparse.ArgumentParser(description="Docker runtime speed vs raw floors")
    ap.add_argument("--n", type=int, default=30, help="shell steps measured")
    ap.add_argument("--starts", type=int, default=5, help="container starts measured")
    ap.add_argument("--episodes", type=int, default=16, help="episodes per throughput run")
    args = ap.parse_args()
    try:
        dk.docker_client().images.get(dk.OS_IMAGE)
    except SandboxError as e:
        print(f"bench_docker: skipped: {e}")
        return 0
    except Exception as e:  # noqa: BLE001 - image missing
        print(f"bench_docker: skipped: {dk.OS_IMAGE} unavailable ({e}); run `make images`")
        return 0
    try:
        start, start_raw = await start_to_first(args.starts)
        step, step_raw, reset = await shell_steps(args.n)
        guard, guard_raw, undo = await guard_steps(args.n)
        tp1, n1, bad1 = await throughput(args.episodes, 1)
        tp4, n4, bad4 = await throughput(args.episodes, 4)
    finally:
        left = dk.prune(RUN, include_live=True) + sum(
            dk.prune(f"{RUN}-c{c}", include_live=True) for c in (1, 4))
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"\nDocker runtime (medians; floors measured in this run; load average {load})\n")
    print("| measure | agentsafe | raw floor | ratio | target | |")
    print("|---|---|---|---|---|---|")
    print(row("OS container start -> first command", f"{start * 1000:.0f} ms",
              f"{start_raw * 1000:.0f} ms (run + exec)", f"{start / start_raw:.2f}x",
              f"<= {START_TARGET_S:.0f} s", start <= START_TARGET_S))
    print(row("shell step (OSSandbox.call)", f"{step * 1000:.1f} ms",
              f"{step_raw * 1000:.1f} ms (SDK exec_run)", f"{step / step_raw:.2f}x",
              f"<= {STEP_TARGET_RATIO}x", step / step_raw <= STEP_TARGET_RATIO))
    if WARM:
        w = statistics.median(WARM)
        print(row("  same step, vs a command in a running session", f"{step * 1000:.1f} ms",
                  f"{w * 1000:.1f} ms (bash in one docker exec -i)", f"{step / w:.2f}x",
                  "(honest floor: what the harness adds, incl. effect capture)", None))
    print(row("guard (transactional) step", f"{guard * 1000:.1f} ms",
              f"{guard_raw * 1000:.1f} ms (SDK exec_run)", f"{guard / guard_raw:.2f}x",
              f"<= {GUARD_TARGET_RATIO}x", guard / guard_raw <= GUARD_TARGET_RATIO))
    print(row("  destructive step + rollback (rm -rf ~/Documents, a background job)",
              f"{undo * 1000:.1f} ms", f"{guard_raw * 1000:.1f} ms (SDK exec_run)",
              f"{undo / guard_raw:.2f}x", "reported", None))
    print(row("reset after a destructive episode", f"{reset * 1000:.1f} ms", "-", "-", "-", None))
    print(row(f"OS suite throughput, 1 container ({n1} episodes, {bad1} errors)",
              f"{tp1:.2f} ep/s", "-", "1.00x", "reported", None))
    print(row(f"OS suite throughput, 4 containers ({n4} episodes, {bad4} errors)",
              f"{tp4:.2f} ep/s", "-", f"{tp4 / tp1:.2f}x vs 1", "reported", None))
    if left:
        print(f"\n(pruned {left} leftover containers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(anyio.run(main))
