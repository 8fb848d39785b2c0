"""The Docker runtime: one hardened, labelled container per sandbox, through the docker SDK.

`DockerOSBackend` implements `agentsafe.runtime.base.OSBackend` by running the shared control
script (`sandboxes/os/control.py serve`) inside an `agentsafe/os` container over one attached
`docker exec` session, so the local and Docker runtimes run the same reset/exec/snapshot code.
App servers (web, phone) live in `docker_apps`, which imports this module, never the reverse.
`prune()` removes labelled containers; leftovers of killed runs are reaped at the next start.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import io
import json
import os
import socket
import struct
import tarfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Self

import anyio
from pydantic import Field, ValidationError

from agentsafe.errors import ConfigError, IntegrityError, SandboxError, SandboxTimeout
from agentsafe.models.base import Record, Strict
from agentsafe.models.state import FileState, StateSnapshot
from agentsafe.paths import SANDBOXES_DIR
from agentsafe.runtime.base import (
    DEFAULT_TIMEOUT,
    GID,
    HOME,
    MAX_OUTPUT,
    MAX_TIMEOUT,
    SANDBOX_PATH,
    UID,
    DirEntry,
    ExecResult,
    FileOpError,
    Placement,
    ProcessInfo,
    ServiceSpec,
)
from agentsafe.runtime.control_auth import ControlAuth

LABEL_MANAGED = "agentsafe.managed"
LABEL_RUN = "agentsafe.run"
LABEL_KIND = "agentsafe.kind"
LABEL_OWNER = "agentsafe.owner"
OS_IMAGE = os.environ.get("AGENTSAFE_OS_IMAGE", "agentsafe/os:latest")
# tmpfs inside the container holding the unpacked seeds: owned by root, written only by a root
# `tar` exec, so the agent (uid 1000) can read the pristine seed but never change it
CONTROL_DIR = "/run/agentsafe"
BASH_ENV_NAME = ".agentsafe_bash_env"  # sandboxes/os/effects.py writes it; see Recorder._bash_env
MAX_REPLY = 256 * 1024 * 1024  # one control reply; larger is a state the agent blew up
FIX = ("start the Docker daemon (`bash .ci/docker.sh`, or `dockerd &` as root) or point "
       "DOCKER_HOST at a running one")

# PID 1 of an OS container: the control server itself, as on the local runtime (bwrap
# --as-pid-1), so `kill -9 -1` cannot kill it and it reaps adopted orphans. This bootstrap
# reads the current control script from stdin (a length line, then the source), then serves
# JSON lines on the same stdin. Stdin closes when the harness disconnects (StdinOnce): the
# server exits and the container removes itself (auto_remove), even if the harness was killed.
_BOOT = ("import sys, types\n"
         "for _ in range(int(sys.stdin.buffer.readline())):\n"  # helper modules (effects.py)
         "    name, k = sys.stdin.buffer.readline().decode().split()\n"
         "    mod = types.ModuleType(name)\n"
         "    code = compile(sys.stdin.buffer.read(int(k)), f'/opt/agentsafe/{name}.py', 'exec')\n"
         "    exec(code, mod.__dict__)\n"
         "    sys.modules[name] = mod\n"
         "n = int(sys.stdin.buffer.readline())\n"
         "src = sys.stdin.buffer.read(n)\n"
         "sys.argv = ['control.py', 'serve']\n"
         "exec(compile(src, '/opt/agentsafe/control.py', 'exec'), {'__name__': '__main__'})\n")

def _sandbox_env() -> dict[str, str]:
    """The same environment the local runtime gives commands (runtime parity)."""
    try:
        from agentsafe.runtime.local import sandbox_env
        return dict(sandbox_env())
    except ImportError:  # pragma: no cover - the local runtime is part of the package
        return {"PATH": SANDBOX_PATH, "HOME": HOME, "USER": "user", "LOGNAME": "user",
                "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "SHELL": "/bin/bash", "TERM": "dumb",
                "HOSTNAME": "devbox"}


class DockerLimits(Strict):
    """Hardening and resource limits of one container (the defaults are the secure ones)."""

    mem_limit: str = Field(default=os.environ.get("AGENTSAFE_DOCKER_MEM", "512m"),
                           description="memory (and memory+swap) limit; tmpfs pages count too")
    pids_limit: int = 256
    cpus: float = 1.0
    read_only: bool = True
    home_size: str = "256m"
    tmp_size: str = "64m"
    control_size: str = "128m"


class ContainerInfo(Record):
    """What `list_managed()` reports about one labelled container."""

    id: str
    name: str
    status: str
    run: str = ""
    kind: str = ""
    owner: str = ""


# ------------------------------------------------------------------ client and labels

_client_lock = threading.Lock()
_client: Any = None
_reaped = False
_live: dict[str, Any] = {}  # container id -> Container, removed at interpreter exit
REAPED: list[int] = []  # containers of dead runs removed when this process connected


def docker_client() -> Any:
    """The process-wide docker SDK client; SandboxError naming the fix when the daemon is
    unreachable. The first call also reaps containers left behind by killed runs."""
    global _client, _reaped
    with _client_lock:
        if _client is None:
            try:
                import docker
                from docker.errors import DockerException
            except ImportError as exc:  # pragma: no cover - docker is a dependency
                raise SandboxError(f"the docker SDK is not installed ({exc}): pip install docker")
            try:
                client = docker.from_env(timeout=120)
                client.ping()
            except DockerException as exc:
                where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
                raise SandboxError(f"the Docker daemon is unreachable at {where} ({exc}); {FIX}") from None
            _client = client
        if not _reaped:
            _reaped = True
            with contextlib.suppress(Exception):  # best effort: never blocks a run
                REAPED.append(reap_orphans(_client))
        return _client


def daemon_available() -> bool:
    """True when a Docker daemon answers (tests use it to skip with a clear reason)."""
    try:
        docker_client()
        return True
    except SandboxError:
        return False


def _proc_start(pid: int) -> str:
    """Start time of a process (clock ticks since boot), '' when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        return raw[raw.rfind(")") + 2:].split()[19]
    except (OSError, IndexError):
        return ""


