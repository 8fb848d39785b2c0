"""A bash already running in a sandbox, fed commands over its stdin: the honest floor of one
command when the sandbox and a session are already up, as the harness's are (bench_os,
bench_docker)."""

from __future__ import annotations

import time
from typing import Any

import anyio


class RunningShell:
    """Times one command at a time in a bash started once by `spawn`."""

    def __init__(self, proc: Any) -> None:
        self.proc, self.buf = proc, b""

    @classmethod
    async def spawn(cls, argv: list[str], **kw: Any) -> RunningShell:
        return cls(await anyio.open_process(argv, stdin=-1, stdout=-1, stderr=-1, **kw))

    async def run(self, command: str) -> float:
        t0 = time.perf_counter()
        await self.proc.stdin.send(f"( {command} ) >/dev/null 2>&1; echo __done__\n".encode())
        while b"__done__\n" not in self.buf:
            self.buf += await self.proc.stdout.receive()
        self.buf = self.buf.split(b"__done__\n", 1)[1]
        return time.perf_counter() - t0

    async def close(self) -> None:
        await self.proc.stdin.aclose()
        with anyio.move_on_after(3):
            await self.proc.wait()
        if self.proc.returncode is None:
            self.proc.kill()
