"""The OS sandbox: a real Linux userland with a seeded home, driven by shell and file tools.

`OSSandbox(runtime="local"|"docker")` turns a scenario into an `OSBackend` reset (the built seed
home, the scenario's files, its injections placed by carrier, its background services) and the
agent's `shell` / `read_file` / `write_file` / `list_dir` calls into backend operations. The
runtime only decides where the processes live; this code is the same on both.
"""

from __future__ import annotations

import codecs
import importlib
import importlib.util
import re
import secrets as _secrets
import shlex
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import yaml

from agentsafe.errors import ConfigError, IntegrityError
from agentsafe.injection import render
from agentsafe.models.effects import describe as describe_effect
from agentsafe.models.events import Event, EventKind
from agentsafe.models.scenario import Injection, Scenario
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec
from agentsafe.paths import SANDBOXES_DIR
from agentsafe.runtime.base import (
    DEFAULT_TIMEOUT,
    HOME,
    MAX_OUTPUT,
    MAX_TIMEOUT,
    ExecResult,
    FileOpError,
    OSBackend,
    Placement,
    ServiceSpec,
)
from agentsafe.tools.registry import ToolRegistry

OS_DIR = SANDBOXES_DIR / "os"
DEFAULT_README = "projects/webapp/README.md"
DEFAULT_MAILBOX = "Mail/INBOX"
SYSTEM_BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")


@cache
def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentsafe_os_build_seed",
                                                  OS_DIR / "build_seed.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@cache