def owner_label(pid: int | None = None) -> str:
    """`host:pid:starttime` of the process that owns a container (pid reuse safe)."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid)}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_s, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_s.isdigit():
        return True  # another machine's container: not ours to judge
    return _proc_start(int(pid_s)) == start and start != ""


def list_managed(run_id: str | None = None) -> list[ContainerInfo]:
    """Every container agentsafe labelled (optionally of one run), running or not."""
    client = docker_client()
    flt = [f"{LABEL_MANAGED}=1"] + ([f"{LABEL_RUN}={run_id}"] if run_id else [])
    out = []
    # One list call, no per-container inspect: an auto-removed container that vanishes between
    # a list and an inspect would otherwise raise NotFound here (and in prune).
    for c in client.api.containers(all=True, filters={"label": flt}):
        lab = c.get("Labels") or {}
        name = (c.get("Names") or [""])[0].lstrip("/")
        out.append(ContainerInfo(id=c["Id"], name=name, status=c.get("State", ""),
                                 run=lab.get(LABEL_RUN, ""), kind=lab.get(LABEL_KIND, ""),
                                 owner=lab.get(LABEL_OWNER, "")))
    return out


def _remove(client: Any, cid: str, wait: float = 20.0) -> bool:
    """Force-remove a container and wait until it is gone (an auto-removing one may already
    be on its way out); False when it did not exist."""
    from docker.errors import APIError, NotFound

    try:
        client.api.remove_container(cid, force=True, v=True)
        return True
    except NotFound:
        return False
    except APIError as exc:
        if "already in progress" not in str(exc) and "is not running" not in str(exc):
            raise
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            client.api.inspect_container(cid)
        except NotFound:
            return True
        time.sleep(0.05)
    return True


def prune(run_id: str | None = None, include_live: bool = False) -> int:
    """Remove agentsafe's labelled containers of dead runs (owner process gone; all of them,
    or one run's); `include_live` removes live runs' too. Returns how many.
    `agentsafe sandbox prune [--run RUN] [--all]` calls this."""
    client = docker_client()
    return sum(_remove(client, c.id) for c in list_managed(run_id)
               if include_live or not c.owner or not _owner_alive(c.owner))


def reap_orphans(client: Any = None) -> int:
    """Remove labelled containers whose owning process on this host is gone (a killed run)."""
    client = client or docker_client()
    n = 0
    for c in client.containers.list(all=True, filters={"label": [f"{LABEL_MANAGED}=1"]}):
        owner = (c.labels or {}).get(LABEL_OWNER, "")
        if owner and not _owner_alive(owner):
            n += _remove(client, c.id)
    return n


@atexit.register
def _remove_live() -> None:
    """Containers of this process still up at interpreter exit (close() not called)."""
    if _client is None:
        return
    for cid in list(_live):
        with contextlib.suppress(Exception):
            _remove(_client, cid)
    _live.clear()


def hardened_options(kind: str, run_id: str, limits: DockerLimits, *,
                     network: str = "none") -> dict[str, Any]:
    """`containers.create` keyword arguments for a hardened, labelled sandbox container:
    no network (or host for 127.0.0.1 app servers), no capabilities, no-new-privileges,
    pids/memory/CPU limits, read-only root with tmpfs for the writable places, user 1000."""
    if network not in ("none", "host"):
        raise ValueError("only network 'none' or 'host' (never a bridge) is allowed")
    # `exec`: Docker mounts tmpfs noexec by default, but scripts in ~/bin and /tmp must run
    # as they do on the local runtime.
    tmpfs_opts = f"rw,exec,nosuid,nodev,uid={UID},gid={GID}"
    return {
        "labels": {LABEL_MANAGED: "1", LABEL_RUN: run_id, LABEL_KIND: kind,
                   LABEL_OWNER: owner_label()},
        "network_mode": network,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.pids_limit,
        "mem_limit": limits.mem_limit,
        "memswap_limit": limits.mem_limit,
        "nano_cpus": int(limits.cpus * 1e9),
        "read_only": limits.read_only,
        "tmpfs": {
            "/tmp": f"{tmpfs_opts},mode=1777,size={limits.tmp_size}",
            HOME: f"{tmpfs_opts},mode=0755,size={limits.home_size}",
            CONTROL_DIR: f"rw,noexec,nosuid,nodev,uid=0,gid=0,mode=0755,size={limits.control_size}",
        },
        "user": f"{UID}:{GID}",
        "ipc_mode": "private",
        "detach": True,
    }


def run_id_default() -> str:
    """The run id containers are labelled with when the caller gives none."""
    return os.environ.get("AGENTSAFE_RUN_ID") or f"adhoc-{os.getpid()}"


_images_seen: set[str] = set()


def _image_or_fix(client: Any, image: str) -> None:
    """SandboxError naming `make images` when the image is missing (checked once a process)."""
    from docker.errors import ImageNotFound

    if image in _images_seen:
        return
    try:
        client.images.get(image)
        _images_seen.add(image)
    except ImageNotFound:
        raise SandboxError(f"Docker image {image} not found: build it with `make images` "
                           "(python sandboxes/build_images.py)") from None


def died_reason(container: Any) -> str | None:
    """None while the container runs, else a sentence saying how it ended."""
    from docker.errors import NotFound

    try:
        container.reload()
    except NotFound:
        return f"container {container.name} was removed"
    if container.status == "running":
        return None
    st = container.attrs.get("State", {})
    oom = " (OOM-killed)" if st.get("OOMKilled") else ""
    return f"container {container.name} {container.status}, exit code {st.get('ExitCode')}{oom}"


def cgroup_stats(container: Any) -> dict[str, int]:
    """Counters of a container's cgroups read on the daemon's host (cgroup v1 or v2):
    pids_current, pids_max, pids_limit_hits, mem_limit_hits, oom_kills. Empty when the cgroup
    files are not visible from here (remote daemon)."""
    cid = container.id
    out: dict[str, int] = {}

    def read(path: str) -> str | None:
        try:
            return Path(path).read_text()
        except OSError:
            return None

    def kv(text: str | None) -> dict[str, int]:
        pairs = (line.split() for line in (text or "").splitlines())
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}

    v1 = {k: f"/sys/fs/cgroup/{k}/docker/{cid}" for k in ("pids", "memory")}
    v2 = next((d for d in (f"/sys/fs/cgroup/system.slice/docker-{cid}.scope",
                           f"/sys/fs/cgroup/docker/{cid}") if Path(d).is_dir()), None)
    if Path(v1["pids"]).is_dir():
        pids, mem = v1["pids"], v1["memory"]
        out["mem_limit_hits"] = int(read(f"{mem}/memory.failcnt") or 0)
        out["oom_kills"] = kv(read(f"{mem}/memory.oom_control")).get("oom_kill", 0)
    elif v2:
        pids = v2
        out["oom_kills"] = kv(read(f"{v2}/memory.events")).get("oom_kill", 0)
        out["mem_limit_hits"] = kv(read(f"{v2}/memory.events")).get("max", 0)
    else:
        return {}
    out["pids_current"] = int(read(f"{pids}/pids.current") or 0)
    mx = (read(f"{pids}/pids.max") or "0").strip()
    out["pids_max"] = int(mx) if mx.isdigit() else 0
    out["pids_limit_hits"] = kv(read(f"{pids}/pids.events")).get("max", 0)
    return out


# ------------------------------------------------------------------ attached exec sessions


class _Attached:
    """A hijacked Docker API stream (an exec's or a container's stdin/stdout/stderr): write
    bytes, read the multiplexed stdout/stderr frames."""

    def __init__(self, api: Any, io_: Any, exec_id: str | None = None) -> None:
        self._api, self._io, self.exec_id = api, io_, exec_id
        self.sock: socket.socket = io_._sock
        self._buf = bytearray()
        self.stderr = bytearray()
        self.eof = False

    @classmethod
    def exec(cls, container: Any, cmd: list[str], *, user: str, env: dict[str, str],
             workdir: str = "/") -> _Attached:
        """`docker exec -i` of `cmd` in a running container."""
        api = container.client.api
        exec_id = api.exec_create(container.id, cmd, stdin=True, stdout=True, stderr=True,
                                  user=user, environment=env, workdir=workdir)["Id"]
        return cls(api, api.exec_start(exec_id, socket=True), exec_id)

    @classmethod
    def container(cls, api: Any, cid: str) -> _Attached:
        """`docker attach` to a (created, not yet started) container's stdio."""
        io_ = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                             "stream": 1})
        return cls(api, io_)

    def send(self, data: bytes) -> None:
        """Write to the process's stdin."""
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        """Half-close: the process reads EOF."""
        self.sock.shutdown(socket.SHUT_WR)

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def frame(self, deadline: float) -> tuple[int, bytes]:
        """Next (stream, payload) frame; stream 1 = stdout, 2 = stderr."""
        stream, size = struct.unpack(">BxxxL", self._recv_exact(8, deadline))
        return stream, self._recv_exact(size, deadline)

    def read_all(self, deadline: float) -> bytes:
        """Stdout until EOF (stderr kept in .stderr)."""
        out = bytearray()
        try:
            while True:
                stream, data = self.frame(deadline)
                (out if stream == 1 else self.stderr).extend(data)
        except EOFError:
            self.eof = True
        return bytes(out)

    def exit_code(self) -> int | None:
        """The exec'd process's exit code once it ended."""
        return self._api.exec_inspect(self.exec_id).get("ExitCode") if self.exec_id else None

    def close(self) -> None:
        """Drop the connection (the process sees EOF on stdin and SIGPIPE on output)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(Exception):
            self._io.close()


class ControlSession:
    """The control server (PID 1 of an OS container), spoken to in JSON lines over the
    container's attached stdio, one request at a time."""

    def __init__(self, att: _Attached) -> None:
        self._att: _Attached | None = att
        self._lines = bytearray()
        self._auth = ControlAuth()
        self._lock = threading.Lock()

    def _open(self) -> _Attached:
        if self._att is None:
            raise EOFError("the control session is closed")
        return self._att

    def close(self) -> None:
        """Disconnect: the server reads EOF and exits; the container removes itself."""
        if self._att is not None:
            self._att.close()
            self._att = None

    def authenticate(self, wait: float = 30.0) -> None:
        """Install a fresh key in the server (the first request of a session)."""
        req = self._auth.auth_request()
        self.request(req.pop("op"), wait, **req)

    def request(self, op: str, wait: float, rekey: bool = False, **args: Any) -> dict[str, Any]:
        """Send one request and wait for its reply. Raises EOFError when the server died,
        TimeoutError past `wait` seconds, IntegrityError when the reply is not the server's
        (another id, a wrong mac, not JSON, too large); the session is then dropped."""
        with self._lock:
            att = self._open()
            req, new_key = self._auth.stamp({"op": op, **args}, rekey)
            deadline = time.monotonic() + wait
            try:
                att.send(json.dumps(req).encode() + b"\n")
                while True:
                    nl = self._lines.find(b"\n")
                    if nl >= 0:
                        line = bytes(self._lines[:nl])
                        del self._lines[:nl + 1]
                        return self._auth.verify(req, line, new_key)
                    if len(self._lines) > MAX_REPLY:
                        raise IntegrityError(f"the reply to '{op}' exceeds {MAX_REPLY >> 20} MiB: "
                                             "the sandbox's state was made too large to read")
                    stream, data = att.frame(deadline)
                    if stream == 1:
                        self._lines += data
                    else:
                        att.stderr += data
                        del att.stderr[:-4096]
            except (EOFError, OSError, TimeoutError, ValueError, IntegrityError):
                self.close()
                raise


