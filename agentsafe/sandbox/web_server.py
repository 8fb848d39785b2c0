"""Control of the web apps' server process (sandboxes/web/server.py): spawn it on 127.0.0.1 with
a random port, wait until it answers, and call its per-host control endpoints."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

from agentsafe.errors import ConfigError, SandboxError
from agentsafe.paths import SANDBOXES_DIR

SERVER_PY = SANDBOXES_DIR / "web" / "server.py"


class AppServer:
    """One server process serving every web app; stops when closed or when its parent dies
    (it watches its stdin)."""

    def __init__(self, apps: list[str] | None = None, startup_timeout: float = 20.0) -> None:
        self.apps = apps
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.hosts: dict[str, list[str]] = {}  # app name -> hosts
        self.token = secrets.token_hex(16)
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def all_hosts(self) -> set[str]:
        return {h for hs in self.hosts.values() for h in hs}

    def host_of(self, app: str | None) -> str:
        """The first host of `app` (default: the only/first app); SandboxError if unknown."""
        if app is None:
            app = next(iter(self.hosts), None)
        if app not in self.hosts:
            raise SandboxError(f"unknown web app '{app}' (known: {', '.join(sorted(self.hosts))})")
        return self.hosts[app][0]

    async def start(self) -> None:
        """Spawn the server and wait for its ready line and a healthy answer."""
        if self._proc is not None:
            return
        self._workdir = Path(tempfile.mkdtemp(prefix=f"agentsafe-web-{os.getpid()}-"))
        # the token travels in the environment, never on the command line (`ps` shows that)
        args = ["--workdir", str(self._workdir), "--watch-stdin"]
        if self.apps:
            args += ["--apps", ",".join(self.apps)]
        self._proc = self.spawn(args, self._workdir / "server.log")
        try:
            line = await self._read_ready_line()
            info = json.loads(line)
            self.port, self.hosts = int(info["port"]), info["hosts"]
        except Exception as e:
            log = self._log_tail()
            await self.close()
            raise SandboxError(f"web app server did not start: {e}\n{log}") from e
        self._client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}", trust_env=False, timeout=10.0
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:  # readiness by polling
            try:
                r = await self._client.get("/__agentsafe__/health")
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                await self.close()
                raise SandboxError("web app server never became healthy")
            await anyio.sleep(0.02)

    def spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start `server.py ARGS` with stdin/stdout pipes (stdout's first line is the ready
        line; closing stdin stops it). Runtimes that host the server elsewhere (a container
        on the host network, bound to 127.0.0.1) override this one method."""
        stderr = open(log, "wb")  # noqa: SIM115 - owned by the process
        try:
            env = {**os.environ, "AGENTSAFE_WEB_TOKEN": self.token}
            return subprocess.Popen([sys.executable, str(SERVER_PY), *args], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=stderr, close_fds=True,
                                    env=env)
        finally:
            stderr.close()

    async def _read_ready_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        with anyio.fail_after(self.startup_timeout):
            line = await anyio.to_thread.run_sync(stdout.readline)
        if not line:
            raise SandboxError(f"exited with code {self._proc.wait()}")
        return line.decode()

    def _log_tail(self) -> str:
        if self._workdir and (self._workdir / "server.log").exists():
            return (self._workdir / "server.log").read_text(errors="replace")[-2000:]
        return ""

    def _headers(self, host: str) -> dict[str, str]:
        return {"host": host, "x-agentsafe-token": self.token}

    async def control(self, method: str, host: str, action: str, body: Any = None) -> httpx.Response:
        """Call /__agentsafe__/<action> on `host`; SandboxError on any failure."""
        if self._client is None:
            raise SandboxError("web app server is not running")
        try:
            r = await self._client.request(method, f"/__agentsafe__/{action}",
                                           headers=self._headers(host), json=body)
        except httpx.HTTPError as e:
            raise SandboxError(f"web app server unreachable ({action}): {e}") from e
        if r.status_code == 400:  # the scenario's data was refused (bad SQL, unknown carrier)
            raise ConfigError("", None, action, f"{host}: {r.json().get('error', r.text)}")
        if r.status_code != 200:
            raise SandboxError(f"web app server {action} on {host} failed: {r.text}")
        return r

    async def reset(self, host: str, sql: str | None = None, injections: list[dict] | None = None,
                    exclusive: bool = True) -> None:
        """Seed DB over working DB, extra SQL, then injections (one request). `exclusive`:
        until the next reset only this app's hosts are served (the others answer 404)."""
        await self.control("POST", host, "reset", {"sql": sql, "injections": injections or [],
                                                   "exclusive": exclusive})

    async def state(self, host: str) -> bytes:
        return (await self.control("GET", host, "state")).content

    async def inject(self, host: str, carrier: str, target: dict, text: str) -> None:
        await self.control("POST", host, "inject", {"carrier": carrier, "target": target, "text": text})

    async def close(self) -> None:
        """Stop the process (closing stdin makes it exit) and remove its files. Idempotent."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                await anyio.to_thread.run_sync(lambda: proc.wait(timeout=5))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
