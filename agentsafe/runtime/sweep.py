"""Leftovers of dead runs on this host: temp dirs, orphaned server and sandbox processes,
per-sandbox cgroups. `agentsafe sandbox prune` and the start of every run call `sweep()`.

Only what belongs to a *dead* harness process is touched: temp dirs and cgroups carry their
owner's pid in their name (`agentsafe-<kind>-<pid>-...`), and a server or sandbox process is an
orphan when its parent is gone (re-parented to init). Live runs of other processes are safe.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

from agentsafe.runtime import cgroups

_OWNED = re.compile(r"^agentsafe-(web|os|seed|phone|run)-(\d+)-")
# command lines of the processes agentsafe starts outside containers
_OURS = (re.compile(rb"sandboxes/web/server\.py"), re.compile(rb"-m\x00phone\.server\x00"),
         re.compile(rb"/opt/agentsafe/control\.py\x00serve"))


def temp_name(kind: str) -> str:
    """Prefix of a temp dir this process owns (swept once the process is gone)."""
    return f"agentsafe-{kind}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    return pid == os.getpid() or Path(f"/proc/{pid}").exists()


def sweep_temp_dirs(root: str | None = None) -> int:
    """Remove agentsafe temp dirs whose owner process is gone; returns how many."""
    base = Path(root or tempfile.gettempdir())
    n = 0
    for d in base.glob("agentsafe-*"):
        m = _OWNED.match(d.name)
        if m is None or not d.is_dir() or _alive(int(m.group(2))):
            continue
        shutil.rmtree(d, ignore_errors=True)
        n += not d.exists()
    return n


def orphans() -> list[int]:
    """Pids of agentsafe server/sandbox processes whose harness died (parent is init)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            cmd = Path(f"/proc/{name}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == 1 and any(rx.search(cmd) for rx in _OURS):
            out.append(int(name))
    return out


def sweep_processes() -> int:
    """SIGKILL orphaned agentsafe processes (their process groups too); returns how many."""
    victims = orphans()
    for pid in victims:
        for kill in (lambda p: os.killpg(p, signal.SIGKILL), lambda p: os.kill(p, signal.SIGKILL)):
            try:
                kill(pid)
            except OSError:
                pass
    return len(victims)


def sweep() -> dict[str, int]:
    """Everything of dead runs on this host: temp dirs, orphaned processes, cgroups."""
    return {"processes": sweep_processes(), "temp_dirs": sweep_temp_dirs(),
            "cgroups": cgroups.sweep_stale()}
