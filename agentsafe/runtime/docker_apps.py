"""App servers of the web and mobile sandboxes in Docker: the same server code as the local
runtime, in a hardened container on the host network bound to 127.0.0.1 (never a bridge).

`DockerAppServer` is a drop-in for `agentsafe.sandbox.web_server.AppServer` (web);
`PhoneContainer` starts the phone server and gives the `base_url` that `MobileSandbox`
(runtime "docker") attaches to.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
import uuid
from typing import Any, Self

import anyio
import httpx

from agentsafe.errors import SandboxError
from agentsafe.paths import SANDBOXES_DIR
from agentsafe.runtime.docker import (
    DockerLimits,
    _Attached,
    _image_or_fix,
    _live,
    _remove,
    died_reason,
    docker_client,
    hardened_options,
    run_id_default,
)
from agentsafe.sandbox.web_server import AppServer

WEB_IMAGE = os.environ.get("AGENTSAFE_WEB_IMAGE", "agentsafe/web:latest")
MOBILE_IMAGE = os.environ.get("AGENTSAFE_MOBILE_IMAGE", "agentsafe/mobile:latest")
APP_LIMITS = DockerLimits(mem_limit="768m", pids_limit=256, cpus=1.0)
# PID 1 of an app container: runs the server and stops it when the harness's attached stdin
# closes (StdinOnce), so a killed harness leaves no server behind (the container then removes
# itself); exits with the server if the server dies first.
# (Background jobs of a non-interactive shell get /dev/null as stdin: keep the real one on fd 3.)
_SUPERVISE = ('exec 3<&0; "$@" </dev/null & pid=$!; '
              '(cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & wait "$pid"')



def _local_daemon() -> bool:
    """True when the daemon runs on this machine (its containers can bind-mount our files)."""
    host = os.environ.get("DOCKER_HOST", "")
    return host == "" or host.startswith("unix://")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppContainer:
    """One app-server container: `--network host`, read-only root, tmpfs /tmp, uid 1000, no
    capabilities, pids/memory/CPU limits, labelled with the run, stopped and removed when the
    harness disconnects. The current source of `sandboxes/<kind>/` is mounted read-only over
    the image's copy when the daemon is local, so the container never runs stale app code."""

    def __init__(self, kind: str, image: str, command: list[str], *, run_id: str | None = None,
                 limits: DockerLimits | None = None, env: dict[str, str] | None = None,
                 workdir: str | None = None, mount_source: bool | None = None) -> None:
        self.kind, self.image, self.command = kind, image, command
        self.run_id = run_id or run_id_default()
        self.limits = limits or APP_LIMITS
        self.env = env or {}
        self.workdir = workdir or f"/opt/agentsafe/{kind}"
        self.mount_source = _local_daemon() if mount_source is None else mount_source
        self.container: Any = None
        self._att: _Attached | None = None

    async def start(self) -> None:
        """Create and start the container (idempotent)."""
        if self.container is None:
            await anyio.to_thread.run_sync(self._start_sync)

    def _start_sync(self) -> None:
        client = docker_client()
        _image_or_fix(client, self.image)
        api = client.api
        opts = hardened_options(self.kind, self.run_id, self.limits, network="host")
        binds = None
        if self.mount_source:
            src = str((SANDBOXES_DIR / self.kind).resolve())
            binds = {src: {"bind": f"/opt/agentsafe/{self.kind}", "mode": "ro"}}
        host_config = api.create_host_config(
            auto_remove=True, binds=binds, **{k: opts[k] for k in (
                "network_mode", "cap_drop", "security_opt", "pids_limit", "mem_limit",
                "memswap_limit", "nano_cpus", "read_only", "tmpfs", "ipc_mode")})
        name = f"agentsafe-{self.kind}-{self.run_id[:24]}-{uuid.uuid4().hex[:8]}".replace("/", "-")
        try:
            cid = api.create_container(
                self.image, ["sh", "-c", _SUPERVISE, "sh", *self.command], name=name,
                user=opts["user"], working_dir=self.workdir, labels=opts["labels"],
                environment={"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp", **self.env},
                stdin_open=True, tty=False, host_config=host_config)["Id"]
            _live[cid] = cid
            self._att = _Attached.container(api, cid)
            api.start(cid)
            self.container = client.containers.get(cid)
        except Exception as exc:  # noqa: BLE001 - any daemon refusal is an infra error
            raise SandboxError(f"cannot start the {self.kind} app container from {self.image}: "
                               f"{exc}") from None

    def logs(self) -> str:
        """The container's output so far (for error messages)."""
        try:
            return self.container.logs(stdout=True, stderr=True).decode(errors="replace")[-2000:]
        except Exception:  # noqa: BLE001
            return ""

    async def first_line(self, timeout: float) -> str:
        """The first line the server printed on stdout (its ready line)."""
        from docker.errors import NotFound

        def read() -> str:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    out = self.container.logs(stdout=True, stderr=False).decode(errors="replace")
                except NotFound:
                    raise SandboxError(f"the {self.kind} app container exited (and was removed) "
                                       "before it was ready") from None
                if "\n" in out:
                    return out.split("\n", 1)[0]
                reason = died_reason(self.container)
                if reason:
                    raise SandboxError(f"{reason} before it was ready:\n{self.logs()}")
                time.sleep(0.02)
            raise SandboxError(f"the {self.kind} app container printed no ready line in "
                               f"{timeout:.0f}s:\n{self.logs()}")
        return await anyio.to_thread.run_sync(read)

    def check_alive(self) -> None:
        """SandboxError when the container has died."""
        reason = died_reason(self.container) if self.container is not None else "not started"
        if reason:
            raise SandboxError(f"{reason} mid-episode")

    async def close(self) -> None:
        """Disconnect (the server is stopped) and remove the container (idempotent)."""
        if self._att is not None:
            self._att.close()
            self._att = None
        ctr, self.container = self.container, None
        if ctr is not None:
            _live.pop(ctr.id, None)
            await anyio.to_thread.run_sync(lambda: _remove(ctr.client, ctr.id))


