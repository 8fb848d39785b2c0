"""The local OS runtime: one bubblewrap session per sandbox, on this machine.

The session is a long-lived `bwrap` (no network, read-only /usr and /etc, private pid/ipc/uts
namespaces, the home and /tmp on size-capped private tmpfs mounts) whose single command is
`sandboxes/os/control.py serve`, running as the namespace's pid 1 (the agent cannot kill it). Every shell command is forked by that control process, so all
commands and the scenario's background services share one pid namespace: `ps`, `kill` and
`pkill` see what the episode started. When the host user is root the session runs as an
unprivileged uid (1000) through `setpriv`, so the sandbox never holds host-root's file rights.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from agentsafe.errors import IntegrityError, SandboxError, SandboxTimeout
from agentsafe.models.state import FileState, StateSnapshot
from agentsafe.paths import SANDBOXES_DIR
from agentsafe.runtime import cgroups
from agentsafe.runtime.base import (
    DEFAULT_TIMEOUT,
    GID,
    HOME,
    MAX_OUTPUT,
    MAX_TIMEOUT,
    PROXY_PORT,
    SANDBOX_PATH,
    UID,
    USER,
    DirEntry,
    ExecResult,
    FileOpError,
    Placement,
    ProcessInfo,
    ServiceSpec,
)
from agentsafe.runtime.cgroups import CgroupLimits, SandboxCgroup
from agentsafe.runtime.control_auth import ControlAuth
from agentsafe.runtime.seed_secrets import public_copy, secret_files
from agentsafe.runtime.tls import CA_BUNDLE, SYSTEM_BUNDLE, TLS_ENV, material, tls_request

BWRAP = os.environ.get("AGENTSAFE_BWRAP", "/usr/bin/bwrap")
SETPRIV = "/usr/bin/setpriv"
PRLIMIT = "/usr/bin/prlimit"
PYTHON = "/usr/bin/python3"  # the system interpreter: the only one visible inside the sandbox
CONTROL_SCRIPT = SANDBOXES_DIR / "os" / "control.py"
EFFECTS_MODULE = SANDBOXES_DIR / "os" / "effects.py"  # effect capture, imported by control.py
HOSTNAME = "devbox"
INSIDE_CONTROL = "/opt/agentsafe/control.py"
INSIDE_SEED = "/opt/agentsafe/seed"
# /etc entries shared read-only with the sandbox (never shadow, sudoers, ssh host keys...).
ETC_SHARED = [
    "alternatives", "bash.bashrc", "ca-certificates", "debian_version", "environment",
    "inputrc", "issue", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias",
    "localtime", "magic", "magic.mime", "mime.types", "nanorc", "nsswitch.conf", "os-release",
    "profile", "profile.d", "protocols", "services", "ssl", "terminfo", "timezone", "vim",
]
MAX_LINE = 256 * 1024 * 1024  # one JSON reply (a snapshot of a big home stays far below)


def bwrap_available() -> bool:
    """True when bubblewrap and the system python3 exist (tests skip otherwise)."""
    return os.access(BWRAP, os.X_OK) and os.access(PYTHON, os.X_OK)


def sandbox_env() -> dict[str, str]:
    """The environment every command in the sandbox starts with."""
    return {
        "HOME": HOME, "USER": USER, "LOGNAME": USER, "SHELL": "/bin/bash", "PATH": SANDBOX_PATH,
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb", "HOSTNAME": HOSTNAME,
        "PAGER": "cat", "GIT_PAGER": "cat", "EDITOR": "nano", "PYTHONDONTWRITEBYTECODE": "1",
        # every HTTP(S) attempt goes to the sandbox's egress sink: refused and recorded
        **{k: f"http://127.0.0.1:{PROXY_PORT}" for k in
           ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ftp_proxy", "all_proxy")},
        "no_proxy": "localhost,127.0.0.1,::1", "NO_PROXY": "localhost,127.0.0.1,::1",
        **TLS_ENV,  # the run's CA bundle (agentsafe/runtime/tls.py): HTTPS is answered too
    }


HOME_SIZE = 1 << 30  # bytes of the home tmpfs (RAM is used only as files are written)
TMP_SIZE = 512 << 20
SHM_SIZE = 64 << 20


def base_bwrap_args(workdir: Path, home: list[str] | None = None) -> list[str]:
    """The isolation flags shared by the session and by the benchmark's raw-spawn floor.
    `home`: how /home/user is mounted (default: an empty size-capped tmpfs)."""
    args = [
        BWRAP, "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net",
        "--unshare-uts", "--unshare-cgroup-try", "--uid", str(UID), "--gid", str(GID),
        "--hostname", HOSTNAME, "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/sbin", "/sbin", "--proc", "/proc", "--dev", "/dev",
    ]
    if Path("/usr/lib64").exists():
        args += ["--symlink", "usr/lib64", "/lib64"]
    for name in ETC_SHARED:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for name in ("passwd", "group", "hostname", "hosts"):
        args += ["--ro-bind", str(workdir / "etc" / name), f"/etc/{name}"]
    args += home or ["--perms", "0750", "--size", str(HOME_SIZE), "--tmpfs", HOME]
    args += [
        "--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp",
        "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm",
        "--symlink", "../tmp", "/var/tmp", "--dir", "/run", "--chdir", HOME,
    ]
    return args


def _sweep_stale(root: str) -> None:
    """Remove work directories left by killed harness processes (their pid is in the name)."""
    base = Path(root)
    for d in base.glob("agentsafe-os-*-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        shutil.rmtree(d, onerror=_force_remove)


# Resource limits of every process in a local sandbox: processes of the sandbox uid (without
# cgroups, all local sandboxes together: a fork bomb stops there, but starves the others),
# address space per process, largest file (the home lives in RAM), open files, no core dumps.
# As root each session also gets its own cgroup (agentsafe.runtime.cgroups: pids, memory,
# cpu weight); `nproc` is then raised, so one sandbox's fork bomb never blocks another's.
LIMITS = {"nproc": 1024, "as": 4 << 30, "fsize": 256 << 20, "nofile": 4096, "core": 0}
NPROC_WITH_CGROUP = 1 << 16


def _drop_privileges(cgroup: bool = False) -> list[str]:
    """Prefix that applies LIMITS and, when we are root, runs bwrap as the unprivileged
    sandbox uid (so RLIMIT_NPROC binds and the sandbox never holds host-root file rights)."""
    prefix = []
    if os.access(PRLIMIT, os.X_OK):
        limits = {**LIMITS, "nproc": NPROC_WITH_CGROUP} if cgroup else LIMITS
        prefix = [PRLIMIT, *(f"--{k}={v}" for k, v in limits.items()), "--"]
    if os.geteuid() != 0:
        return prefix
    if not os.access(SETPRIV, os.X_OK):
        raise SandboxError(f"running as root needs {SETPRIV} (util-linux) to drop to uid {UID}")
    return prefix + [SETPRIV, f"--reuid={UID}", f"--regid={GID}", "--clear-groups", "--"]


class LocalBackend:
    """OSBackend on bubblewrap. One instance = one sandbox; not shared between tasks at once."""

    def __init__(self, workdir: Path | None = None,
                 limits: CgroupLimits | dict[str, Any] | None = None) -> None:
        self._given_workdir = workdir
        self.limits = limits if isinstance(limits, CgroupLimits) else CgroupLimits(**(limits or {}))
        self.cgroup: SandboxCgroup | None = None
        self._oom_base = 0  # the cgroup's OOM kills at the last reset (later ones: this episode)
        self.workdir: Path | None = None
        self._proc: Process | None = None
        self._reader: BufferedByteReceiveStream | None = None
        self._seed: tuple[Path, int] | None = None  # the seed dir bound in the session, inode
        self._lock = anyio.Lock()
        self._auth = ControlAuth()
        self.transactional = False  # guard mode: steps can be rolled back (OSSandbox sets it)
        self._secrets: dict[str, dict[str, Any]] = {}  # the seed's secret files (seed_secrets)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Prepare the host work directory (generated /etc files, the session log).
        Idempotent; the bwrap session itself starts at the first reset (it needs the seed)."""
        if self.workdir is not None:
            return
        if not bwrap_available():
            raise SandboxError(f"bubblewrap ({BWRAP}) or {PYTHON} is missing")
        root = os.environ.get("AGENTSAFE_OS_WORKDIR") or tempfile.gettempdir()
        _sweep_stale(root)
        cgroups.sweep_stale()
        wd = Path(self._given_workdir
                  or tempfile.mkdtemp(prefix=f"agentsafe-os-{os.getpid()}-", dir=root))
        (wd / "etc").mkdir(parents=True, exist_ok=True)
        etc = wd / "etc"
        (etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/usr/sbin/nologin\n{USER}:x:{UID}:{GID}:User:{HOME}:/bin/bash\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"root:x:0:\n{USER}:x:{GID}:\nnogroup:x:65534:\n")
        (etc / "hostname").write_text(HOSTNAME + "\n")
        (etc / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {HOSTNAME}\n")
        os.chmod(wd, 0o711)
        os.chmod(etc, 0o755)
        self.workdir = wd

    async def close(self) -> None:
        """Stop the session and delete the work directory. Idempotent."""
        await self._stop_session()
        if self.workdir is not None and self._given_workdir is None:
            shutil.rmtree(self.workdir, onerror=_force_remove)
        self.workdir = None

    async def _stop_session(self) -> None:
        proc, self._proc, self._reader = self._proc, None, None
        cg, self.cgroup = self.cgroup, None
        if proc is None:
            if cg is not None:
                cg.remove()
            return
        with anyio.CancelScope(shield=True):
            try:
                if proc.stdin is not None:
                    await proc.stdin.aclose()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            with anyio.move_on_after(0.5):
                await proc.wait()
            if proc.returncode is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    proc.kill()
                await proc.wait()
            await proc.aclose()
            if cg is not None:
                cg.remove()

    async def _start_session(self, seed: Path) -> None:
        await self.start()
        assert self.workdir is not None
        # the seed store without its secret files (they travel in each reset request: a key
        # read in the store would leave no read effect), see agentsafe/runtime/seed_secrets.py
        public = await anyio.to_thread.run_sync(public_copy, seed, self.workdir / "seed")
        self._secrets = await anyio.to_thread.run_sync(secret_files, seed)
        if os.geteuid() == 0:
            _check_reachable([public, CONTROL_SCRIPT, self.workdir / "etc"])
        self.cgroup = cgroups.create(cgroups.group_name(), self.limits)
        bundle = material()["bundle_path"]
        argv = (cgroups.join_prefix(self.cgroup) + _drop_privileges(self.cgroup is not None)
                + base_bwrap_args(self.workdir) + [
            "--ro-bind", str(CONTROL_SCRIPT), INSIDE_CONTROL,
            "--ro-bind", str(EFFECTS_MODULE), "/opt/agentsafe/effects.py",
            "--perms", "0700", "--size", str(HOME_SIZE), "--tmpfs", "/run/agentsafe",
            # the run's CA bundle, read-only, where the environment names it and over the
            # system bundle (tools that read only the default path trust it too)
            "--ro-bind", bundle, CA_BUNDLE, "--ro-bind", bundle, SYSTEM_BUNDLE,
            "--ro-bind", str(public), INSIDE_SEED,
            "--remount-ro", "/", "--as-pid-1",
            PYTHON, "-I", "-S", INSIDE_CONTROL, "serve",
        ])
        log = open(self.workdir / "session.log", "ab")  # noqa: SIM115,ASYNC230 - for the child
        try:
            self._proc = await anyio.open_process(
                argv, stdin=-1, stdout=-1, stderr=log, env=sandbox_env(), start_new_session=True,
            )
        finally:
            log.close()
        assert self._proc.stdout is not None
        self._reader = BufferedByteReceiveStream(self._proc.stdout)
        self._seed = (seed, seed.stat().st_ino)
        self._auth = ControlAuth()
        try:
            await self._roundtrip(self._auth.auth_request(), 10.0)
            await self._roundtrip(tls_request(), 10.0)
            await self._roundtrip({"op": "ping"}, 10.0)
        except SandboxError as e:
            tail = (self.workdir / "session.log").read_text(errors="replace")[-800:]
            await self._stop_session()
            raise SandboxError(f"the bubblewrap session did not start: {e}\n{tail}") from None

    # ------------------------------------------------------------ protocol

    async def _roundtrip(self, req: dict[str, Any], timeout: float,
                         rekey: bool = False) -> dict[str, Any]:
        """Send one request and read its reply; SandboxError when the session is gone,
        IntegrityError when the reply is not the control server's (see control_auth)."""
        if self._proc is None or self._proc.stdin is None or self._reader is None:
            raise SandboxError("the bubblewrap session is not running")
        req, new_key = self._auth.stamp(req, rekey)
        done = False
        try:
            with anyio.fail_after(timeout):
                await self._proc.stdin.send(json.dumps(req).encode() + b"\n")
                line = await self._reader.receive_until(b"\n", MAX_LINE)
            reply = self._auth.verify(req, line, new_key)
            done = True
        except TimeoutError:
            raise SandboxTimeout(f"OS sandbox op '{req['op']}' got no reply in {timeout:.0f}s") \
                from None
        except anyio.DelimiterNotFound:
            raise IntegrityError(f"the reply to '{req['op']}' exceeds {MAX_LINE >> 20} MiB: the "
                                 "sandbox's state was made too large to read") from None
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError,
                anyio.ClosedResourceError, OSError) as e:
            stats = self.cgroup.stats() if self.cgroup is not None else {}
            if stats.get("oom_kills", 0) > self._oom_base:  # killed inside the sandbox's memory limit: agent-caused
                raise IntegrityError("the sandbox control process was OOM-killed: the "
                                     "sandbox's memory limit was exhausted") from None
            raise SandboxError(f"the sandbox control process died ({type(e).__name__})") from None
        finally:
            if not done:  # timed out, died, forged or cancelled: the pipe is out of step
                await self._stop_session()
        if reply.get("ok"):
            return reply["result"]
        err = reply.get("error", {})
        if err.get("kind") == "file":
            raise FileOpError(err.get("message", "file error"))
        raise SandboxError(f"OS sandbox op '{req['op']}' failed: {err.get('message')}")

    async def control_pid(self) -> int | None:
        """Host pid of the session's bwrap process (tests check what dies with it)."""
        return self._proc.pid if self._proc is not None else None

    async def _request(self, req: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """One request under the lock. A dead session is an infrastructure error: its tmpfs
        home died with it, so nothing is silently restarted (the next reset starts anew)."""
        async with self._lock:
            if self._proc is None:
                raise SandboxError("the OS sandbox session is not running (reset it first)")
            return await self._roundtrip(req, timeout)

    # ------------------------------------------------------------ OSBackend

    async def reset(self, seed_dir: Path, files: dict[str, str], placements: list[Placement],
                    services: list[ServiceSpec] | None = None) -> None:
        """Fresh copy of `seed_dir` as the home, then files, placements and services."""
        seed = Path(seed_dir).resolve()
        if not seed.is_dir():
            raise SandboxError(f"seed home not found: {seed}")
        async with self._lock:
            # another seed, or the same one rebuilt (a new directory): bind it in a new session
            if self._proc is not None and (seed, seed.stat().st_ino) != self._seed:
                await self._stop_session()
            if self._proc is None:
                await self._start_session(seed)
        req = {"op": "reset", "seed": INSIDE_SEED, "files": files,
               "seed_secrets": self._secrets,
               "placements": [p.model_dump() for p in placements],
               "services": [s.model_dump() for s in services or []]}
        async with self._lock:
            try:
                await self._roundtrip(req, 60.0, rekey=True)
                self._oom_base = self.cgroup.stats().get("oom_kills", 0) if self.cgroup else 0
                return
            except SandboxError as e:
                if "survived kill_all" not in str(e):
                    raise
            # something outlived every kill (a fork race at the pids limit): a new session is a
            # new pid namespace, and everything of the old one dies with its init
            await self._stop_session()
            await self._start_session(seed)
            await self._roundtrip(req, 60.0, rekey=True)
            self._oom_base = 0

    async def exec(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> ExecResult:
        """Run a bash command in the session (see OSBackend.exec)."""
        timeout = min(max(float(timeout), 0.1), MAX_TIMEOUT)
        req = {"op": "exec", "command": command, "timeout": timeout, "max_output": MAX_OUTPUT,
               "txn": self.transactional}
        try:
            r = await self._request(req, timeout=timeout + 15.0)
        except FileOpError as e:  # bash itself could not start (e.g. the home was deleted)
            return ExecResult(exit_code=126, stderr=str(e).encode())
        return ExecResult(
            exit_code=r["exit_code"], stdout=base64.b64decode(r["stdout_b64"]),
            stderr=base64.b64decode(r["stderr_b64"]), timed_out=r["timed_out"],
            truncated=r["truncated"], duration=r["duration"], egress=r.get("egress", []),
            effects=r.get("effects") or {})

    async def read_file(self, path: str) -> bytes:
        r = await self._request({"op": "read", "path": path})
        self.last_effects = r.get("effects") or {}
        return base64.b64decode(r["data_b64"])

    async def write_file(self, path: str, data: bytes) -> dict[str, Any]:
        """Write the file; returns the effects of the write (see sandboxes/os/effects.py)."""
        r = await self._request({"op": "write", "path": path, "txn": self.transactional,
                                 "data_b64": base64.b64encode(data).decode()})
        return r.get("effects") or {}

    async def list_dir(self, path: str) -> list[DirEntry]:
        r = await self._request({"op": "list", "path": path})
        return [DirEntry.model_validate(e) for e in r["entries"]]

    async def egress(self) -> list[dict[str, Any]]:
        """HTTP(S) attempts recorded since the last exec (e.g. by background services)."""
        if self._proc is None:
            return []
        return (await self._request({"op": "egress"}))["egress"]

    async def rollback(self) -> dict[str, Any]:
        """Guard mode: undo the last step (its processes, files, killed services; see
        docs/guard.md): {undone, incomplete, killed, restarted}."""
        return await self._request({"op": "rollback"}, timeout=60.0)

    async def effects(self) -> dict[str, Any]:
        """Effects since the last step (background processes), see sandboxes/os/effects.py."""
        if self._proc is None:
            return {}
        return await self._request({"op": "effects"})

    async def processes(self) -> list[ProcessInfo]:
        r = await self._request({"op": "processes"})
        return [ProcessInfo.model_validate(p) for p in r["processes"]]

    async def snapshot(self) -> StateSnapshot:
        """The home's files and the live processes, both read inside the session."""
        r = await self._request({"op": "snapshot"}, timeout=60.0)
        files, truncated = r["files"], r["truncated"]
        procs = await self.processes()
        return StateSnapshot(
            files={k: FileState.model_validate(v) for k, v in files.items()},
            data={"processes": [p.model_dump() for p in procs], "files_truncated": truncated})


def _check_reachable(paths: list[Path]) -> None:
    """The sandbox runs as uid 1000: every directory above what it mounts must be searchable
    by others (a clone made with umask 077 is not). Fail with the fix, not a bwrap riddle."""
    for path in paths:
        for d in path.resolve().parents:
            if not os.stat(d).st_mode & 0o001:
                raise SandboxError(f"{d} is not searchable by other users, so the OS sandbox (uid "
                                   f"{UID}) cannot mount {path}; run: chmod o+x {d}")


def _force_remove(func: Any, path: str, exc: Any) -> None:
    """rmtree handler for files the agent made unwritable."""
    try:
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, onerror=_force_remove)
        else:
            os.unlink(path)
    except OSError:
        pass


async def raw_bwrap_spawn(workdir: Path, seed: Path, command: str) -> float:
    """Seconds for one bare `bwrap <same isolation> bash -c command` spawn over the seed home
    (bound read-only): the floor the harness's per-step cost is compared with."""
    home = ["--ro-bind", str(seed), HOME]
    argv = _drop_privileges() + base_bwrap_args(workdir, home) + ["/bin/bash", "-c", command]
    t0 = time.perf_counter()
    await anyio.run_process(argv, env=sandbox_env(), check=False)
    return time.perf_counter() - t0