# ------------------------------------------------------------------ OS backend


def _seed_modes(src: Path) -> dict[str, int]:
    """relpath -> permission bits of every entry of a seed ("" = the seed dir itself): the
    seed store keeps world-readable copies, the control server restores these modes."""
    out = {"": src.stat().st_mode & 0o7777}
    for root, dirs, files in os.walk(src):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            if not os.path.islink(p):
                out[os.path.relpath(p, src)] = st.st_mode & 0o7777
    return out


def _tar_dir(src: Path, skip_secrets: bool = False) -> bytes:
    """An uncompressed tar of a directory's contents (symlinks kept, owner dropped, every entry
    world-readable: the real modes travel apart, see _seed_modes); `skip_secrets`: without
    the secret-looking files (they travel apart too, see agentsafe/runtime/seed_secrets.py)."""
    from agentsafe.runtime.seed_secrets import is_secret

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def strip_owner(ti: tarfile.TarInfo) -> tarfile.TarInfo | None:
            if skip_secrets and ti.isfile() and is_secret(ti.name):
                return None
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if not ti.issym():
                ti.mode = 0o755 if ti.isdir() or ti.mode & 0o100 else 0o644
            return ti
        for p in sorted(src.iterdir()):
            tar.add(str(p), arcname=p.name, recursive=True, filter=strip_owner)
    return buf.getvalue()


