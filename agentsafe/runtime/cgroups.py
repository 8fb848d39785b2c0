"""Per-sandbox cgroups of the local runtime: one fork bomb or memory hog stays in its sandbox.

As root, every bubblewrap session joins its own cgroup with a pids limit, a memory limit (tmpfs
pages the sandbox writes count too, swap excluded) and a cpu weight. Both layouts are handled:
cgroup v2 (a unified hierarchy with the controllers enabled) and v1 (separate `pids`, `memory`
and `cpu` hierarchies; a machine may also mount an empty unified hierarchy, which is ignored).
The `agentsafe` parent's CPU weight follows the number of sandboxes (`_rebalance`), so under
host load the sandboxes are not squeezed into one task's share. `AGENTSAFE_CGROUPS=0` turns
the groups off. Without root (or without writable controllers) `create` returns None and the session relies on
its rlimits only (`nproc`, shared by every sandbox of the uid, and address space per process):
see docs/internals.md. Group names carry the owning harness pid, so `sweep_stale` removes the
groups of dead runs (killing anything left inside).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from agentsafe.models.base import Strict

ROOT = Path(os.environ.get("AGENTSAFE_CGROUP_ROOT", "/sys/fs/cgroup"))
PARENT = "agentsafe"


class CgroupLimits(Strict):
    """Limits of one sandbox's cgroup."""

    pids: int = Field(default=512, ge=16, description="processes and threads")
    memory: int = Field(default=2 << 30, ge=32 << 20, description="bytes, tmpfs pages included")
    cpu_weight: int = Field(default=100, ge=1, le=10000, description="cgroup v2 weight (v1: shares)")


def layout() -> str | None:
    """'v2', 'v1' or None (no usable controllers: not root, or not mounted)."""
    if os.geteuid() != 0 or os.environ.get("AGENTSAFE_CGROUPS", "1") == "0":
        return None
    ctrl = ROOT / "cgroup.controllers"
    if ctrl.exists() and {"pids", "memory"} <= set(ctrl.read_text().split()):
        return "v2"
    if all((ROOT / c / "cgroup.procs").exists() for c in ("pids", "memory")):
        return "v1"
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


@dataclass
class SandboxCgroup:
    """The cgroup directories of one sandbox (one per v1 hierarchy, one for v2)."""

    name: str
    version: str
    dirs: list[Path] = field(default_factory=list)

    @property
    def procs_files(self) -> list[str]:
        """Files the session's first process writes its pid into (joining every hierarchy)."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        """Processes in the group now."""
        out: set[int] = set()
        for d in self.dirs:
            try:
                out |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return out

    def stats(self) -> dict[str, int]:
        """pids_current, pids_limit_hits, oom_kills (what an attack ran into)."""
        out: dict[str, int] = {}
        for d in self.dirs:
            for fname, key in (("pids.current", "pids_current"),):
                p = d / fname
                if p.exists():
                    out[key] = int(p.read_text().strip() or 0)
            ev = d / "pids.events"
            if ev.exists():
                out["pids_limit_hits"] = _kv(ev.read_text()).get("max", 0)
            for fname in ("memory.events", "memory.oom_control"):
                p = d / fname
                if p.exists():
                    out["oom_kills"] = _kv(p.read_text()).get("oom_kill", 0)
        return out

    def remove(self, wait: float = 2.0) -> None:
        """Kill everything still inside and delete the group (idempotent)."""
        deadline = time.monotonic() + wait
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                _write(d / "cgroup.kill", "1")
        while True:
            left = self.pids()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for d in self.dirs:
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
            if not any(d.exists() for d in self.dirs) or time.monotonic() > deadline:
                _rebalance()
                return
            time.sleep(0.01)


def _rebalance() -> None:
    """Give the `agentsafe` parent the CPU weight of as many ordinary tasks as it holds sandbox
    groups: under host load the sandboxes together get their fair share, never the share of a
    single task (weights only matter when CPUs are contended)."""
    for parent, fname, unit, cap in ((ROOT / "cpu" / PARENT, "cpu.shares", 1024, 262144),
                                     (ROOT / PARENT, "cpu.weight", 100, 10000)):
        if not (parent / fname).exists():
            continue
        try:
            n = sum(1 for d in parent.iterdir() if d.is_dir())
        except OSError:
            continue
        _write(parent / fname, str(min(cap, unit * max(1, n))))


def _kv(text: str) -> dict[str, int]:
    pairs = (line.split() for line in text.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def _v1_dirs(name: str) -> list[Path]:
    return [ROOT / c / PARENT / name for c in ("pids", "memory", "cpu")
            if (ROOT / c / "cgroup.procs").exists()]


def create(name: str, limits: CgroupLimits | None = None) -> SandboxCgroup | None:
    """A fresh cgroup for one sandbox with `limits`, or None when cgroups are unusable here."""
    limits = limits or CgroupLimits()
    version = layout()
    if version is None:
        return None
    if version == "v2":
        parent = ROOT / PARENT
        try:
            _write(ROOT / "cgroup.subtree_control", "+pids +memory +cpu")
            parent.mkdir(exist_ok=True)
            _write(parent / "cgroup.subtree_control", "+pids +memory +cpu")
            d = parent / name
            d.mkdir()
        except OSError:
            return None
        cg = SandboxCgroup(name, "v2", [d])
        ok = _write(d / "pids.max", str(limits.pids)) and _write(d / "memory.max", str(limits.memory))
        _write(d / "memory.swap.max", "0")
        _write(d / "cpu.weight", str(limits.cpu_weight))
    else:
        dirs = _v1_dirs(name)
        try:
            for d in dirs:
                d.mkdir(parents=True)
        except OSError:
            SandboxCgroup(name, "v1", dirs).remove()
            return None
        cg = SandboxCgroup(name, "v1", dirs)
        by = {d.parts[-3]: d for d in dirs}
        ok = (_write(by["pids"] / "pids.max", str(limits.pids))
              and _write(by["memory"] / "memory.limit_in_bytes", str(limits.memory)))
        _write(by["memory"] / "memory.memsw.limit_in_bytes", str(limits.memory))
        if "cpu" in by:
            _write(by["cpu"] / "cpu.shares", str(max(2, limits.cpu_weight * 1024 // 100)))
    if not ok:
        cg.remove()
        return None
    _rebalance()
    return cg


def join_prefix(cg: SandboxCgroup | None) -> list[str]:
    """argv prefix that moves the command into `cg` before it execs (so no child is ever
    forked outside the group)."""
    if cg is None:
        return []
    script = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; '
              'n=$((n-1)); done; exec "$@"')
    files = cg.procs_files
    return ["/bin/sh", "-c", script, "sh", str(len(files)), *files]


def group_name(pid: int | None = None) -> str:
    """`<harness pid>-<unique>`: the owner is visible in the name (see sweep_stale)."""
    return f"{pid or os.getpid()}-{os.urandom(4).hex()}"


def sweep_stale() -> int:
    """Remove the groups of harness processes that are gone; returns how many."""
    version = layout()
    if version is None:
        return 0
    parents = [ROOT / PARENT] if version == "v2" else [
        ROOT / c / PARENT for c in ("pids", "memory", "cpu")]
    names: set[str] = set()
    for p in parents:
        if p.is_dir():
            names |= {d.name for d in p.iterdir() if d.is_dir()}
    n = 0
    for name in names:
        owner = name.split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not Path(f"/proc/{owner}").exists():
            dirs = [p / name for p in parents]
            SandboxCgroup(name, version, [d for d in dirs if d.exists()]).remove()
            n += 1
    return n
