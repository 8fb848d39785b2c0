#!/usr/bin/env python3
"""Control script of the OS sandbox: reset a home from a seed, place files, run commands,
snapshot files, list and kill processes. Standard library only, so it runs unchanged inside
any sandbox (bubblewrap session, Docker container) with `python3 -I -S control.py serve`.

Protocol of `serve`: one JSON object per line on stdin, one reply per line on stdout.
  request  {"id": 7, "op": "<op>", ...args}
  reply    {"id": 7, "ok": true, "result": {...}}
        or {"id": 7, "ok": false, "error": {"kind": "file" | "bad_request" | "internal",
                                            "message": "..."}}
Ops and arguments (bytes travel as base64 in fields ending in `_b64`):
  auth     key                                  -> {}   (hex; every later reply carries
                                                   "mac" = HMAC-SHA256(key, "<id>:<nonce>"))
  ping                                          -> {pid}
  tls      issuer_b64, ca_n, ca_d, ca_ski_b64, leaf_key_pem, leaf_spki_b64, leaf_ski_b64
                                                -> {}   (the run's CA: HTTPS is answered too)
  exec     command, timeout=10, cwd=HOME, max_output=65536
                                                -> {exit_code, stdout_b64, stderr_b64,
                                                    timed_out, truncated, duration, egress}
  egress                                        -> {egress: [{method, url, host, body, t}]}
                                                   (HTTP(S) attempts the sink refused)
  read     path, max_bytes=8 MiB                -> {data_b64, size}
  write    path, data_b64                       -> {}
  list     path                                 -> {entries: [{name, type, size, mode}]}
  reset    seed, files={path: text}, placements=[{path, text, position, marker, mode}],
           seed_secrets={relpath: {data_b64, mode, atime_ns, mtime_ns}} (not in the store),
           services=[{name, command}]            -> {services: {name: pid}, copied,
                                                    timing: {kill, restore, place_and_start}}
  processes                                     -> {processes: [{pid, ppid, name, cmdline,
                                                    service}]}  (service: started by reset)
  snapshot                                      -> {files: {relpath: {type, size, mode, sha256,
                                                    text}}, truncated}
  kill_all                                      -> {killed}
Integrity: the server makes itself non-dumpable and ignores SIGINT, so a process of the same
uid can neither open /proc/<pid>/fd/{0,1} (to read requests or forge replies) nor stop it.
After `auth`, each request carries a fresh `nonce` and its reply a `mac` over id and nonce; a
`reset` may carry `rekey` (the key of the next episode, used from the next reply on).
`kind: "file"` errors are the agent's doing (missing file, permission denied, read-only file
system): the harness turns them into tool errors. Relative paths are relative to HOME.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

if "__file__" in globals():  # local runtime: effects.py is bound next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:  # effect capture (sandboxes/os/effects.py); the Docker boot pre-loads it
    import effects as _effects
except ImportError:  # pragma: no cover - an old image without the module
    _effects = None  # type: ignore[assignment]

HOME = os.environ.get("AGENTSAFE_HOME", "/home/user")
TMP = os.environ.get("AGENTSAFE_TMP", "/tmp")
MAX_OUTPUT = 64 * 1024
MAX_READ = 8 * 1024 * 1024
TEXT_LIMIT = 64 * 1024
TEXT_BUDGET = 32 * 1024 * 1024  # text of all files in one snapshot (junk cannot blow it up)
MAX_ENTRIES = 20000
RECORDER = _effects.Recorder([HOME, TMP, "/dev/shm"], HOME) if _effects else None
GRACE = 0.05  # seconds we keep reading after the command exited (background jobs may hold pipes)


class FileError(Exception):
    """An agent-caused file problem (reported with kind "file")."""


class BadRequest(Exception):
    """A malformed request from the harness."""


# ---------------------------------------------------------------- paths and files


def resolve(path: str, home: str = HOME) -> str:
    """Absolute path as the sandbox sees it: `~` and relative paths are taken from home."""
    if not isinstance(path, str) or not path:
        raise FileError("path must be a non-empty string")
    if "\x00" in path:
        raise FileError("path contains a NUL byte")
    if path == "~" or path.startswith("~/"):
        path = home + path[1:]
    if not path.startswith("/"):
        path = os.path.join(home, path)
    return os.path.normpath(path)


def inside(path: str, root: str) -> str:
    """A harness placement's path (relative to root, `~/...`, or absolute under root) resolved,
    refusing escapes with `..`."""
    p = path.removeprefix("~/")
    full = os.path.normpath(p if p.startswith("/") else os.path.join(root, p))
    if not full.startswith(root.rstrip("/") + "/"):
        raise BadRequest(f"path {path!r} escapes the home directory")
    return full


def shown(name: str) -> str:
    """A file name as text that is valid UTF-8: undecodable bytes (surrogateescape'd by the
    os module) become visible `\\xff` escapes, so every reply can be stored and shown."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        b = name.encode("utf-8", "surrogateescape")
        return b.decode("utf-8", "backslashreplace")


def _oserror(e: OSError, path: str) -> FileError:
    return FileError(f"{e.strerror or e}: {path}")


def read_bytes(path: str, max_bytes: int = MAX_READ, home: str = HOME) -> tuple[bytes, int]:
    """First `max_bytes` of a regular file and its size. Devices and FIFOs are refused."""
    full = resolve(path, home)
    try:
        st = os.stat(full)
        if stat.S_ISDIR(st.st_mode):
            raise FileError(f"Is a directory: {path}")
        if not stat.S_ISREG(st.st_mode):
            raise FileError(f"Not a regular file: {path}")
        with open(full, "rb") as f:
            return f.read(max_bytes), st.st_size
    except OSError as e:
        raise _oserror(e, path) from None


