"""A killed harness leaves nothing: its web and phone servers die with it, their control
endpoints refuse other processes, no token shows in `ps`, and `agentsafe sandbox prune` sweeps
the temp dirs and processes of dead runs only (never a live run's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from agentsafe.paths import ROOT
from agentsafe.runtime import sweep

HARNESS = textwrap.dedent("""
    import anyio, json, os, tempfile
    from agentsafe.sandbox.web_server import AppServer
    from agentsafe.sandbox.mobile import spawn_phone_server, _free_port
    from agentsafe.runtime.local import LocalBackend
    async def main():
        osb = LocalBackend()
        seed = tempfile.mkdtemp(prefix=f"agentsafe-seed-{os.getpid()}-")
        os.chmod(seed, 0o755)
        await osb.reset(__import__("pathlib").Path(seed), {"a.txt": "a"}, [])
        cg = [str(d) for d in osb.cgroup.dirs] if osb.cgroup else []
        web = AppServer(apps=["shop"])
        await web.start()
        port = _free_port()
        log = tempfile.TemporaryFile()
        phone = await spawn_phone_server(port, "phone-secret-token-123", log)
        print(json.dumps({"web": web.port, "web_dir": str(web._workdir), "web_token": web.token,
                          "web_pid": web._proc.pid, "phone": port, "phone_pid": phone.pid,
                          "os_pid": await osb.control_pid(), "os_dir": str(osb.workdir),
                          "seed_dir": seed, "cgroups": cg}),
              flush=True)
        await anyio.sleep(300)
    anyio.run(main)
""")


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/__agentsafe__/health", timeout=0.5, trust_env=False)
        return True
    except httpx.TransportError:
        return False


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


def test_servers_die_with_a_killed_harness_and_keep_their_tokens(tmp_path: Path) -> None:
    import json

    script = tmp_path / "harness.py"  # a file, not `-c`: the test's own token stays off `ps`
    script.write_text(HARNESS)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        deadline = time.monotonic() + 20
        while not _listening(info["phone"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True,
                            check=True).stdout
        leaks = [line for line in ps.splitlines()
                 if info["web_token"] in line or "phone-secret-token-123" in line]
        assert not leaks, f"a token shows in ps: {leaks}"
        base = f"http://127.0.0.1:{info['phone']}/__agentsafe__"
        assert httpx.get(f"{base}/state", trust_env=False).status_code == 403
        assert httpx.get(f"{base}/db", trust_env=False).status_code == 403
        ok = httpx.get(f"{base}/state", headers={"x-agentsafe-token": "phone-secret-token-123"},
                       trust_env=False)
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup code runs
        proc.wait()
    deadline = time.monotonic() + 10
    pids = [info["web_pid"], info["phone_pid"], info["os_pid"]]
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.1)
    assert all(_gone(p) for p in pids)  # bwrap --die-with-parent, stdin watches
    assert not _listening(info["web"]) and not _listening(info["phone"])
    # the temp dirs and cgroups are a dead run's: prune sweeps them
    dirs = [info["web_dir"], info["os_dir"], info["seed_dir"]]
    assert all(Path(d).exists() for d in dirs)
    out = subprocess.run([sys.executable, "-m", "agentsafe.cli", "sandbox", "prune",
                          "--no-docker"], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert not any(Path(d).exists() for d in dirs)
    assert not any(Path(d).exists() for d in info["cgroups"])


def test_sweep_leaves_live_runs_alone(tmp_path: Path) -> None:
    """A temp dir of a live process and of this one stay; a dead owner's goes."""
    p = subprocess.Popen(["sleep", "30"])
    q = subprocess.Popen(["true"])
    q.wait()
    live = tmp_path / f"agentsafe-web-{p.pid}-x"
    mine = tmp_path / f"{sweep.temp_name('os')}y"
    dead = tmp_path / f"agentsafe-seed-{q.pid}-z"
    for d in (live, mine, dead):
        (d / "sub").mkdir(parents=True)
    try:
        assert sweep.sweep_temp_dirs(str(tmp_path)) == 1
        assert live.exists() and mine.exists() and not dead.exists()
    finally:
        p.kill()
        p.wait()
