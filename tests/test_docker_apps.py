"""Web and phone app servers in Docker: hardened containers on the host network bound to
127.0.0.1 only, driven by the unchanged sandboxes (real Chromium), keeping each scenario's
contract (careful reference clean, reckless one caught); a dead app container is an
infrastructure error; nothing left behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docker_ready import docker_missing

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.errors import SandboxError
from agentsafe.models.results import EpisodeResult
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.runtime import docker as dk
from agentsafe.scenarios import load_file

pytestmark = [pytest.mark.docker, pytest.mark.browser, pytest.mark.anyio]
RUN_ID = f"test-apps-{uuid.uuid4().hex[:8]}"
WEB_SCENARIO = SCENARIOS_DIR / "web" / "shop" / "delete-duplicate-order-refused.yaml"
MOBILE_DIR = SCENARIOS_DIR / "mobile"


def _skip_reason() -> str | None:
    if reason := docker_missing("agentsafe/web:latest", "agentsafe/mobile:latest"):
        return reason
    if not Path("/usr/bin/chromium").exists():
        return "chromium missing"
    return None


_reason = _skip_reason()
if _reason:
    pytestmark.append(pytest.mark.skip(reason=_reason))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind() -> object:
    yield None
    assert dk.list_managed(RUN_ID) == [], "an app container was left behind"


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on `port` in the host's
    network namespace, which host-network containers share."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                out.append(local.split(":")[0])
    return out


async def test_web_server_container_is_hardened_and_loopback_only() -> None:
    from agentsafe.runtime.docker_apps import DockerAppServer

    server = DockerAppServer(apps=["shop"], run_id=RUN_ID)
    await server.start()
    try:
        host = server.app.container.attrs["HostConfig"]  # type: ignore[union-attr]
        assert host["NetworkMode"] == "host" and host["CapDrop"] == ["ALL"]
        assert host["ReadonlyRootfs"] is True and host["PidsLimit"] == 256
        assert server.app.container.attrs["Config"]["User"] == "1000:1000"  # type: ignore[union-attr]
        assert server.port is not None
        assert _listeners(server.port) == ["0100007F"]  # 127.0.0.1 only, no wildcard
        shop = server.host_of("shop")
        before = await server.state(shop)
        assert before[:16] == b"SQLite format 3\x00"
        await server.reset(shop, sql="DELETE FROM orders")
        assert await server.state(shop) != before
        await server.reset(shop)
        assert await server.state(shop) == before
    finally:
        await server.close()


async def test_dead_web_container_is_an_infra_error() -> None:
    from agentsafe.runtime.docker_apps import DockerAppServer

    server = DockerAppServer(apps=["shop"], run_id=RUN_ID)
    await server.start()
    try:
        server.app.container.kill()  # type: ignore[union-attr]
        with pytest.raises(SandboxError, match="mid-episode|unreachable"):
            await server.reset(server.host_of("shop"))
    finally:
        await server.close()


def _expected(sc, res: EpisodeResult, unsafe: bool) -> None:  # type: ignore[no-untyped-def]
    """The scenario's own contract, as `agentsafe check` reads it: the careful reference
    completes with no violation; the reckless one violates exactly what it declares."""
    events = [(e.kind, (e.text or "")[:200]) for e in res.events]
    assert res.status.value not in ("infra_error", "agent_error"), (res.error, events)
    if unsafe:
        assert set(sc.unsafe_violates) <= {v.policy_id for v in res.violations}, events
    else:
        assert res.completed and not res.violations, events


@pytest.fixture(scope="module")
async def web_docker(anyio_backend: str) -> AsyncIterator:
    from agentsafe.runtime.docker_apps import DockerAppServer
    from agentsafe.sandbox.web import WebSandbox

    sb = WebSandbox(apps=["shop"], nav_timeout_ms=30000, action_timeout_ms=20000)
    sb.server = DockerAppServer(apps=["shop"], run_id=RUN_ID)  # what runtime="docker" uses
    await sb.start()
    yield sb
    await sb.close()


# The local runtime's results for these scenarios are pinned by the web and mobile rooms' own
# suite tests (and `agentsafe check`); here the same contract must hold with the servers in
# containers. The OS runtime, whose sandbox really differs, is compared episode by episode in
# test_docker_parity.py.
@pytest.mark.parametrize("unsafe", [False, True], ids=["careful", "reckless"])
async def test_web_scenario_contract_holds_on_docker(web_docker, unsafe: bool) -> None:  # type: ignore[no-untyped-def]
    [sc] = load_file(WEB_SCENARIO)
    pols = resolve(sc, load_library())
    res = await run_episode(sc, web_docker, ReferenceAgent(unsafe=unsafe), pols, runtime="docker")
    _expected(sc, res, unsafe)


async def test_mobile_scenario_contract_holds_on_docker() -> None:
    from agentsafe.runtime.docker_apps import PhoneContainer
    from agentsafe.sandbox.mobile import MobileSandbox

    [sc] = load_file(MOBILE_DIR / "otp_forward.yaml")
    pols = resolve(sc, load_library())
    async with PhoneContainer(run_id=RUN_ID) as phone:
        c = phone.app.container.attrs["HostConfig"]
        assert c["NetworkMode"] == "host" and c["ReadonlyRootfs"] is True
        assert _listeners(phone.port) == ["0100007F"]
        docker = MobileSandbox(runtime="docker", base_url=phone.base_url, token=phone.token)
        await docker.start()
        try:
            for unsafe in (False, True):
                res = await run_episode(sc, docker, ReferenceAgent(unsafe=unsafe), pols,
                                        runtime="docker")
                _expected(sc, res, unsafe)
        finally:
            await docker.close()


def test_a_killed_harness_leaves_no_app_container(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    run = f"{RUN_ID}-killed"
    script = tmp_path / "victim.py"
    script.write_text(textwrap.dedent(f"""
        import anyio
        from agentsafe.runtime.docker_apps import DockerAppServer, PhoneContainer
        async def main():
            web = DockerAppServer(apps=["shop"], run_id={run!r})
            await web.start()
            await PhoneContainer(run_id={run!r}).start()
            print("up", flush=True)
            await anyio.sleep(300)
        anyio.run(main)
    """))
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"up"
        assert sorted(c.kind for c in dk.list_managed(run)) == ["mobile", "web"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while dk.list_managed(run) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dk.list_managed(run) == []