def seed_home(seed: str) -> Path:
    """The built (cached) home of an OS seed: `sandboxes/os/build_seed.py` on demand."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", seed):
        raise ConfigError(str(OS_DIR / "seeds"), None, "sandbox.seed",
                          f"invalid seed name {seed!r} (letters, digits, _ . -)")
    mod = _build_module()
    try:
        return Path(mod.build(seed))
    except mod.SeedError as e:
        raise ConfigError(str(OS_DIR / "seeds" / seed), None, "sandbox.seed", str(e)) from None


@cache
def seed_services(seed: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """(name -> command, autostart names) from `sandboxes/os/seeds/<seed>/services.yaml`."""
    path = OS_DIR / "seeds" / seed / "services.yaml"
    if not path.exists():
        return {}, ()
    data = yaml.safe_load(path.read_text()) or {}
    return ({str(k): str(v) for k, v in (data.get("services") or {}).items()},
            tuple(str(x) for x in data.get("autostart") or ()))


def _where(scenario: Scenario) -> str:
    return scenario.source_path or scenario.id


# ---------------------------------------------------------------- injection carriers


def _heredoc(text: str) -> str:
    """A bash here-document printing `text` verbatim (quoted delimiter: no expansion at all)."""
    delim = "AGENTSAFE_EOF_" + _secrets.token_hex(6)
    while delim in text:
        delim = "AGENTSAFE_EOF_" + _secrets.token_hex(6)
    body = text if text.endswith("\n") else text + "\n"
    return f"cat <<'{delim}'\n{body}{delim}\n"


def email_message(inj: Injection, text: str, when: datetime) -> str:
    """An RFC 5322 message whose body is the injected text (headers from `target`)."""
    t = inj.target
    sender = t.get("from", "IT Service Desk <it-support@northwind-analytics.com>")
    to = t.get("to", "Alex Morgan <alex.morgan@northwind-analytics.com>")
    subject = t.get("subject", "Action required")
    head = (f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {format_datetime(when)}\n"
            f"Message-ID: {make_msgid(domain='mail.example.test')}\n"
            "Content-Type: text/plain; charset=utf-8\n\n")
    before, after = t.get("body_before", ""), t.get("body_after", "")
    body = "".join(p if p.endswith("\n") or not p else p + "\n" for p in (before, text, after))
    return head + body


def command_script(inj: Injection, text: str) -> str:
    """A ~/bin/<command> script whose output carries the injected text: it runs the real
    system command of that name when one exists (so `git status` still works), prints
    `target.output` (the command's normal output), and prints the text before or after."""
    t = inj.target
    name = str(t["command"])
    real = next((f"{d}/{name}" for d in SYSTEM_BIN_DIRS if Path(f"{d}/{name}").exists()), None)
    parts = ["#!/bin/bash\n"]
    body = []
    if real:
        body.append(f"{shlex.quote(real)} \"$@\"\nstatus=$?\n")
    else:
        body.append("status=0\n")
    if t.get("output"):
        body.append(_heredoc(str(t["output"])))
    show = _heredoc(text)
    if t.get("when"):  # only for matching arguments, e.g. when: "status*"
        show = f"case \"$*\" in\n  {t['when']}) {show.rstrip()}\n  ;;\nesac\n"
    if t.get("position", "after") == "before":
        parts += [show, *body]
    else:
        parts += [*body, show]
    parts.append("exit $status\n")
    return "".join(parts)


def placements_for(scenario: Scenario, when: datetime | None = None) -> list[Placement]:
    """Where each injection of the scenario goes, as file placements (verbatim text)."""
    when = when or datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    out: list[Placement] = []
    for n, inj in enumerate(scenario.injections):
        field = f"injections.{inj.id}"
        text = render(inj)
        t = inj.target
        position = t.get("position", "append")
        if inj.carrier in ("file", "readme"):
            path = t.get("path") or (DEFAULT_README if inj.carrier == "readme" else None)
            if not path:
                raise ConfigError(_where(scenario), None, f"{field}.target.path",
                                  "carrier 'file' needs target.path (relative to the home)")
            if position not in ("append", "prepend", "replace", "create"):
                raise ConfigError(_where(scenario), None, f"{field}.target.position",
                                  f"unknown position {position!r} (append, prepend, replace, "
                                  "create)")
            if position == "replace" and not t.get("marker"):
                raise ConfigError(_where(scenario), None, f"{field}.target.marker",
                                  "position 'replace' needs a marker")
            out.append(Placement(path=str(path), text=text, position=position,
                                 marker=t.get("marker")))
        elif inj.carrier == "email":
            folder = str(t.get("folder", DEFAULT_MAILBOX)).rstrip("/")
            ts = int(when.timestamp()) + n
            fname = f"{folder}/new/{ts}.M{900 + n}P4242.devbox"
            out.append(Placement(path=fname, text=email_message(inj, text, when), position="create"))
        elif inj.carrier == "command_output":
            name = t.get("command")
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
                raise ConfigError(_where(scenario), None, f"{field}.target.command",
                                  "carrier 'command_output' needs target.command: a command "
                                  "name (letters, digits, . _ + -) that the agent will run")
            when_glob = t.get("when")
            if when_glob is not None and not re.fullmatch(r"[\w .*?\[\]/:=,+@%-]*", str(when_glob)):
                raise ConfigError(_where(scenario), None, f"{field}.target.when",
                                  "a bash glob on the arguments (letters, digits, * ? [ ] and "
                                  ". / : = , + @ % - _ space)")
            if t.get("position", "after") not in ("after", "before"):
                raise ConfigError(_where(scenario), None, f"{field}.target.position",
                                  "command_output position is 'after' or 'before'")
            out.append(Placement(path=f"bin/{name}", text=command_script(inj, text),
                                 position="create", mode=0o755))
        else:
            raise ConfigError(_where(scenario), None, f"{field}.carrier",
                              f"carrier {inj.carrier!r} does not exist in the OS sandbox "
                              "(file, readme, email, command_output)")
    return out


def services_for(scenario: Scenario) -> list[ServiceSpec]:
    """The background services of the episode: `sandbox.options.services` (seed service
    names or {name, command}), else the seed's autostart list."""
    known, autostart = seed_services(scenario.sandbox.seed)
    wanted = scenario.sandbox.options.get("services", list(autostart))
    if not isinstance(wanted, list):
        raise ConfigError(_where(scenario), None, "sandbox.options.services",
                          "must be a list of service names or {name, command} mappings")
    out = []
    for i, s in enumerate(wanted):
        if isinstance(s, str):
            if s not in known:
                raise ConfigError(_where(scenario), None, f"sandbox.options.services.{i}",
                                  f"unknown service {s!r} (seed '{scenario.sandbox.seed}' has: "
                                  f"{', '.join(sorted(known)) or 'none'})")
            out.append(ServiceSpec(name=s, command=known[s]))
        elif isinstance(s, dict) and "name" in s and "command" in s:
            out.append(ServiceSpec(name=str(s["name"]), command=str(s["command"])))
        else:
            raise ConfigError(_where(scenario), None, f"sandbox.options.services.{i}",
                              "expected a service name or {name, command}")
    return out


# ---------------------------------------------------------------- output rendering


def decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text with undecodable bytes replaced (NULs shown as \\0); True when the bytes
    were not clean text. A multi-byte character cut by the output cap does not count."""
    try:  # incremental: an incomplete trailing character (cut by the cap) is not an error
        dec = codecs.getincrementaldecoder("utf-8")()
        text = dec.decode(data, final=False)
        binary = "\x00" in text
        if dec.getstate()[0]:
            text += "\ufffd"
    except UnicodeDecodeError:
        text, binary = data.decode("utf-8", errors="replace"), True
    return text.replace("\x00", "\\0"), binary


def render_exec(r: ExecResult, timeout: float) -> tuple[str, bool]:
    """What the agent reads for a shell call, and whether the output was binary."""
    out, b1 = decode(r.stdout)
    err, b2 = decode(r.stderr)
    parts = []
    if out:
        parts.append(out if out.endswith("\n") else out + "\n")
    if err:
        parts.append("[stderr]\n" + (err if err.endswith("\n") else err + "\n"))
    if b1 or b2:
        parts.append("[note] output is not valid UTF-8 text: undecodable bytes are shown as \ufffd\n")
    if r.truncated:
        parts.append(f"[note] output truncated: only the first {MAX_OUTPUT} bytes of each "
                     "stream are shown\n")
    if r.timed_out:
        parts.append(f"[note] the command timed out after {timeout:g}s and was killed\n")
    parts.append(f"[exit code {r.exit_code}]")
    return "".join(parts), b1 or b2


class OSSandbox:
    """The `os` sandbox kind on the `local` (bubblewrap) or `docker` runtime."""

    kind = "os"

    def __init__(self, runtime: str = "local", backend: OSBackend | None = None,
                 **options: Any) -> None:
        self.runtime = runtime
        self.options = options
        self._backend = backend
        self._registry = ToolRegistry("os")
        self.last_exit: int | None = None
        self.last_command: str | None = None
        self._services: list[str] = []
        self.last_rollback: dict[str, Any] = {}  # guard mode: what the last rollback did
        self._events: list[Event] = []
        self.egress: list[dict[str, Any]] = []  # every refused HTTP(S) attempt this episode

    @property
    def backend(self) -> OSBackend:
        """The runtime backend (built on first use; Docker imported only when asked for)."""
        if self._backend is None:
            if self.runtime == "local":
                from agentsafe.runtime.local import LocalBackend
                try:
                    self._backend = LocalBackend(**self.options)
                except TypeError as e:
                    raise ConfigError("", None, "sandbox_options.os",
                                      f"unknown option for the local OS runtime: {e}") from None
            elif self.runtime == "docker":
                docker = importlib.import_module("agentsafe.runtime.docker")
                self._backend = docker.DockerOSBackend(**self.options)
            else:
                raise ConfigError("", None, "runtime",
                                  f"unknown runtime {self.runtime!r} for the OS sandbox "
                                  "(local, docker)")
        return self._backend

    async def start(self) -> None:
        """Start the backend (idempotent)."""
        await self.backend.start()

    async def reset(self, scenario: Scenario, seed: int = 0) -> None:
        """Fresh seed home + scenario files + injections by carrier + services."""
        if scenario.sandbox.kind != "os":
            raise ConfigError(_where(scenario), None, "sandbox.kind",
                              f"OSSandbox cannot run a '{scenario.sandbox.kind}' scenario")
        home = await anyio.to_thread.run_sync(seed_home, scenario.sandbox.seed)
        placements = placements_for(scenario)
        services = services_for(scenario)
        await self.backend.reset(home, dict(scenario.sandbox.files), placements, services)
        self._services = [s.name for s in services]
        self.last_exit, self.last_command = None, None
        self._events, self.egress = [], []

    def tools(self) -> list[ToolSpec]:
        return self._registry.list()

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one of shell / read_file / write_file / list_dir; agent problems -> error result."""
        args = call.args if isinstance(call.args, dict) else {}
        try:
            if call.name == "shell":
                return await self._shell(call, args)
            if call.name == "read_file":
                return await self._read(call, args)
            if call.name == "write_file":
                return await self._write(call, args)
            if call.name == "list_dir":
                return await self._list(call, args)
        except FileOpError as e:
            return ToolResult(call_id=call.id, ok=False, error=str(e),
                              data={"path": args.get("path")})
        except _ArgError as e:
            return ToolResult(call_id=call.id, ok=False, error=str(e))
        known = ", ".join(t.name for t in self.tools())
        return ToolResult(call_id=call.id, ok=False,
                          error=f"unknown tool {call.name!r} in the OS sandbox (tools: {known})")

    async def _shell(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        command = _arg(args, "command", str)
        if not command.strip():
            raise _ArgError("shell: 'command' is empty")
        timeout = args.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise _ArgError("shell: 'timeout' must be a number of seconds")
        timeout = min(max(float(timeout), 0.1), MAX_TIMEOUT)
        r = await self.backend.exec(command, timeout)
        self.last_exit, self.last_command = r.exit_code, command
        self._record_egress(r.egress, command)
        self._record_effects(call, r.effects, r.egress)
        text, binary = render_exec(r, timeout)
        return ToolResult(call_id=call.id, ok=True, output=text, truncated=r.truncated, data={
            "exit_code": r.exit_code, "command": command, "timed_out": r.timed_out,
            "binary": binary, "duration": round(r.duration, 4)})

    async def _read(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        path = _arg(args, "path", str)
        data = await self.backend.read_file(path)
        self._record_effects(call, getattr(self.backend, "last_effects", None) or {}, [])
        text, binary = decode(data[:MAX_OUTPUT])
        truncated = len(data) > MAX_OUTPUT
        if binary:
            text += "\n[note] the file is not valid UTF-8 text: undecodable bytes are shown as \ufffd"
        if truncated:
            text += f"\n[note] file truncated: only the first {MAX_OUTPUT} bytes are shown"
        return ToolResult(call_id=call.id, output=text, truncated=truncated,
                          data={"path": path, "binary": binary, "size": len(data)})

    async def _write(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        path = _arg(args, "path", str)
        content = _arg(args, "content", str)
        data = content.encode("utf-8", errors="surrogatepass")
        eff = await self.backend.write_file(path, data)
        self._record_effects(call, eff if isinstance(eff, dict) else {}, [])
        return ToolResult(call_id=call.id, output=f"Wrote {len(data)} bytes to {path}",
                          data={"path": path, "size": len(data)})

    async def _list(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        path = args.get("path") or HOME
        if not isinstance(path, str):
            raise _ArgError("list_dir: 'path' must be a string")
        entries = await self.backend.list_dir(path)
        lines = [f"{e.type:<4} {e.mode:04o} {e.size:>9}  {e.name}{'/' if e.type == 'dir' else ''}"
                 for e in entries]
        text = "\n".join(lines) if lines else "(empty directory)"
        return ToolResult(call_id=call.id, output=text,
                          data={"path": path, "entries": len(entries)})

    async def observe(self) -> tuple[str, dict]:
        """A one-line status: the real content arrives through tool results. Also collects
        egress attempts background processes made since the last call."""
        poll = getattr(self.backend, "egress", None)
        if callable(poll):
            self._record_egress(await poll(), None)
        between = getattr(self.backend, "effects", None)  # what happened since the last step
        if callable(between):
            eff = await between()
            if eff.get("effects"):
                self._record_effects(None, eff, [])
        last = ("no command run yet" if self.last_exit is None
                else f"last exit code {self.last_exit}")
        text = (f"user@devbox, shell commands start in {HOME}; {last}. "
                "Tools: shell, read_file, write_file, list_dir.")
        return text, {}

    def _record_egress(self, records: list[dict[str, Any]], command: str | None) -> None:
        for rec in records:
            self.egress.append(rec)
            body = str(rec.get("body") or "")
            self._events.append(Event(
                step=0, kind=EventKind.egress, url=str(rec.get("url") or ""),
                text=f"{rec.get('method', '')} {rec.get('url', '')}" + (f"\n{body}" if body else ""),
                data={"method": rec.get("method"), "host": rec.get("host"), "body": body,
                      "command": command, "refused": True}))

    def _record_effects(self, call: ToolCall | None, eff: dict[str, Any],
                        egress: list[dict[str, Any]]) -> None:
        """One `effects` event for the step: what it did (sandboxes/os/effects.py), plus the
        HTTP(S) requests the egress sink answered, as `net` effects of op `http`."""
        effects = list(eff.get("effects") or [])
        for rec in egress:
            effects.append({"kind": "net", "op": "http", "host": str(rec.get("host") or ""),
                            "url": str(rec.get("url") or ""), "method": str(rec.get("method") or ""),
                            "proto": "https" if str(rec.get("url", "")).startswith("https") else "http"})
        if not effects and not eff:
            return
        summary = "\n".join(describe_effect(e) for e in effects[:50])
        self._events.append(Event(
            step=0, kind=EventKind.effects, call=call, tags=["effects"], text=summary,
            data={"effects": effects, "truncated": bool(eff.get("truncated")),
                  "ms": eff.get("ms"), "tracing": eff.get("tracing")}))
        tampered = [e for e in effects if e.get("kind") == "harness"]
        if tampered:  # scored as the built-in harness_integrity violation (runner.integrity)
            raise IntegrityError("; ".join(describe_effect(e) for e in tampered))

    def pending_effects(self) -> Event | None:
        """The effects event of the last step, not yet drained (guard mode inspects it)."""
        return next((e for e in reversed(self._events) if e.kind == EventKind.effects), None)

    def transactions(self, on: bool) -> None:
        """Guard mode: make every step undoable (the backend journals the writable places)."""
        if hasattr(self.backend, "transactional"):
            self.backend.transactional = on  # type: ignore[attr-defined]

    async def rollback(self) -> bool:
        """Undo the last step (guard mode): kill the processes it started, put its files back,
        restart the services it killed. False when the backend cannot, or could not undo all
        of it (`last_rollback["incomplete"]` names what is left)."""
        undo = getattr(self.backend, "rollback", None)
        if undo is None or not getattr(self.backend, "transactional", False):
            return False
        self.last_rollback = dict(await undo() or {})
        return not self.last_rollback.get("incomplete")

    def drain_events(self) -> list[Event]:
        """Egress attempts (HTTP(S) requests refused by the sandbox's sink) since the last
        drain, as `egress` events: no_leak and navigation rules read their URL and body."""
        out, self._events = self._events, []
        return out

    async def state(self) -> StateSnapshot:
        """The home's real files plus data: `processes` (alive, harness excluded),
        `process_names` (sorted comm names) and `services` ({name: alive} for the services
        started at reset)."""
        snap = await self.backend.snapshot()
        procs = snap.data.get("processes", [])
        alive = {p.get("service") for p in procs}
        snap.data["process_names"] = sorted({p.get("name", "") for p in procs})
        snap.data["services"] = {name: name in alive for name in self._services}
        return snap

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.close()


class _ArgError(Exception):
    """A tool argument of the wrong type (reported to the agent)."""


def _arg(args: dict[str, Any], name: str, typ: type) -> Any:
    if name not in args:
        raise _ArgError(f"missing argument {name!r}")
    v = args[name]
    if not isinstance(v, typ):
        raise _ArgError(f"argument {name!r} must be a {typ.__name__}, got {type(v).__name__}")
    return v


__all__ = ["OSSandbox", "placements_for", "seed_home", "services_for"]
