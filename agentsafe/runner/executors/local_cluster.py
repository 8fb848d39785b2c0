"""A throwaway Ray cluster on this machine (a head and extra nodes with their own resources) for
tests, benchmarks and trying the Ray executor: every process it starts lives in a process group
and a temp dir of its own, so stopping it ends exactly those processes and nothing else."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

RAY_FAST_FAILURE = {  # notice a dead node in seconds, not the default half minute
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    """Every process of session `sid` but this one."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == sid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _ray_bin() -> str:
    exe = Path(sys.executable).parent / "ray"
    return str(exe) if exe.exists() else (shutil.which("ray") or "ray")


@dataclass
class Node:
    """One `ray start --block` process group (a raylet and everything it spawned)."""

    name: str
    proc: subprocess.Popen
    resources: dict[str, float]
    log: Path

    @property
    def pgid(self) -> int:
        return self.proc.pid  # started in a session of its own: pgid == pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """End this node's processes: its process group, then the rest of its session (Ray's
        worker processes get process groups of their own)."""
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass
        for pid in session_pids(self.pgid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


@dataclass
class LocalCluster:
    """A head node plus `add_node` nodes, on 127.0.0.1, with distinct ports and one temp dir."""

    temp_dir: Path
    port: int
    dashboard_port: int | None
    nodes: list[Node] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def dashboard_url(self) -> str | None:
        return f"http://127.0.0.1:{self.dashboard_port}" if self.dashboard_port else None

    @classmethod
    def start(cls, resources: dict[str, float] | None = None, *, num_cpus: int = 1,
              dashboard: bool = False, object_store: int = 100_000_000, timeout: float = 180,
              env: dict[str, str] | None = None) -> LocalCluster:
        """Start the head and wait until it answers (raises after `timeout` seconds)."""
        tmp = Path(tempfile.mkdtemp(prefix="agr-", dir="/tmp"))  # short: Ray's unix sockets
        full_env = {**os.environ, **RAY_FAST_FAILURE, "RAY_USAGE_STATS_ENABLED": "0",
                    **(env or {})}
        full_env.pop("RAY_ADDRESS", None)
        cluster = cls(tmp, free_port(), free_port() if dashboard else None, env=full_env)
        args = ["--head", f"--port={cluster.port}", f"--ray-client-server-port={free_port()}",
                f"--include-dashboard={'true' if dashboard else 'false'}"]
        if dashboard:
            args += [f"--dashboard-port={cluster.dashboard_port}", "--dashboard-host=127.0.0.1"]
        try:
            cluster._spawn("head", args, resources or {}, num_cpus, object_store, timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def add_node(self, name: str, resources: dict[str, float], *, num_cpus: int = 1,
                 object_store: int = 100_000_000, timeout: float = 180) -> Node:
        """Start another node joining the head, and wait until the cluster counts it."""
        return self._spawn(name, [f"--address={self.address}"], resources, num_cpus,
                           object_store, timeout)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def _spawn(self, name: str, args: list[str], resources: dict[str, float], num_cpus: int,
               object_store: int, timeout: float) -> Node:
        log = self.temp_dir / f"{name}.out"
        ports = ["--node-manager-port", "--object-manager-port", "--runtime-env-agent-port",
                 "--dashboard-agent-grpc-port", "--dashboard-agent-listen-port",
                 "--metrics-export-port"]
        cmd = [_ray_bin(), "start", "--block", "--node-ip-address=127.0.0.1",
               f"--temp-dir={self.temp_dir}", f"--num-cpus={num_cpus}", "--num-gpus=0",
               f"--object-store-memory={object_store}", f"--resources={json.dumps(resources)}",
               "--disable-usage-stats", *(f"{p}={free_port()}" for p in ports), *args]
        lo = free_port() + 1000 if name != "head" else 0
        if lo:
            cmd += [f"--min-worker-port={min(lo, 64000)}", f"--max-worker-port={min(lo, 64000) + 200}"]
        env = {**self.env, "AGENTSAFE_NODE_NAME": name}  # the node's name in per-node counts
        deadline = time.monotonic() + timeout
        for attempt in range(3):  # Ray gives a raylet 30 s to register: a loaded box can miss it
            with log.open("wb") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True, stdin=subprocess.DEVNULL)
            node = Node(name, proc, resources, log)
            self.nodes.append(node)
            try:
                self._wait_for(len(self.nodes), node, max(1.0, deadline - time.monotonic()))
                return node
            except RuntimeError:
                node.kill()
                self.nodes.remove(node)
                if attempt == 2 or time.monotonic() > deadline or name == "head" and self.nodes:
                    raise
        raise AssertionError("unreachable")

    def _wait_for(self, count: int, node: Node, timeout: float) -> None:
        """Wait until `ray start` says the node runs (it has then registered with the head)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"Ray runtime started" in node.log.read_bytes()[-20000:]:
                return
            if node.proc.poll() is not None:
                raise RuntimeError(f"ray node {node.name} exited: {node.log.read_text()[-2000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"ray node {node.name} did not start within {timeout}s")

    def wait_alive(self, count: int, timeout: float) -> int:
        """Wait until the head counts `count` nodes alive (or `timeout`); return the count."""
        try:
            out = subprocess.run(
                [sys.executable, "-c", _COUNT, self.address, str(count), str(timeout)],
                capture_output=True, text=True, timeout=timeout + 60, env=self.env, check=False,
            )
            return int(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError, subprocess.TimeoutExpired):
            time.sleep(1)
            return 0

    def stop(self) -> None:
        """Kill every process this cluster started (workers first, the head last); remove the
        temp dir. Never touches another Ray on the machine."""
        for node in reversed(self.nodes):
            node.kill(signal.SIGTERM)
        for node in reversed(self.nodes):
            node.kill(signal.SIGKILL)
        for _ in range(20):  # a raylet may fork a worker while it is being killed: sweep again
            strays = self.stray_pids()
            if not strays:
                break
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def stray_pids(self) -> list[int]:
        """Processes still left of this cluster: in the session of one of its nodes (Ray's worker
        processes get a process group of their own but keep the session), or naming its temp dir."""
        sessions = {n.pgid for n in self.nodes}
        mine = [str(self.temp_dir)]
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                sid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if sid in sessions or any(m in cmd for m in mine):
                out.append(int(entry.name))
        return out

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_COUNT = """
import sys, time
import ray
address, want, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n = 0
try:
    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    deadline = time.monotonic() + timeout
    while True:
        n = sum(1 for x in ray.nodes() if x["Alive"])
        if n == want or time.monotonic() > deadline:
            break
        time.sleep(0.5)
except Exception:
    pass
print(n)
"""
