"""Container lifecycle on the Docker runtime: labels, prune, leftovers of a killed run reaped
at the next start, a container dying mid-episode, clear errors for a missing daemon or image."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from agentsafe.errors import SandboxError
from agentsafe.runtime import docker as dk

RUN_ID = f"test-life-{uuid.uuid4().hex[:8]}"
ROOT = Path(__file__).resolve().parent.parent


needs_docker = pytest.mark.usefixtures("docker_ready")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_unreachable_daemon_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dk, "_client", None)
    monkeypatch.setenv("DOCKER_HOST", f"unix:///nonexistent/{uuid.uuid4().hex}.sock")
    with pytest.raises(SandboxError) as err:
        dk.docker_client()
    msg = str(err.value)
    assert "unreachable" in msg and "DOCKER_HOST" in msg and "dockerd" in msg
    assert dk.daemon_available() is False


def test_only_none_or_host_networks_are_allowed() -> None:
    opts = dk.hardened_options("os", "r1", dk.DockerLimits())
    assert opts["network_mode"] == "none" and opts["cap_drop"] == ["ALL"]
    assert dk.hardened_options("web", "r1", dk.DockerLimits(), network="host")["network_mode"] == "host"
    with pytest.raises(ValueError, match="never a bridge"):
        dk.hardened_options("os", "r1", dk.DockerLimits(), network="bridge")


def test_owner_label_tells_live_from_dead_processes() -> None:
    assert dk._owner_alive(dk.owner_label())
    p = subprocess.Popen(["true"])
    label = dk.owner_label(p.pid)
    p.wait()
    assert not dk._owner_alive(label)
    assert dk._owner_alive("other-host:1:1")  # not ours to judge


def _bare_container(run_id: str, owner: str | None = None) -> str:
    client = dk.docker_client()
    opts = dk.hardened_options("os", run_id, dk.DockerLimits())
    if owner is not None:
        opts["labels"][dk.LABEL_OWNER] = owner
    ctr = client.containers.run(dk.OS_IMAGE, ["sleep", "300"], init=True, **opts)
    return ctr.id


@needs_docker
def test_prune_removes_only_the_given_run() -> None:
    other = f"{RUN_ID}-other"
    a = _bare_container(RUN_ID)
    b = _bare_container(other)
    try:
        assert {c.id for c in dk.list_managed(RUN_ID)} == {a}
        assert dk.prune(RUN_ID) == 0  # its owner (this process) is alive: not a leftover
        assert dk.prune(RUN_ID, include_live=True) == 1
        assert dk.list_managed(RUN_ID) == []
        assert [c.id for c in dk.list_managed(other)] == [b]
    finally:
        dk.prune(other, include_live=True)
    assert dk.list_managed(other) == []


@needs_docker
def test_a_killed_run_leaves_no_os_container(tmp_path: Path) -> None:
    run = f"{RUN_ID}-killed"
    script = tmp_path / "victim.py"
    script.write_text(textwrap.dedent(f"""
        import anyio, sys
        from agentsafe.runtime.docker import DockerOSBackend
        async def main():
            b = DockerOSBackend(run_id={run!r})
            await b.start()
            print("up", flush=True)
            await anyio.sleep(300)
        anyio.run(main)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"up"
        left = dk.list_managed(run)
        assert len(left) == 1 and left[0].status == "running"
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup code runs
        proc.wait()
    # The control server (PID 1) reads EOF when its harness's connection drops; the
    # container exits and removes itself.
    deadline = time.monotonic() + 30
    while dk.list_managed(run) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dk.list_managed(run) == []


@needs_docker
def test_leftovers_of_dead_owners_are_reaped_at_next_start() -> None:
    p = subprocess.Popen(["true"])
    dead_owner = dk.owner_label(p.pid)
    p.wait()
    orphan = _bare_container(f"{RUN_ID}-orphan", owner=dead_owner)  # e.g. an app container
    live = _bare_container(f"{RUN_ID}-live")  # owned by this (living) process
    try:
        assert dk.reap_orphans() >= 1
        assert dk.list_managed(f"{RUN_ID}-orphan") == []
        assert [c.id for c in dk.list_managed(f"{RUN_ID}-live")] == [live]
    finally:
        dk.prune(f"{RUN_ID}-live", include_live=True)
        dk.prune(f"{RUN_ID}-orphan", include_live=True)
    assert orphan


@needs_docker
@pytest.mark.anyio
async def test_container_dying_mid_episode_is_a_sandbox_error(tmp_path: Path) -> None:
    seed = tmp_path
    (seed / "a.txt").write_text("a")
    box = dk.DockerOSBackend(run_id=RUN_ID)
    await box.start()
    try:
        await box.reset(seed, {}, [])
        assert (await box.exec("cat a.txt")).stdout == b"a"
        box.container.kill()  # the daemon (or the OOM killer) takes the container away
        with pytest.raises(SandboxError, match="mid-episode"):
            await box.exec("echo hi")
    finally:
        await box.close()
    assert dk.list_managed(RUN_ID) == []


@needs_docker
@pytest.mark.anyio
async def test_missing_image_says_make_images() -> None:
    box = dk.DockerOSBackend(image=f"agentsafe/does-not-exist-{uuid.uuid4().hex[:6]}:latest",
                             run_id=RUN_ID)
    with pytest.raises(SandboxError, match="make images"):
        await box.start()
    await box.close()


@needs_docker
@pytest.mark.anyio
async def test_start_to_first_command_and_close_leave_nothing() -> None:
    async with dk.DockerOSBackend(run_id=RUN_ID) as box:
        r = await box.exec("echo $HOME; whoami; test -w / || echo ro")
        assert r.stdout == b"/home/user\nuser\nro\n"
        code, out = await box.raw_exec(["echo", "raw"])
        assert (code, out) == (0, b"raw\n")
    assert dk.list_managed(RUN_ID) == []


@needs_docker
def test_cli_sandbox_prune_removes_a_dead_runs_containers_only() -> None:
    run = f"{RUN_ID}-cli"
    p = subprocess.Popen(["true"])
    p.wait()
    _bare_container(run, owner=dk.owner_label(p.pid))  # its owner is gone: a leftover
    live = _bare_container(run)  # owned by this living process
    try:
        out = subprocess.run([sys.executable, "-m", "agentsafe.cli", "sandbox", "prune", "--run",
                              run], capture_output=True, text=True, cwd=ROOT, timeout=120,
                             check=False)
        assert out.returncode == 0, out.stderr
        assert "removed 0 container" not in out.stdout
        assert [c.id for c in dk.list_managed(run)] == [live]
    finally:
        dk.prune(run, include_live=True)