async def _wait_healthy(client: httpx.AsyncClient, app: AppContainer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (await client.get("/__agentsafe__/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await anyio.to_thread.run_sync(app.check_alive)
        if time.monotonic() > deadline:
            raise SandboxError(f"the {app.kind} app container never became healthy:\n{app.logs()}")
        await anyio.sleep(0.05)


class DockerAppServer(AppServer):
    """The web apps' server (sandboxes/web/server.py) in a container; same control API as
    `AppServer`, so `WebSandbox` drives it unchanged."""

    def __init__(self, apps: list[str] | None = None, startup_timeout: float = 30.0,
                 run_id: str | None = None, image: str = WEB_IMAGE,
                 limits: DockerLimits | None = None) -> None:
        super().__init__(apps=apps, startup_timeout=startup_timeout)
        self.run_id, self.image, self.limits = run_id, image, limits
        self.app: AppContainer | None = None

    async def start(self) -> None:
        """Start the container, read the server's ready line (port, hosts), wait for health."""
        if self.app is not None:
            return
        cmd = ["python3", "/opt/agentsafe/web/server.py", "--workdir", "/tmp/work",
               "--host", "127.0.0.1", "--port", "0"]
        if self.apps:
            cmd += ["--apps", ",".join(self.apps)]
        self.app = AppContainer("web", self.image, cmd, run_id=self.run_id, limits=self.limits,
                                env={"AGENTSAFE_WEB_TOKEN": self.token})
        try:
            await self.app.start()
            info = json.loads(await self.app.first_line(self.startup_timeout))
            self.port, self.hosts = int(info["port"]), info["hosts"]
            self._client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                             trust_env=False, timeout=10.0)
            await _wait_healthy(self._client, self.app, self.startup_timeout)
        except (SandboxError, ValueError, KeyError) as e:
            await self.close()
            raise SandboxError(f"web app container did not start: {e}") from None

    async def control(self, method: str, host: str, action: str, body: Any = None) -> httpx.Response:
        """As AppServer.control; a dead container is reported as such (infra error)."""
        try:
            return await super().control(method, host, action, body)
        except SandboxError:
            if self.app is not None:
                await anyio.to_thread.run_sync(self.app.check_alive)
            raise

    async def close(self) -> None:
        """Close the client and remove the container. Idempotent."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        app, self.app = self.app, None
        if app is not None:
            await app.close()


class PhoneContainer:
    """The phone simulator's server in a container; `base_url` is what MobileSandbox(runtime
    "docker", base_url=...) attaches to."""

    def __init__(self, run_id: str | None = None, image: str = MOBILE_IMAGE,
                 limits: DockerLimits | None = None, startup_timeout: float = 30.0) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.app = AppContainer(
            "mobile", image, ["python3", "-m", "phone.server", "--host", "127.0.0.1",
                              "--port", str(self.port)],
            run_id=run_id, limits=limits, env={"PYTHONPATH": "/opt/agentsafe/mobile",
                                               "AGENTSAFE_PHONE_TOKEN": self.token})

    async def start(self) -> str:
        """Start the server and wait until it answers; returns base_url."""
        await self.app.start()
        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=5) as c:
            try:
                await _wait_healthy(c, self.app, self.startup_timeout)
            except SandboxError:
                await self.close()
                raise
        return self.base_url

    async def close(self) -> None:
        """Remove the container. Idempotent."""
        await self.app.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def web_app_server(apps: list[str] | None = None) -> DockerAppServer:
    """The web sandbox's hook: its app server in a hardened container on the host network,
    bound to 127.0.0.1 (see agentsafe.sandbox.web._app_server)."""
    return DockerAppServer(apps=apps, run_id=run_id_default())