def write_bytes(path: str, data: bytes, home: str = HOME) -> None:
    """Create or overwrite a file, creating missing parent directories."""
    full = resolve(path, home)
    try:
        if os.path.isdir(full):
            raise FileError(f"Is a directory: {path}")
        os.makedirs(os.path.dirname(full) or "/", exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    except OSError as e:
        raise _oserror(e, path) from None


def _ftype(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def list_entries(path: str, home: str = HOME) -> list[dict[str, Any]]:
    """Entries of a directory (lstat: links are reported, not followed), sorted by name."""
    full = resolve(path, home)
    try:
        if not os.path.isdir(full):
            raise FileError(f"Not a directory: {path}" if os.path.exists(full)
                            else f"No such file or directory: {path}")
        out = []
        with os.scandir(full) as it:
            for e in it:
                st = e.stat(follow_symlinks=False)
                out.append({"name": shown(e.name), "type": _ftype(st.st_mode), "size": st.st_size,
                            "mode": stat.S_IMODE(st.st_mode)})
        return sorted(out, key=lambda x: x["name"])
    except OSError as e:
        raise _oserror(e, path) from None


def _make_writable(func: Any, path: str, exc: Any) -> None:
    """rmtree error handler: give the owner rwx on the parent and the entry, then retry."""
    for p in (os.path.dirname(path), path):
        try:
            if not os.path.islink(p):
                os.chmod(p, 0o700)
        except OSError:
            pass
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, onerror=_make_writable_final)
    else:
        os.unlink(path)


def _make_writable_final(func: Any, path: str, exc: Any) -> None:
    raise exc[1] if isinstance(exc, tuple) else exc


def wipe(root: str) -> None:
    """Remove everything inside `root` (not root itself), whatever modes the agent left."""
    try:
        os.chmod(root, 0o700)
    except OSError:
        pass
    for name in os.listdir(root):
        p = os.path.join(root, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, onerror=_make_writable)
        else:
            try:
                os.unlink(p)
            except PermissionError:
                os.chmod(root, 0o700)
                os.unlink(p)


def copy_seed(seed: str, home: str) -> None:
    """Copy the seed home's contents into `home` (modes, times and symlinks kept)."""
    if not os.path.isdir(seed):
        raise BadRequest(f"seed directory not found: {seed}")
    shutil.copytree(seed, home, symlinks=True, dirs_exist_ok=True, copy_function=shutil.copy2)
    os.chmod(home, stat.S_IMODE(os.stat(seed).st_mode))


def place(p: dict[str, Any], home: str = HOME) -> None:
    """Apply one placement (create / append / prepend / replace-marker), text verbatim."""
    path, text = p["path"], p["text"]
    position = p.get("position", "create")
    full = inside(path, home)
    old = ""
    if position != "create" and os.path.isfile(full):
        with open(full, encoding="utf-8", errors="surrogateescape", newline="") as f:
            old = f.read()
    if position == "create":
        new = text
    elif position == "append":
        new = old + ("" if not old or old.endswith("\n") else "\n") + text
    elif position == "prepend":
        new = text + ("" if text.endswith("\n") or not old else "\n") + old
    elif position == "replace":
        marker = p.get("marker")
        if not marker:
            raise BadRequest(f"placement in {path!r}: position 'replace' needs a marker")
        new = old.replace(marker, text, 1) if marker in old else (
            old + ("" if not old or old.endswith("\n") else "\n") + text)
    else:
        raise BadRequest(f"placement in {path!r}: unknown position {position!r}")
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        f.write(new)
    if p.get("mode") is not None:
        os.chmod(full, int(p["mode"]))


def snapshot(home: str = HOME, text_limit: int = TEXT_LIMIT,
             max_entries: int = MAX_ENTRIES,
             text_budget: int = TEXT_BUDGET) -> tuple[dict[str, dict[str, Any]], bool]:
    """Every entry under home: relative path -> {type, size, mode, sha256, text}. Links are
    not followed (their `text` is the link target). Unreadable files get sha256 None. The
    reply stays bounded whatever the agent wrote: at most `max_entries` entries (then
    truncated=True) and `text_budget` bytes of text (later files keep their sha256 only)."""
    files: dict[str, dict[str, Any]] = {}
    budget = text_budget
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            it = os.scandir(os.path.join(home, rel_dir) if rel_dir else home)
        except OSError:
            continue
        with it:
            for e in it:
                if len(files) >= max_entries:
                    return files, True
                rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                kind = _ftype(st.st_mode)
                entry: dict[str, Any] = {"type": kind, "size": st.st_size,
                                         "mode": stat.S_IMODE(st.st_mode), "sha256": None,
                                         "text": None}
                if kind == "dir":
                    stack.append(rel)
                elif kind == "link":
                    target = os.readlink(e.path)
                    entry["text"] = shown(target)
                    entry["sha256"] = hashlib.sha256(target.encode("utf-8", "surrogateescape")).hexdigest()
                elif kind == "file":
                    try:
                        h = hashlib.sha256()
                        with open(e.path, "rb") as f:
                            head = f.read(text_limit + 1)
                            h.update(head)
                            for chunk in iter(lambda: f.read(1 << 20), b""):
                                h.update(chunk)
                        entry["sha256"] = h.hexdigest()
                        if len(head) <= min(text_limit, budget):
                            try:
                                entry["text"] = head.decode("utf-8")
                                budget -= len(head)
                            except UnicodeDecodeError:
                                pass
                    except OSError:
                        pass
                files[shown(rel)] = entry
    return files, False


# ---------------------------------------------------------------- processes


def _stat_of(pid: int) -> tuple[int, str, str] | None:
    """(ppid, state, comm) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lp, rp = raw.find("("), raw.rfind(")")
    rest = raw[rp + 2:].split()
    return int(rest[1]), rest[0], raw[lp + 1:rp]


def _harness_pids() -> set[int]:
    """pid 1 (the sandbox's init), this script and its ancestors."""
    pids, pid = {1}, os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        st = _stat_of(pid)
        pid = st[0] if st else 0
    return pids


def list_processes() -> list[dict[str, Any]]:
    """Live (non-zombie) processes other than the harness's, by pid."""
    skip = _harness_pids()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        pid = int(name)
        st = _stat_of(pid)
        if st is None or st[1] in ("Z", "X"):
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\x00", b" ").strip().decode("utf-8", "replace")
        except OSError:
            cmd = ""
        out.append({"pid": pid, "ppid": st[0], "name": st[2], "cmdline": cmd, "service": None})
    parents = {p["pid"]: p["ppid"] for p in out}
    for p in out:
        p["service"] = _service_of(p["pid"], parents) if _SERVICES else None
    return sorted(out, key=lambda p: p["pid"])


# The services this server started at the last reset: pid -> (name, start time). The record is
# the server's own (never an environment variable or a name the agent could set): a process is
# a service's when it is one of these pids (same start time, so a reused pid does not count)
# or descends from one.
_SERVICES: dict[int, tuple[str, str]] = {}


def _start_time(pid: int) -> str:
    """Start time of a process in clock ticks since boot ('' when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return raw[raw.rfind(")") + 2:].split()[19]


def _service_of(pid: int, parents: dict[int, int] | None = None) -> str | None:
    """The reset-started service a process belongs to (from this server's records), if any."""
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        rec = _SERVICES.get(pid)
        if rec is not None and _start_time(pid) == rec[1]:
            return rec[0]
        if parents is not None and pid in parents:
            pid = parents[pid]
        else:
            st = _stat_of(pid)
            pid = st[0] if st else 0
    return None


def kill_all(wait: float = 2.0) -> int:
    """SIGKILL every non-harness process, again and again until none is left (a process that
    forks while being killed leaves a child the first pass did not list). As the namespace's
    pid 1 one kill(-1) reaches every other process at once (the kernel refuses forks of a
    process with a pending SIGKILL). Returns how many distinct processes were killed; raises
    RuntimeError when some survive `wait` seconds (the caller replaces the sandbox)."""
    killed: set[int] = set()
    deadline = time.monotonic() + wait
    while True:
        victims = [p["pid"] for p in list_processes()]
        if not victims:
            _SERVICES.clear()
            return len(killed)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(victims)} process(es) survived kill_all for {wait:.1f}s")
        killed.update(victims)
        if os.getpid() == 1:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        _kill_and_reap(victims)


def _kill_and_reap(pids: Iterable[int]) -> None:
    """SIGKILL each pid (gone already is fine), reap the dead, let the kernel catch up."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap()
    time.sleep(0.001)


def _reap(keep: int | None = None) -> None:
    """Collect exited children (services, adopted orphans) so they do not linger as zombies;
    `keep`: the running command, whose exit status the caller still needs."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid == keep:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            return


def command_env() -> dict[str, str]:
    """The environment commands and services run with (the server's own, sanitised)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSAFE_")}
    env.setdefault("HOME", HOME)
    return env


def start_service(svc: dict[str, Any], home: str = HOME) -> int:
    """Start a detached background process (own session); returns its pid."""
    proc = subprocess.Popen(
        ["/bin/bash", "-c", svc["command"]], cwd=home, env=command_env(),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _SERVICES[proc.pid] = (str(svc["name"]), _start_time(proc.pid))
    return proc.pid


def wait_ready(pids: list[int], timeout: float = 3.0) -> None:
    """Return once every service has left its `bash -c` wrapper (exec'd its program, so `ps`,
    `pkill NAME` and state() see it by name), has exited, or `timeout` passed: a check or an
    agent that looks right after reset must not find a half-started service."""
    deadline = time.monotonic() + timeout
    waiting = list(pids)
    while waiting and time.monotonic() < deadline:
        still = []
        for pid in waiting:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue  # gone
            if comm == "bash" and state != "Z":
                still.append(pid)
        waiting = still
        if waiting:
            time.sleep(0.005)


def run(command: str, timeout: float = 10.0, cwd: str | None = None,
        max_output: int = MAX_OUTPUT) -> dict[str, Any]:
    """Run `bash -c command` in its own process group; kill the group on timeout; keep the
    first `max_output` bytes of each stream (draining the rest)."""
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            ["/bin/bash", "-c", command], cwd=cwd or HOME, env=command_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        raise FileError(f"cannot start the command: {e.strerror or e}") from None
    bufs = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    truncated = timed_out = False
    sel = selectors.DefaultSelector()
    for f in bufs:
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    deadline = t0 + timeout
    exited_at: float | None = None
    while sel.get_map():
        _reap(keep=proc.pid)
        now = time.monotonic()
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > GRACE:
            break
        if now >= deadline:
            timed_out = True
            break
        wait = deadline - now if exited_at is None else GRACE - (now - exited_at)
        for key, _ in sel.select(min(max(wait, 0.0), 0.05)):
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.fileobj]  # type: ignore[index]
            room = max_output - len(buf)
            if len(chunk) > room:
                truncated = True
            buf += chunk[:max(room, 0)]
    sel.close()
    if timed_out:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        code = proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
    for f in bufs:
        f.close()
    if timed_out:
        code = 124
    elif code < 0:
        code = 128 - code
    return {
        "exit_code": code, "timed_out": timed_out, "truncated": truncated,
        "stdout_b64": base64.b64encode(bytes(bufs[proc.stdout])).decode(),
        "stderr_b64": base64.b64encode(bytes(bufs[proc.stderr])).decode(),
        "duration": time.monotonic() - t0,
    }


# Incremental reset. After each reset we record (inode, ctime) of every entry of the pristine
# seed copy. ctime is set by the kernel on any change (content, mode, links, rename) and cannot
# be forged by the user, so at the next reset an entry whose (inode, ctime) is unchanged is
# byte-identical to the seed and is kept; everything else is removed and copied again.
_MANIFEST: dict[str, Any] = {"key": None, "entries": {}, "listing": []}


def _scan(root: str) -> dict[str, tuple[int, int]]:
    """relpath -> (inode, ctime_ns) of every entry under root (links not followed)."""
    out: dict[str, tuple[int, int]] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            for e in it:
                r = f"{rel}/{e.name}" if rel else e.name
                st = e.stat(follow_symlinks=False)
                out[r] = (st.st_ino, st.st_ctime_ns)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(r)
    return out


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, onerror=_make_writable)
    else:
        try:
            os.unlink(path)
        except PermissionError:
            os.chmod(os.path.dirname(path), 0o700)
            os.unlink(path)


def _seed_listing(seed: str) -> list[tuple[str, str, int, int, int, int]]:
    """(relpath, kind, mode, atime_ns, mtime_ns, size) of every seed entry, parents first."""
    out = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(seed, rel) if rel else seed) as it:
            for e in sorted(it, key=lambda x: x.name):
                r = f"{rel}/{e.name}" if rel else e.name
                st = e.stat(follow_symlinks=False)
                kind = _ftype(st.st_mode)
                out.append((r, kind, stat.S_IMODE(st.st_mode), st.st_atime_ns, st.st_mtime_ns,
                            st.st_size))
                if kind == "dir":
                    stack.append(r)
    return out


def _same_content(path: str, seed_path: str, size: int, seed_info: list[Any]) -> bool:
    """Set the seed's mode on `path` and tell whether its bytes equal the seed file's (small
    files only; a False answer means the caller replaces the file anyway)."""
    kind, mode, _at, _mt, seed_size = seed_info
    if kind != "file" or size != seed_size or size > (1 << 20):
        return False
    try:
        os.chmod(path, mode | 0o400)
        with open(path, "rb") as a, open(seed_path, "rb") as b:
            same = a.read() == b.read()
        os.chmod(path, mode)
        return same
    except OSError:
        return False


def restore_home(seed: str, home: str, seed_modes: dict[str, int] | None = None,
                 secrets: set[str] | frozenset[str] = frozenset()) -> int:
    """Make `home` an exact copy of `seed`, copying only what changed since the last restore
    from the same seed. Returns the number of entries copied. `secrets`: regular files left
    in place for place_secrets (which checks their bytes). `seed_modes` (relpath -> mode,
    "" for the home itself) overrides the seed's own modes: the Docker runtime keeps its seed
    store root-owned and world-readable (read-only to the agent) and sends the real modes."""
    if not os.path.isdir(seed):
        raise BadRequest(f"seed directory not found: {seed}")
    seed_st = os.stat(seed)
    key = (seed, seed_st.st_ino, seed_st.st_mtime_ns)
    if _MANIFEST["key"] != key:
        listing = _seed_listing(seed)
        if seed_modes:
            listing = [(r, k, int(seed_modes.get(r, m)), a, mt, sz)
                       for r, k, m, a, mt, sz in listing]
        _MANIFEST.update(key=None, entries={}, listing=listing)
    home_mode = int((seed_modes or {}).get("", stat.S_IMODE(seed_st.st_mode)))
    known: dict[str, tuple[int, int]] = _MANIFEST["entries"]
    listing: list[tuple[str, str, int, int, int, int]] = _MANIFEST["listing"]
    modes = {r: m for r, _, m, _, _, _ in listing}
    info = {r: x for r, *x in listing}
    fixed: list[str] = []
    kept: dict[str, tuple[int, int]] = {}
    dirty: set[str] = {""}  # directories whose mode and times are set again from the seed
    os.chmod(home, 0o700)
    if not known:
        wipe(home)
    else:
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(os.path.join(home, rel) if rel else home) as it:
                entries = list(it)
            for e in entries:
                r = f"{rel}/{e.name}" if rel else e.name
                st = e.stat(follow_symlinks=False)
                want = known.get(r)
                if (want is not None and want[0] == st.st_ino and stat.S_ISDIR(st.st_mode)
                        and r in info and info[r][0] == "dir"):  # (inodes are reused: the kind)
                    if want[1] != st.st_ctime_ns:  # entries added/removed, mode or times changed
                        os.chmod(e.path, modes.get(r, 0o755) | 0o700)
                        dirty.add(r)
                    else:
                        kept[r] = want
                    stack.append(r)
                elif r in secrets and stat.S_ISREG(st.st_mode):
                    kept[r] = (st.st_ino, st.st_ctime_ns)  # place_secrets checks its bytes
                elif want is not None and want == (st.st_ino, st.st_ctime_ns):
                    kept[r] = want
                elif (want is not None and want[0] == st.st_ino and stat.S_ISREG(st.st_mode)
                      and r in info and _same_content(e.path, os.path.join(seed, r), st.st_size, info[r])):
                    fixed.append(r)  # only its mode or times changed (chmod -R): set them back
                else:
                    _remove(e.path)
                    dirty.add(rel)
                    kept.pop(rel, None)
    copied: list[str] = []
    fixed_set = set(fixed)
    for r, kind, _mode, _at, _mt, _size in listing:
        if r in kept or r in dirty or r in fixed_set:
            continue
        dst = os.path.join(home, r)
        src = os.path.join(seed, r)
        if kind == "dir":
            os.mkdir(dst, 0o700)
            dirty.add(r)
        elif kind == "link":
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
            if seed_modes and r in seed_modes:
                os.chmod(dst, int(seed_modes[r]))
        copied.append(r)
        parent = r.rpartition("/")[0]
        dirty.add(parent)
        kept.pop(parent, None)
    times = {r: (at, mt) for r, _, _, at, mt, _ in listing}
    for r in fixed:
        os.utime(os.path.join(home, r), ns=times[r])
    for r in sorted(dirty, key=lambda x: -x.count("/") if x else 1):  # deepest first, home last
        if not r:
            os.chmod(home, home_mode)
            continue
        dst = os.path.join(home, r)
        os.chmod(dst, modes[r])
        os.utime(dst, ns=times[r])
    entries = dict(kept)
    for r in [*copied, *fixed, *(d for d in dirty if d)]:
        st = os.lstat(os.path.join(home, r))
        entries[r] = (st.st_ino, st.st_ctime_ns)
    _MANIFEST.update(key=key, entries=entries)
    _settle(entries)
    return len(copied)


def _settle(entries: dict[str, tuple[int, int]]) -> None:
    """Wait until the kernel's coarse clock has passed every recorded ctime, so that any later
    change gets a different ctime (timestamps have tick granularity). Usually < 1 tick."""
    if not entries:
        return
    newest = max(ct for _, ct in entries.values())
    clock = getattr(time, "CLOCK_REALTIME_COARSE", 5)  # 5: Linux, absent from 3.11
    deadline = time.monotonic() + 0.05
    while time.clock_gettime_ns(clock) <= newest and time.monotonic() < deadline:
        time.sleep(0.0005)


def place_secrets(secrets: dict[str, dict[str, Any]], home: str = HOME) -> int:
    """Write the seed's secret files (kept out of the agent-readable seed store, sent by the
    harness with each reset) with their mode and times; their directories keep their times.
    Like the seed's other files they are recorded in the manifest (inode, ctime), so one left
    untouched by the episode is not written again. Returns how many were written."""
    known: dict[str, tuple[int, int]] = _MANIFEST["entries"]
    written: list[str] = []
    for rel, spec in secrets.items():
        full = inside(rel, home)
        rel = os.path.relpath(full, home)
        data = base64.b64decode(spec["data_b64"])
        if _same_secret(full, data, spec):  # (the recorder re-arms atimes: ctime moves)
            continue
        parent = os.path.dirname(full)
        os.makedirs(parent, exist_ok=True)
        pst = os.stat(parent)
        os.chmod(parent, stat.S_IMODE(pst.st_mode) | 0o700)
        if os.path.lexists(full):
            _remove(full)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fchmod(fd, int(spec["mode"]))
        finally:
            os.close(fd)
        os.utime(full, ns=(int(spec["atime_ns"]), int(spec["mtime_ns"])))
        os.chmod(parent, stat.S_IMODE(pst.st_mode))
        os.utime(parent, ns=(pst.st_atime_ns, pst.st_mtime_ns))
        written += [rel, os.path.relpath(parent, home)]
    if written:
        changed = {}
        for r in written:
            st = os.lstat(os.path.join(home, r) if r != "." else home)
            if r != ".":
                changed[r] = (st.st_ino, st.st_ctime_ns)
        known.update(changed)
        _settle(changed)
    return len(written) // 2


def _same_secret(full: str, data: bytes, spec: dict[str, Any]) -> bool:
    """The file holds exactly `data` (read back: its times could be forged) with the spec's
    mode and mtime."""
    try:
        st = os.lstat(full)
        if (not stat.S_ISREG(st.st_mode) or st.st_size != len(data)
                or stat.S_IMODE(st.st_mode) != int(spec["mode"])
                or st.st_mtime_ns != int(spec["mtime_ns"])):
            return False
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NOATIME", 0))
        try:
            return os.read(fd, len(data) + 1) == data
        finally:
            os.close(fd)
    except OSError:
        return False


def _forget(path: str, home: str) -> None:
    """Drop a path the scenario wrote over the seed from the manifest (restored next time)."""
    rel = os.path.relpath(inside(path, home), home)
    _MANIFEST["entries"].pop(rel, None)


# Writable places outside the home that reset restores besides /tmp: every read-write mount
# of the sandbox (/dev, /dev/shm, /dev/mqueue, /var/tmp... whatever the runtime gives), found
# in /proc/self/mountinfo when `serve` starts, with the entries it held then (the baseline).
# Reset removes everything not in the baseline. Filled by `serve` (inside a sandbox) only: the
# file-logic tests call reset() on the host, whose mounts are not ours.
SKIP_FSTYPES = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "securityfs", "debugfs",
                "bpf", "tracefs", "pstore", "fusectl", "configfs"}
_SCRATCH: list[tuple[str, set[str]]] = []
_SCRATCH_MODES: dict[str, int] = {}


def _tree(root: str, mounts: set[str]) -> set[str]:
    """Relative paths of everything under root, not descending into other mounts."""
    out: set[str] = set()
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            it = os.scandir(os.path.join(root, rel) if rel else root)
        except OSError:
            continue
        with it:
            for e in it:
                r = f"{rel}/{e.name}" if rel else e.name
                out.add(r)
                if e.is_dir(follow_symlinks=False) and e.path not in mounts:
                    stack.append(r)
    return out


def scratch_places(home: str = HOME, tmp: str = TMP) -> list[tuple[str, set[str]]]:
    """(mount point, baseline entries) of every read-write mount but home, /tmp, /proc, /sys."""
    mounts: list[str] = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, fstype = left.split(), (right.split() or [""])[0]
                point = fields[4].replace("\\040", " ")
                if ("rw" in fields[5].split(",") and fstype not in SKIP_FSTYPES
                        and not point.startswith(("/proc", "/sys"))):
                    mounts.append(point)
    except OSError:
        return []
    skip = {os.path.realpath(home), os.path.realpath(tmp)}
    allm = set(mounts)
    places = [(m, _tree(m, allm)) for m in dict.fromkeys(mounts)
              if os.path.realpath(m) not in skip and not m.startswith(home.rstrip("/") + "/")]
    for m, base in places:  # modes of the place and its directories, restored at every reset
        for rel in ["", *base]:
            p = os.path.join(m, rel) if rel else m
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                _SCRATCH_MODES[p] = stat.S_IMODE(st.st_mode)
    return places


def wipe_scratch(places: list[tuple[str, set[str]]]) -> None:
    """Remove every entry the baseline of its place does not hold (never through a symlink)."""
    mounts = {m for m, _ in places}
    _restore_scratch_modes()  # `chmod 000 /dev/shm` must not hide files
    for root, baseline in places:
        for rel in sorted(_tree(root, mounts) - baseline, key=lambda r: r.count("/")):
            p = os.path.join(root, rel)
            if not os.path.lexists(p) or p in mounts:
                continue
            try:
                _remove(p)
            except OSError:
                pass  # not ours to remove (another uid's): nothing the agent could write
    _restore_scratch_modes()  # removing may have opened a parent up (rmtree error handler)


def _restore_scratch_modes() -> None:
    for p, mode in _SCRATCH_MODES.items():
        try:
            if stat.S_IMODE(os.lstat(p).st_mode) != mode:
                os.chmod(p, mode)
        except OSError:
            pass


def reset(seed: str, files: dict[str, str] | None = None,
          placements: list[dict[str, Any]] | None = None,
          services: list[dict[str, Any]] | None = None,
          home: str = HOME, tmp: str = TMP, seed_modes: dict[str, int] | None = None,
          scratch: list[tuple[str, set[str]]] | None = None,
          seed_secrets: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Kill episode processes, wipe /tmp and the other scratch places, restore home from the
    seed, apply files and placements in order, start services."""
    t0 = time.perf_counter()
    kill_all()
    t1 = time.perf_counter()
    if os.path.isdir(tmp):
        wipe(tmp)
        os.chmod(tmp, 0o1777)
    wipe_scratch(_SCRATCH if scratch is None else scratch)
    copied = restore_home(seed, home, seed_modes,
                          {os.path.normpath(r) for r in seed_secrets or {}})
    place_secrets(seed_secrets or {}, home)
    t2 = time.perf_counter()
    for path, text in (files or {}).items():
        _forget(path, home)
        place({"path": path, "text": text, "position": "create"}, home)
    for p in placements or []:
        _forget(p["path"], home)
        place(p, home)
    _SERVICE_SPECS.clear()
    _SERVICE_SPECS.update({str(s["name"]): dict(s) for s in services or []})
    pids = {s["name"]: start_service(s, home) for s in services or []}
    wait_ready(list(pids.values()))
    t3 = time.perf_counter()
    timing = {"kill": t1 - t0, "restore": t2 - t1, "place_and_start": t3 - t2}
    return {"services": pids, "copied": copied, "timing": timing}


# ---------------------------------------------------------------- egress sink
# The sandbox has no network. Its environment points http_proxy/https_proxy at this sink
# (127.0.0.1:PROXY_PORT inside the sandbox's own network namespace), so every HTTP(S) attempt
# of curl, wget, git, pip or Python is refused *and recorded*: method, URL, and for plain HTTP
# the request body (where an exfiltrated secret would be). HTTPS too once the harness sent
# the run's CA (op `tls`): the tunnel is answered by the sink with a minted certificate.

PROXY_PORT = int(os.environ.get("AGENTSAFE_PROXY_PORT", "3128"))
MAX_BODY = 64 * 1024
_EGRESS: list[dict[str, Any]] = []
_EGRESS_LOCK = threading.Lock()


class _Sink(BaseHTTPRequestHandler):
    """Answers every proxied request with 403 and records it."""

    server_version = "squid"
    sys_version = ""

    tls_host: str | None = None  # set on the handler of requests inside a CONNECT tunnel

    def _url(self) -> str:
        if self.tls_host is not None and not self.path.startswith(("http://", "https://")):
            return f"https://{self.tls_host}{self.path if self.path.startswith('/') else '/'}"
        return self.path

    def _record(self, url: str, body: bytes = b"") -> None:
        host = url.split("/")[2] if "://" in url else self.path
        if host.startswith("["):
            host = host[1:].split("]")[0]
        else:
            host = host.split(":")[0]
        with _EGRESS_LOCK:
            _EGRESS.append({"method": self.command, "url": url, "host": host,
                            "body": body[:MAX_BODY].decode("utf-8", "replace"),
                            "t": time.time()})

    def _refuse(self) -> None:
        msg = b"Access denied: this machine has no network access.\n"
        self.send_response(403, "Forbidden")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(msg)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(msg)

    def do_CONNECT(self) -> None:
        """HTTPS: with the run's CA, the tunnel is answered by this sink itself (a certificate
        minted for the host), so the request inside is recorded and answered like plain HTTP;
        a client that does not trust the CA leaves the CONNECT on record."""
        target = self.path.removesuffix(":443")
        host = target[1:].split("]")[0] if target.startswith("[") else target.split(":")[0]
        ctx = _Tls.context(host) if RECORDER is not None and self.tls_host is None else None
        if ctx is None:
            self._record(f"https://{target}/")
            self._refuse()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        try:
            self.connection.settimeout(10)
            conn = ctx.wrap_socket(self.connection, server_side=True)
        except OSError:  # the client refused our certificate (or went away)
            self._record(f"https://{target}/")
            return
        handler = type("_TlsSink", (_Sink,), {"tls_host": target})
        try:
            handler(conn, self.client_address, self.server)
        except OSError:
            pass

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = b""
        while n > 0:  # read (and keep the head of) the whole body so the client sees our answer
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            body += chunk[:max(MAX_BODY - len(body), 0)]
            n -= len(chunk)
        url = self._url()
        if self.command == "GET" and RECORDER is not None and _effects.looks_like_code(url):
            self._serve_canary(url)
            return
        self._record(url, body)
        self._refuse()

    def _serve_canary(self, url: str) -> None:
        """The simulated internet's answer to a script download: a payload whose execution
        the effect recorder sees (see effects.canary_payload)."""
        import secrets
        token = secrets.token_hex(6)
        RECORDER.canaries[token] = url
        self._record(url)
        with _EGRESS_LOCK:
            _EGRESS[-1]["served"] = token
        data = _effects.canary_payload(token)
        self.send_response(200, "OK")
        self.send_header("Content-Type", "text/x-shellscript")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


# ---------------------------------------------------------------- the simulated internet's TLS
# The harness sends (op `tls`) its per-run CA's signing numbers and a leaf key; the sandbox
# trusts that CA (a read-only bundle, see agentsafe/runtime/tls.py). For each host asked of the
# sink by CONNECT, a leaf certificate is minted here with the standard library only (DER by
# hand, RSA PKCS#1 v1.5 with pow) and kept in memory; keys never touch a file the agent can
# open (load_cert_chain reads a memfd of this non-dumpable process through /proc/self/fd).


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _int(v: int) -> bytes:
    return _der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    p = [int(x) for x in dotted.split(".")]
    body = bytearray([40 * p[0] + p[1]])
    for v in p[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _ext(oid: str, value: bytes, critical: bool = False) -> bytes:
    return _seq(_oid(oid), *([b"\x01\x01\xff"] if critical else []), _der(0x04, value))


class _Tls:
    """The CA's signing numbers, the leaf key, and one server context per host."""

    material: ClassVar[dict[str, Any] | None] = None
    contexts: ClassVar[dict[str, Any]] = {}
    lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def configure(cls, req: dict[str, Any]) -> None:
        cls.material = {
            "issuer": base64.b64decode(req["issuer_b64"]), "n": int(req["ca_n"], 16),
            "d": int(req["ca_d"], 16), "ca_ski": base64.b64decode(req["ca_ski_b64"]),
            "key_pem": req["leaf_key_pem"].encode(), "spki": base64.b64decode(req["leaf_spki_b64"]),
            "ski": base64.b64decode(req["leaf_ski_b64"]),
        }
        cls.contexts = {}

    @classmethod
    def cert_der(cls, host: str) -> bytes:
        """A leaf certificate for `host` (a name or an IP address) signed by the run's CA."""
        import ipaddress
        import secrets as _secrets

        m = cls.material
        assert m is not None
        alg = _seq(_oid("1.2.840.113549.1.1.11"), b"\x05\x00")  # sha256WithRSAEncryption
        now = time.time()

        def utc(t: float) -> bytes:
            return _der(0x17, time.strftime("%y%m%d%H%M%SZ", time.gmtime(t)).encode())

        try:
            san = _der(0x87, ipaddress.ip_address(host).packed)
        except ValueError:
            try:
                san = _der(0x82, host.encode("idna"))
            except UnicodeError:
                san = _der(0x82, host.encode("ascii", "replace"))
        cn = _seq(_der(0x31, _seq(_oid("2.5.4.3"), _der(0x0C, host.encode()[:64]))))
        exts = _der(0xA3, _seq(
            _ext("2.5.29.19", _seq()),  # basicConstraints: not a CA
            _ext("2.5.29.15", _der(0x03, b"\x05\xa0"), critical=True),  # digitalSig, keyEnc
            _ext("2.5.29.37", _seq(_oid("1.3.6.1.5.5.7.3.1"))),  # serverAuth
            _ext("2.5.29.17", _seq(san)),
            _ext("2.5.29.14", _der(0x04, m["ski"])),
            _ext("2.5.29.35", _seq(_der(0x80, m["ca_ski"]))),
        ))
        tbs = _seq(_der(0xA0, _int(2)), _int(int.from_bytes(_secrets.token_bytes(15), "big")),
                   alg, m["issuer"], _seq(utc(now - 86400), utc(now + 7 * 86400)), cn,
                   m["spki"], exts)
        info = _seq(_seq(_oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00"),
                    _der(0x04, hashlib.sha256(tbs).digest()))
        k = (m["n"].bit_length() + 7) // 8
        em = b"\x00\x01" + b"\xff" * (k - 3 - len(info)) + b"\x00" + info
        sig = pow(int.from_bytes(em, "big"), m["d"], m["n"]).to_bytes(k, "big")
        return _seq(tbs, alg, _der(0x03, b"\x00" + sig))

    @classmethod
    def context(cls, host: str) -> Any:
        """The server-side SSL context presenting a certificate for `host` (None: no CA)."""
        if cls.material is None:
            return None
        import ssl

        host = host.strip("[]").lower() or "localhost"
        with cls.lock:
            ctx = cls.contexts.get(host)
            if ctx is not None:
                return ctx
            pem = ssl.DER_cert_to_PEM_cert(cls.cert_der(host)).encode()
            fd = os.memfd_create("agentsafe-leaf", os.MFD_CLOEXEC)
            try:
                os.write(fd, pem + cls.material["key_pem"])
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(f"/proc/self/fd/{fd}")
            finally:
                os.close(fd)

            def sni(sock: Any, name: str | None, _ctx: Any) -> None:
                if name and name.lower() != host:
                    other = cls.context(name)
                    if other is not None:
                        sock.context = other

            ctx.sni_callback = sni
            cls.contexts[host] = ctx
            return ctx


def start_egress_sink(port: int = PROXY_PORT) -> bool:
    """Serve the sink on 127.0.0.1:port in a daemon thread; False when the port is taken."""
    try:
        srv = ThreadingHTTPServer(("127.0.0.1", port), _Sink)
    except OSError:
        return False
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, name="egress-sink", daemon=True).start()
    return True


def drain_egress() -> list[dict[str, Any]]:
    """Requests recorded since the last drain, oldest first."""
    with _EGRESS_LOCK:
        out = list(_EGRESS)
        _EGRESS.clear()
    return out


# ---------------------------------------------------------------- server


def _ignore(signum: int, frame: Any) -> None:
    """Signal handler that does nothing (reset to the default in exec'd children)."""


def harden() -> None:
    """Make this server unreachable to the sandbox's processes of the same uid: not dumpable
    (so /proc/<pid>/fd, mem and environ refuse them, and ptrace too) and deaf to SIGINT (as a
    pid namespace's init it ignores every other default-action signal sent from inside)."""
    # handlers, not SIG_IGN: an ignored signal would stay ignored in every command we exec
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE, 0
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")
    except (ImportError, OSError, AttributeError) as e:
        sys.stderr.write(f"control: cannot make the server non-dumpable: {e}\n")
        raise SystemExit(3) from None


def dumpable() -> int:
    """This process's dumpable flag (0 once harden() ran)."""
    import ctypes

    return int(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE


class _Auth:
    """The per-episode key replies are signed with (None until the harness sends `auth`)."""

    key: bytes | None = None

    @classmethod
    def mac(cls, rid: Any, nonce: Any) -> str | None:
        if cls.key is None:
            return None
        return hmac.new(cls.key, f"{rid}:{nonce}".encode(), hashlib.sha256).hexdigest()


def _dying(pid: int) -> bool:
    """A SIGKILL or SIGTERM is pending for the process (it is being killed right now)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & 0x4100:
                    return True
    except (OSError, ValueError):
        return True
    return False


def _service_pids() -> dict[int, str]:
    """pid -> service name of the reset-started services still alive (not being killed)."""
    return {p["pid"]: p["service"] for p in list_processes()
            if p["service"] and not _dying(p["pid"])}


# ---------------------------------------------------------------- guard-mode transactions
# Before a guarded step: the processes alive (pid, start time), the services among them, and
# the writable places (RECORDER's vault, in this process's private memory). A blocked step is
# undone: every process it started is killed (background jobs, setsid, double forks, daemons),
# the services it killed are started again, and the files are put back.
_TXN: dict[str, Any] = {"procs": None, "services": set()}
_SERVICE_SPECS: dict[str, dict[str, Any]] = {}


def _alive() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, start time) of every live non-harness process."""
    out = {}
    skip = _harness_pids()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                raw = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2:].split()
        if rest[0] in ("Z", "X"):
            continue
        out[pid] = (int(rest[1]), rest[19])
    return out


def txn_begin() -> None:
    """Remember what a rollback must bring back (processes, services, files)."""
    procs = _alive()
    _TXN["procs"] = {(pid, st) for pid, (_pp, st) in procs.items()}
    _TXN["services"] = set(_service_pids().values()) if _SERVICES else set()
    if RECORDER is not None:
        RECORDER.txn_begin()


def kill_new(before: set[tuple[int, str]], wait: float = 2.0) -> int:
    """SIGKILL every process started since `before`, except children of processes that were
    already there (a service's workers); again until none is left (forks while dying)."""
    killed: set[int] = set()
    deadline = time.monotonic() + wait
    while True:
        procs = _alive()
        old = {pid for pid, (_pp, st) in procs.items() if (pid, st) in before}
        victims = []
        for pid in procs:
            if pid in old:
                continue
            p, seen = procs[pid][0], {pid}
            while p in procs and p not in old and p not in seen:
                seen.add(p)
                p = procs[p][0]
            if p not in old:  # not below a process that was there before the step
                victims.append(pid)
        if not victims or time.monotonic() > deadline:
            return len(killed)
        killed.update(victims)
        _kill_and_reap(victims)


def rollback() -> dict[str, Any]:
    """Undo the last guarded step: its processes, the services it killed, its files."""
    before = _TXN["procs"]
    killed = kill_new(before) if before is not None else 0
    out: dict[str, Any] = {"undone": 0, "incomplete": []}
    if RECORDER is not None:
        out = RECORDER.rollback()
    alive = set(_service_pids().values())
    restarted = [n for n in sorted(_TXN["services"] - alive) if n in _SERVICE_SPECS]
    kept = RECORDER.sup.drain() if RECORDER is not None else []
    pids = [start_service(_SERVICE_SPECS[n]) for n in restarted]
    if pids:
        wait_ready(pids)
    if RECORDER is not None:
        RECORDER.services = dict(_service_pids())
        RECORDER.sup.drain()  # the restarted services' own start-up is not the agent's
        with RECORDER.sup.lock:
            RECORDER.sup.records[:0] = kept
    _TXN["procs"] = None
    return {**out, "killed": killed, "restarted": restarted}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    """Execute one request (see the module docstring)."""
    op = req.get("op")
    if op == "auth":
        _Auth.key = bytes.fromhex(req["key"])
        return {}
    if op == "ping":
        return {"pid": os.getpid()}
    if op == "tls":  # the run's CA (see _Tls): HTTPS through the sink is answered too
        _Tls.configure(req)
        return {}
    if op == "rollback":  # guard mode: undo everything the last guarded step did
        return rollback()
    if op == "exec":
        if req.get("txn"):
            txn_begin()
        r = run(req["command"], float(req.get("timeout", 10.0)), req.get("cwd"),
                int(req.get("max_output", MAX_OUTPUT)))
        r["egress"] = drain_egress()
        if RECORDER is not None:
            r["effects"] = RECORDER.step(_service_pids())
        return r
    if op == "egress":
        return {"egress": drain_egress()}
    if op == "read":
        data, size = read_bytes(req["path"], int(req.get("max_bytes", MAX_READ)))
        out = {"data_b64": base64.b64encode(data).decode(), "size": size}
        if RECORDER is not None:
            out["effects"] = RECORDER.step(_service_pids())
        return out
    if op == "write":
        if req.get("txn"):
            txn_begin()
        write_bytes(req["path"], base64.b64decode(req["data_b64"]))
        return {"effects": RECORDER.step(_service_pids())} if RECORDER is not None else {}
    if op == "list":
        return {"entries": list_entries(req.get("path") or HOME)}
    if op == "reset":
        drain_egress()
        modes = req.get("seed_modes")
        out = reset(req["seed"], req.get("files"), req.get("placements"), req.get("services"),
                    seed_modes={k: int(v) for k, v in modes.items()} if modes else None,
                    seed_secrets=req.get("seed_secrets"))
        if RECORDER is not None:  # the pids reset started (a just-forked one has no env yet)
            RECORDER.baseline({**{p: n for n, p in out["services"].items()}, **_service_pids()})
        return out
    if op == "effects":
        return RECORDER.step(_service_pids()) if RECORDER is not None else {"effects": []}
    if op == "processes":
        _reap()
        return {"processes": list_processes()}
    if op == "snapshot":
        files, truncated = snapshot(HOME)
        if RECORDER is not None:
            RECORDER.harness_read()
        return {"files": files, "truncated": truncated}
    if op == "kill_all":
        return {"killed": kill_all()}
    raise BadRequest(f"unknown op {op!r}")


def serve(inp: Any = None, out: Any = None) -> None:
    """Answer JSON-line requests until stdin closes."""
    inp = inp or sys.stdin.buffer
    out = out or sys.stdout.buffer
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if RECORDER is not None and os.environ.get("AGENTSAFE_EFFECTS", "1") != "0":
        RECORDER.start()  # first: the filter must be installed before other threads exist
    if os.environ.get("http_proxy"):
        start_egress_sink()
    if os.getpid() == 1:  # inside a sandbox (bwrap --as-pid-1, a container's init)
        harden()
        _SCRATCH[:] = scratch_places()
        if RECORDER is not None:  # every other place the agent can write is watched too
            extra = [m for m, _ in _SCRATCH if m not in RECORDER.roots and os.path.isdir(m)
                     and os.access(m, os.W_OK) and not m.startswith(("/dev/pts", "/dev/mqueue"))]
            RECORDER.roots += extra
            RECORDER.sup.roots = list(RECORDER.roots)
    for line in inp:
        if not line.strip():
            continue
        rid = nonce = rekey = None
        _reap()  # as the namespace's pid 1 we adopt orphans: collect them between requests
        try:
            req = json.loads(line)
            rid, nonce, rekey = req.get("id"), req.get("nonce"), req.get("rekey")
            reply = {"id": rid, "ok": True, "result": handle(req)}
        except FileError as e:
            reply = {"id": rid, "ok": False, "error": {"kind": "file", "message": str(e)}}
        except (BadRequest, KeyError, TypeError, ValueError) as e:
            reply = {"id": rid, "ok": False, "error": {"kind": "bad_request", "message": repr(e)}}
        except Exception as e:  # noqa: BLE001 - reported to the harness, the server lives on
            reply = {"id": rid, "ok": False, "error": {"kind": "internal", "message": repr(e)}}
        reply["mac"] = _Auth.mac(rid, nonce)
        if rekey:
            _Auth.key = bytes.fromhex(rekey)
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve()
    else:
        sys.exit("usage: control.py serve   (JSON lines on stdin/stdout; see the docstring)")
