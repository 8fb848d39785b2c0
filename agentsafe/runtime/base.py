"""The runtime-neutral control interface of an OS sandbox (local bubblewrap, Docker, later k8s).

An `OSBackend` owns one isolated Linux userland whose home is /home/user. The file-level work
(reset a home from a seed, place files and injections, snapshot, list processes) lives in the
stdlib-only script `sandboxes/os/control.py`, so every backend runs the *same* code: the local
backend runs it inside its bubblewrap session (and imports it on the host side for speed), a
Docker backend runs it inside its container with `docker exec -i <ctr> python3 control.py serve`
(JSON lines on stdin/stdout, see that file's docstring for the protocol).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import Field

from agentsafe.errors import AgentsafeError
from agentsafe.models.base import Record, Strict
from agentsafe.models.state import StateSnapshot

HOME = "/home/user"
USER = "user"
UID = 1000
GID = 1000
# PATH inside every OS sandbox: the user's own bin dirs first, so seeds and scenarios can
# provide commands (e.g. a `command_output` injection carrier) that shadow system ones.
SANDBOX_PATH = "/home/user/bin:/home/user/.local/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
PROXY_PORT = 3128  # the egress sink inside every OS sandbox (see sandboxes/os/control.py)
MAX_OUTPUT = 64 * 1024  # bytes kept per stream (stdout, stderr) of one command
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0


class FileOpError(AgentsafeError):
    """A file operation failed because of what the agent asked (missing file, permission denied,
    is a directory, read-only file system). Becomes a tool error, never an infra error."""


class ExecResult(Record):
    """Outcome of one shell command. `stdout`/`stderr` are raw bytes capped at MAX_OUTPUT each;
    `truncated` says a cap was hit; `timed_out` that the process group was killed."""

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    truncated: bool = False
    duration: float = 0.0
    egress: list[dict[str, Any]] = Field(
        default_factory=list,
        description="HTTP(S) requests the command attempted, refused and recorded by the "
                    "sandbox's egress sink: {method, url, host, body, t}")
    effects: dict[str, Any] = Field(
        default_factory=dict,
        description="what the step did, from sandboxes/os/effects.py: {effects: [...], "
                    "truncated, ms, tracing}")


class Placement(Strict):
    """One text placed into the home at reset (a scenario file or an injection carrier), verbatim.

    position: `create` (write the whole file, replacing any), `append`, `prepend`, or `replace`
    (substitute the first occurrence of `marker`; appended when the marker is absent).
    `mode` sets permission bits (e.g. 0o755 for a script). `path` is relative to the home."""

    path: str
    text: str
    position: Literal["create", "append", "prepend", "replace"] = "create"
    marker: str | None = None
    mode: int | None = None


class ServiceSpec(Strict):
    """A background process started at reset and alive during the episode (visible to `ps`,
    killable by the agent). `command` is a bash command line run detached in the home."""

    name: str
    command: str


class DirEntry(Record):
    """One entry of a directory listing."""

    name: str
    type: Literal["file", "dir", "link", "other"] = "file"
    size: int = 0
    mode: int = 0o644


class ProcessInfo(Record):
    """One process alive in the sandbox (harness processes excluded)."""

    pid: int
    ppid: int = 0
    name: str = Field(default="", description="the kernel's comm name (what pkill matches)")
    cmdline: str = ""
    service: str | None = Field(default=None, description="the reset-started service it belongs to")


@runtime_checkable
class OSBackend(Protocol):
    """Control interface of one OS sandbox. Paths are absolute in the sandbox or relative to
    HOME. Agent-caused file problems raise FileOpError; a broken sandbox raises SandboxError."""

    async def start(self) -> None:
        """Bring the sandbox up (idempotent)."""

    async def reset(
        self,
        seed_dir: Path,
        files: dict[str, str],
        placements: list[Placement],
        services: list[ServiceSpec] = ...,  # type: ignore[assignment]
    ) -> None:
        """Kill every episode process, make HOME a fresh copy of `seed_dir` (a built seed home
        on the host), write `files` (path -> content), apply `placements` in order, wipe /tmp,
        then start `services`."""

    async def exec(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> ExecResult:
        """Run `bash -c command` as the user in HOME; the whole process group is killed on
        timeout; output capped at MAX_OUTPUT bytes per stream."""

    async def read_file(self, path: str) -> bytes:
        """Bytes of a file as the sandbox sees it."""

    async def write_file(self, path: str, data: bytes) -> None:
        """Create or overwrite a file (parents created) as the sandbox user."""

    async def list_dir(self, path: str) -> list[DirEntry]:
        """Entries of a directory, sorted by name."""

    async def processes(self) -> list[ProcessInfo]:
        """Processes alive in the sandbox, harness processes excluded."""

    async def snapshot(self) -> StateSnapshot:
        """The home as files (relative paths, sha256, mode, type, size, small UTF-8 text) plus
        data["processes"] (list of ProcessInfo dicts)."""

    async def close(self) -> None:
        """Stop everything and remove temporary directories (idempotent)."""
