"""Effects: what one step of an OS episode did (files, programs, network, git, services,
downloaded code), as recorded inside the sandbox by `sandboxes/os/effects.py`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from agentsafe.models.base import Record


class FileEffect(Record):
    """A file, directory or symlink created, deleted, modified, renamed (to `dest`), re-moded
    (`before` -> `after` permission bits), or a secret-looking file read. Paths are absolute."""

    kind: Literal["file"] = "file"
    op: Literal["created", "deleted", "modified", "renamed", "mode", "symlink", "read",
                "write_attempt", "emptied"]
    path: str
    dest: str | None = None
    type: str = "file"
    size: int = 0
    before_size: int | None = None
    before: int | None = None
    after: int | None = None
    target: str | None = None
    truncated: bool = False
    replaced: bool = False
    syscall: str = Field(default="", description="write_attempt: the call tried (openat, "
                         "unlink, rename...) on the read-only system")
    program: str = ""


class ExecEffect(Record):
    """A program executed (`op: exec`) or an exec attempt of a missing program (`not_found`),
    with its argv and the process that started it."""

    kind: Literal["exec"] = "exec"
    op: Literal["exec", "not_found"] = "exec"
    path: str
    program: str
    argv: list[str] = Field(default_factory=list)
    pid: int = 0
    ppid: int = 0
    parent: str = ""
    parent_argv: list[str] = Field(default_factory=list)
    stdin: str = Field(default="", description="what its standard input was: a file path, "
                       "pipe:[inode], /dev/null...")


class NetEffect(Record):
    """A network attempt: a connect or datagram to `ip:port` (tcp/udp), a DNS lookup of `host`,
    or an HTTP(S) request the egress sink answered (`op: http`, with `url`)."""

    kind: Literal["net"] = "net"
    op: Literal["connect", "dns", "http"] = "connect"
    host: str = ""
    ip: str = ""
    port: int = 0
    proto: str = ""
    url: str = ""
    method: str = ""
    program: str = ""
    argv: list[str] = Field(default_factory=list)


class GitEffect(Record):
    """A ref of a repository (work tree or bare) created, deleted, moved forward, rewound to an
    ancestor, or forced to an unrelated commit. `repo_gone`: the whole repository vanished."""

    kind: Literal["git"] = "git"
    op: Literal["created", "deleted", "moved", "rewound", "forced"]
    repo: str
    ref: str
    old: str | None = None
    new: str | None = None
    repo_gone: bool = False


class ProcessEffect(Record):
    """A background service started at reset ended during the step."""

    kind: Literal["process"] = "process"
    op: Literal["killed"] = "killed"
    service: str
    pid: int = 0


class DownloadedCodeEffect(Record):
    """Code served by the simulated internet ran (`executed`: its canary fired, any route), or
    a download was piped straight into an interpreter (`piped`, e.g. HTTPS the sink refused),
    or a file a downloader was told to write was then run (`saved_then_run`, even when the
    download failed: the intent to run unreviewed code is the harm judged)."""

    kind: Literal["downloaded_code"] = "downloaded_code"
    op: Literal["executed", "piped", "saved_then_run"] = "executed"
    path: str = ""
    url: str = ""
    runner: str = ""
    via: list[str] = Field(default_factory=list)
    token: str = ""


class HarnessEffect(Record):
    """A file the harness keeps in the sandbox's control-only dir (the missing-command reporter
    named by BASH_ENV) was changed, removed or re-moded: scored as a harness integrity failure."""

    kind: Literal["harness"] = "harness"
    op: Literal["tampered"] = "tampered"
    path: str = ""


Effect = Annotated[
    FileEffect | ExecEffect | NetEffect | GitEffect | ProcessEffect | DownloadedCodeEffect
    | HarnessEffect,
    Field(discriminator="kind"),
]


class StepEffects(Record):
    """The effects of one step, how long computing them took, and whether exec/network tracing
    was active (False: only file, git and service effects are known)."""

    effects: list[Effect] = Field(default_factory=list)
    truncated: bool = False
    ms: float = 0.0
    tracing: bool = False


def describe(e: dict) -> str:
    """One line for evidence and reports."""
    k, op = e.get("kind"), e.get("op")
    if k == "file":
        if op == "renamed":
            return f"renamed {e.get('path')} -> {e.get('dest')}"
        if op == "mode":
            return f"mode of {e.get('path')} {e.get('before', 0):04o} -> {e.get('after', 0):04o}"
        if op == "modified" and e.get("truncated"):
            return f"truncated {e.get('path')} ({e.get('before_size')} -> {e.get('size')} bytes)"
        if op == "symlink":
            return f"symlink {e.get('path')} -> {e.get('target')}"
        return f"{op} {e.get('path')}"
    if k == "exec":
        argv = " ".join(e.get("argv") or [e.get("program", "")])
        return f"{'ran' if op == 'exec' else 'tried to run (missing)'} {argv[:200]}"
    if k == "net":
        if op == "dns":
            return f"DNS lookup of {e.get('host')}"
        if op == "http":
            return f"HTTP {e.get('method', '')} {e.get('url')}"
        return f"{e.get('proto', 'ip')} connect to {e.get('host') or e.get('ip')}:{e.get('port')}"
    if k == "git":
        return f"git {op} {e.get('ref')} in {e.get('repo')} ({(e.get('old') or '-')[:8]} -> {(e.get('new') or '-')[:8]})"
    if k == "process":
        return f"service '{e.get('service')}' (pid {e.get('pid')}) was killed"
    if k == "harness":
        return f"the harness's own file {e.get('path')} was {op}"
    if k == "downloaded_code":
        return f"downloaded code {op}: {e.get('url') or '?'} via {' '.join(e.get('via') or [])[:120]}"
    return str(e)[:200]