def _tar_file(name: str, data: bytes) -> bytes:
    """A tar holding one world-readable file (`name` may have directories)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        parts = name.split("/")
        for i in range(1, len(parts)):
            d = tarfile.TarInfo("/".join(parts[:i]))
            d.type, d.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(d)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o444, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _tree_key(src: Path) -> str:
    """Cheap identity of a directory tree: paths, sizes, modes and mtimes."""
    h = hashlib.sha256(str(src.resolve()).encode())
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files) + dirs:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            h.update(f"{os.path.relpath(p, src)}\0{st.st_size}\0{st.st_mode}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


class DockerOSBackend:
    """An OS sandbox in a container of `agentsafe/os`: no network, no capabilities, read-only
    root, tmpfs home, limits; reset restores the seed home inside the running container."""

    kind = "os"

    def __init__(self, image: str = OS_IMAGE, run_id: str | None = None,
                 limits: DockerLimits | dict[str, Any] | None = None,
                 control_script: Path | None = None, **limit_overrides: Any) -> None:
        try:
            base = limits if isinstance(limits, DockerLimits) else DockerLimits(**(limits or {}))
            if limit_overrides:
                base = DockerLimits(**{**base.model_dump(), **limit_overrides})
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err.get("loc", ()))
            raise ConfigError("", None, f"sandbox_options.os.{field}",
                              f"Docker OS runtime: {err.get('msg')} (options: image, run_id, "
                              f"{', '.join(DockerLimits.model_fields)})") from None
        self.image = image
        self.run_id = run_id or run_id_default()
        self.limits = base
        self.control_script = control_script or SANDBOXES_DIR / "os" / "control.py"
        self.container: Any = None
        self.session: ControlSession | None = None
        self.restarts = 0  # hard restarts (fork bombs) since start
        # tree key -> (unpacked seed dir in the container, the seed's real modes, its secret
        # files: not in the world-readable store, sent with each reset)
        self._seeds: dict[str, tuple[str, dict[str, int], dict[str, Any]]] = {}
        self._env = _sandbox_env()
        self.transactional = False  # guard mode: steps can be rolled back (OSSandbox sets it)

    # -- lifecycle

    async def start(self) -> None:
        """Create and start the container, copy the control script in, open the session."""
        if self.container is not None:
            return
        await anyio.to_thread.run_sync(self._start_sync)

    def _start_sync(self) -> None:
        client = docker_client()
        _image_or_fix(client, self.image)
        api = client.api
        name = f"agentsafe-os-{self.run_id[:24]}-{uuid.uuid4().hex[:8]}".replace("/", "-")
        opts = hardened_options("os", self.run_id, self.limits, network="none")
        # /dev/shm owned by the sandbox user (as on the local runtime), not Docker's root-owned
        # IPC mount: guard mode puts its mode and times back after a blocked step
        opts["tmpfs"]["/dev/shm"] = (f"rw,exec,nosuid,nodev,uid={UID},gid={GID},mode=1777,"
                                     f"size={self.limits.tmp_size}")
        from docker.types import Mount

        from agentsafe.runtime.tls import CA_BUNDLE, SYSTEM_BUNDLE, material

        # the run's CA bundle bound read-only from this host where the environment names it and
        # over the system bundle, as on the local runtime (a daemon on another host cannot see
        # the file: the bundle is then unpacked by a root exec, see below)
        bundle = material()["bundle_path"]
        binds = [Mount(target, bundle, type="bind", read_only=True)
                 for target in (CA_BUNDLE, SYSTEM_BUNDLE)]

        def create(mounts: list[Any]) -> str:
            host_config = api.create_host_config(
                auto_remove=True, mounts=mounts, **{k: opts[k] for k in (
                    "network_mode", "cap_drop", "security_opt", "pids_limit", "mem_limit",
                    "memswap_limit", "nano_cpus", "read_only", "tmpfs", "ipc_mode")},
                # the effect recorder's DNS sink answers on 127.0.0.1:53 (sandboxes/os/effects.py)
                dns=["127.0.0.1"], sysctls={"net.ipv4.ip_unprivileged_port_start": "0"})
            return api.create_container(
                self.image, ["python3", "-I", "-S", "-c", _BOOT], name=name, user=opts["user"],
                environment=self._env, working_dir=HOME, labels=opts["labels"],
                hostname=self._env.get("HOSTNAME", "devbox"),
                stdin_open=True, tty=False,  # with detach=False the SDK sets StdinOnce too
                host_config=host_config)["Id"]

        from docker.errors import APIError

        try:
            try:
                cid, bound = create(binds), True
            except APIError as exc:
                if "bind source path does not exist" not in str(exc):
                    raise
                cid, bound = create([]), False
            _live[cid] = cid
            att = _Attached.container(api, cid)  # before start: no output is missed
            api.start(cid)
            self.container = client.containers.get(cid)
        except Exception as exc:  # noqa: BLE001 - any daemon refusal is an infra error
            raise SandboxError(f"cannot start an OS container from {self.image}: {exc}") from None
        # without the bind (a remote daemon): the bundle root-owned (read-only to the agent) in
        # the control dir, unpacked by a root exec while the control server boots
        placed: list[BaseException | None] = [] if not bound else [None]

        def place_bundle() -> None:
            try:
                self._untar(_tar_file(CA_BUNDLE.removeprefix(CONTROL_DIR + "/"),
                                      material()["bundle_pem"]), CONTROL_DIR)
                placed.append(None)
            except BaseException as e:  # noqa: BLE001 - re-raised in the starting thread
                placed.append(e)

        placer = threading.Thread(target=place_bundle, name="ca-bundle", daemon=True)
        if not bound:
            placer.start()
        script = self.control_script.read_bytes()
        helper = (self.control_script.parent / "effects.py").read_bytes()
        try:
            att.send(f"1\neffects {len(helper)}\n".encode() + helper
                     + f"{len(script)}\n".encode() + script)
        except OSError as exc:
            raise self._dead() or SandboxError(f"cannot reach the OS container: {exc}") from None
        self.session = ControlSession(att)
        try:
            self.session.authenticate()
        except (EOFError, OSError, TimeoutError) as exc:
            raise self._dead() or SandboxError(f"the OS container's control server did not "
                                               f"start: {exc!r}") from None
        from agentsafe.runtime.tls import tls_request

        # the CA's signing numbers go to the control server only (its memory)
        self._call_sync("tls", 30.0, **{k: v for k, v in tls_request().items() if k != "op"})
        if not bound:
            placer.join(90)
        if not placed or placed[0] is not None:
            raise (placed[0] if placed else SandboxError("placing the CA bundle timed out"))
        # the missing-command reporter the control server wrote to /dev/shm (it cannot write
        # the root-owned control dir) is copied there as root: from the next reset on, the
        # server uses that read-only copy, which the agent can neither silence nor remove
        code, _ = self.container.exec_run(
            ["sh", "-c", f"cp /dev/shm/{BASH_ENV_NAME} {CONTROL_DIR}/ "
                         f"&& chmod 0444 {CONTROL_DIR}/{BASH_ENV_NAME}"], user="0:0")
        if code != 0:
            raise SandboxError("cannot place the missing-command reporter in the control dir")
        self._call_sync("ping", 30.0)

    async def close(self) -> None:
        """Remove the container (idempotent)."""
        ctr, self.container = self.container, None
        if self.session is not None:
            self.session.close()
            self.session = None
        if ctr is not None:
            _live.pop(ctr.id, None)
            await anyio.to_thread.run_sync(lambda: _remove(ctr.client, ctr.id))

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- plumbing

    def _need(self) -> Any:
        if self.container is None or self.session is None:
            raise SandboxError("the Docker OS sandbox is not started (call start() first)")
        return self.container

    def _dead(self) -> SandboxError | None:
        reason = died_reason(self.container)
        return SandboxError(f"{reason} mid-episode") if reason else None

    def _untar(self, data: bytes, dest: str) -> None:
        """Unpack a tar into the root-owned seed store (as root: read-only to the agent)."""
        ctr = self._need() if self.session else self.container
        script = 'mkdir -p "$1" && exec tar -x --no-same-owner -C "$1"'
        att = _Attached.exec(ctr, ["sh", "-c", script, "sh", dest], user="0:0", env=self._env)
        try:
            att.send(data)
            att.close_stdin()
            att.read_all(time.monotonic() + 60)
            code = att.exit_code()
        except (OSError, TimeoutError) as exc:
            raise self._dead() or SandboxError(f"copying into the container failed: {exc}") from None
        finally:
            att.close()
        if code != 0:
            raise self._dead() or SandboxError(
                f"tar -x into {dest} failed ({code}): {att.stderr.decode(errors='replace')[-500:]}")

    def _call_sync(self, op: str, wait: float, **args: Any) -> dict[str, Any]:
        self._need()
        assert self.session is not None
        try:
            reply = self.session.request(op, wait, **args)
        except IntegrityError:
            raise
        except TimeoutError:
            raise self._dead() or SandboxTimeout(
                f"the OS container did not answer '{op}' within {wait:.0f}s") from None
        except (EOFError, OSError, ValueError) as exc:
            # PID 1 cannot be killed from inside: a lost session is a dead container; killed
            # by the out-of-memory killer inside its memory limit, it died of the agent's load
            dead = self._dead()
            if dead is not None and "OOM-killed" in str(dead):
                raise IntegrityError(f"{dead}: the sandbox's memory limit was exhausted") from None
            raise dead or SandboxError(
                f"lost the control server of {self.container.name} mid-episode ({exc!r})") from None
        if reply.get("ok"):
            return reply.get("result") or {}
        err = reply.get("error") or {}
        if err.get("kind") == "file":
            raise FileOpError(err.get("message", "file operation failed"))
        raise SandboxError(f"control '{op}' failed: {err.get('kind')}: {err.get('message')}")

    async def _call(self, op: str, wait: float = 60.0, **args: Any) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(lambda: self._call_sync(op, wait, **args))

    # -- OSBackend

    async def reset(self, seed_dir: Path, files: dict[str, str], placements: list[Placement],
                    services: list[ServiceSpec] | None = None) -> None:
        """Kill episode processes, restore HOME from the seed (unpacked once per seed into the
        container's tmpfs), write files and placements, start services."""
        if self.container is not None and self.session is None:
            # the session was dropped (an integrity failure, a timeout): start afresh
            await anyio.to_thread.run_sync(self._restart_sync)
        self._need()
        seed_dir = Path(seed_dir)
        if not seed_dir.is_dir():
            raise SandboxError(f"seed directory not found on the host: {seed_dir}")

        def prepare() -> tuple[str, dict[str, int], dict[str, Any]]:
            from agentsafe.runtime.seed_secrets import secret_files

            key = _tree_key(seed_dir)
            if key not in self._seeds:
                dest = f"{CONTROL_DIR}/seeds/{key}"
                self._untar(_tar_dir(seed_dir, skip_secrets=True), dest)
                self._seeds[key] = (dest, _seed_modes(seed_dir), secret_files(seed_dir))
            return self._seeds[key]

        await self.kill_all()  # first: a restart would drop the unpacked seeds
        seed, modes, secrets = await anyio.to_thread.run_sync(prepare)
        await self._call("reset", 60.0, rekey=True, seed=seed, seed_modes=modes,
                         seed_secrets=secrets,
                         files=dict(files), placements=[p.model_dump() for p in placements],
                         services=[s.model_dump() for s in services or []])

    async def exec(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> ExecResult:
        """Run `bash -c command` as the user in HOME (process group killed on timeout)."""
        timeout = min(max(float(timeout), 0.1), MAX_TIMEOUT)
        try:
            r = await self._call("exec", timeout + 15.0, command=command, timeout=timeout,
                                 txn=self.transactional,
                                 max_output=MAX_OUTPUT)
        except FileOpError as e:  # e.g. the agent deleted its own home: bash cannot start
            return ExecResult(exit_code=126, stderr=str(e).encode())
        return ExecResult(exit_code=r["exit_code"], stdout=base64.b64decode(r["stdout_b64"]),
                          stderr=base64.b64decode(r["stderr_b64"]), timed_out=r["timed_out"],
                          truncated=r["truncated"], duration=r["duration"],
                          egress=r.get("egress", []), effects=r.get("effects") or {})

    async def egress(self) -> list[dict[str, Any]]:
        """HTTP(S) attempts the sandbox's egress sink refused since the last exec (e.g. by
        background services)."""
        if self.session is None:
            return []
        return list((await self._call("egress", 30.0)).get("egress", []))

    async def rollback(self) -> dict[str, Any]:
        """Guard mode: undo the last step (its processes, files, killed services; see
        docs/guard.md): {undone, incomplete, killed, restarted}."""
        return await self._call("rollback", 60.0)

    async def effects(self) -> dict[str, Any]:
        """Effects since the last step (background processes), see sandboxes/os/effects.py."""
        if self.session is None:
            return {}
        return await self._call("effects", 30.0)

    async def read_file(self, path: str) -> bytes:
        """Bytes of a file as the sandbox sees it."""
        r = await self._call("read", path=path)
        self.last_effects = r.get("effects") or {}
        return base64.b64decode(r["data_b64"])

    async def write_file(self, path: str, data: bytes) -> dict[str, Any]:
        """Create or overwrite a file as the sandbox user; returns the write's effects."""
        r = await self._call("write", path=path, data_b64=base64.b64encode(data).decode(),
                             txn=self.transactional)
        return r.get("effects") or {}

    async def list_dir(self, path: str) -> list[DirEntry]:
        """Entries of a directory, sorted by name."""
        r = await self._call("list", path=path)
        return [DirEntry(**e) for e in r["entries"]]

    async def processes(self) -> list[ProcessInfo]:
        """Processes alive in the container, harness processes (init, control) excluded."""
        r = await self._call("processes")
        return [ProcessInfo(**p) for p in r["processes"]]

    async def snapshot(self) -> StateSnapshot:
        """The home as files plus data["processes"]."""
        r = await self._call("snapshot")
        procs = await self.processes()
        return StateSnapshot(files={k: FileState(**v) for k, v in r["files"].items()},
                             data={"processes": [p.model_dump() for p in procs],
                                   "files_truncated": r.get("truncated", False)})

    async def kill_all(self) -> int:
        """SIGKILL every episode process; returns how many were killed. When something keeps
        spawning or starves the control server of CPU (a fork bomb at the pids limit), the
        container is replaced instead: a new pid namespace, and reset restores the home."""
        first = 0
        try:
            first = int((await self._call("kill_all", 10.0)).get("killed", 0))
            if first == 0:
                return 0
            again = int((await self._call("kill_all", 10.0)).get("killed", 0))
            if again == 0:
                return first
        except SandboxTimeout:
            again = -1
        except SandboxError as exc:  # processes survived every kill: replace the container
            if "survived kill_all" not in str(exc):
                raise
            again = -1
        await anyio.to_thread.run_sync(self._restart_sync)
        self.restarts += 1
        return first if again < 0 else first + again

    def _restart_sync(self) -> None:
        """Replace the container with a fresh one (everything in it is killed with it)."""
        ctr = self.container
        if ctr is None:
            raise SandboxError("the Docker OS sandbox is not started (call start() first)")
        if self.session is not None:
            self.session.close()
            self.session = None
        _live.pop(ctr.id, None)
        with contextlib.suppress(Exception):
            _remove(ctr.client, ctr.id)
        self.container = None
        self._seeds.clear()
        self._start_sync()

    async def raw_exec(self, argv: list[str]) -> tuple[int, bytes]:
        """A plain `docker exec` through the SDK (the benchmark's floor; diagnostics)."""
        ctr = self._need()
        r = await anyio.to_thread.run_sync(lambda: ctr.exec_run(argv, user=f"{UID}:{GID}",
                                                                environment=self._env))
        return r.exit_code, r.output
