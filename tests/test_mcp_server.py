"""The MCP server end to end: a real MCP client (official `mcp` SDK) over stdio (spawning
`agentsafe serve`) and over streamable HTTP with a bearer token, acting in a real OS sandbox;
the policy engine watches and the result lands in the SQLite store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from agentsafe import mcp_server
from agentsafe.agents.schemas import tools_for_kind
from agentsafe.errors import AgentsafeError, ConfigError
from agentsafe.models.policy import VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.store import Store

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.bwrap,
    pytest.mark.usefixtures("bwrap_ready"),
]
ROOT = Path(__file__).parent.parent
SCENARIO = Path(__file__).parent / "data" / "os_minimal.yaml"
AGENTSAFE = str(Path(sys.executable).parent / "agentsafe")
TOKEN = "test-token-0123456789"


@asynccontextmanager
async def http_episode(db: Path, mode: str = "observe",
                       token: str = TOKEN) -> AsyncIterator[tuple[str, Callable[[], EpisodeResult | None]]]:
    """An EpisodeHost served over streamable HTTP in this process; yields (url, result getter)
    and waits at exit for the server to stop by itself."""
    scenario, source = mcp_server.load_scenario(str(SCENARIO))
    host = mcp_server.EpisodeHost(scenario, source=source, db=db, mode=mode)  # type: ignore[arg-type]
    ready = anyio.Event()
    box: dict[str, str] = {}

    def on_ready(url: str) -> None:
        box["url"] = url
        ready.set()

    async def run() -> None:
        async with host:
            await mcp_server.serve_http(host, token, on_ready=on_ready, linger=1.5, idle_timeout=30)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await ready.wait()
            yield box["url"], lambda: host.result


@asynccontextmanager
async def http_client(url: str, token: str = TOKEN) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as hc,
        streamable_http_client(url, http_client=hc) as (read, write),
        ClientSession(read, write) as session,
    ):
        yield session


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def test_http_client_completes_the_os_scenario_and_the_result_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    async with http_episode(db) as (url, result), http_client(url) as s:
        init = await s.initialize()
        assert "Create ~/greeting.txt" in (init.instructions or "")
        assert "[organization] Never run rm" in (init.instructions or "")
        tools = await s.list_tools()
        assert [t.name for t in tools.tools] == [t.name for t in tools_for_kind("os")]
        r1 = await s.call_tool("write_file", {"path": "greeting.txt", "content": "hello\n"})
        assert not r1.is_error and "Observation (step 2" in text_of(r1)
        r2 = await s.call_tool("read_file", {"path": "greeting.txt"})
        assert "hello" in text_of(r2)
        r3 = await s.call_tool("finish", {"answer": "Created greeting.txt."})
        assert "episode has ended" in text_of(r3)
        late = await s.call_tool("list_dir", {})
        assert late.is_error and "already ended" in text_of(late)
    res = result()
    assert res is not None and res.status == EpisodeStatus.finished and res.completed
    assert res.agent.startswith("mcp")
    stored = Store(db).episodes(res.run_id, with_events=True)
    assert len(stored) == 1 and stored[0].completed and stored[0].final_answer == "Created greeting.txt."
    v = next(v for v in stored[0].verdicts if v.policy_id == "test.no-rm")
    assert v.status == VerdictStatus.dormant
    assert [e.call.name for e in stored[0].events if e.kind == "call" and e.call] == [
        "write_file", "read_file", "finish"]


async def test_a_wrong_or_missing_token_is_rejected(tmp_path: Path) -> None:
    async with http_episode(tmp_path / "r.sqlite") as (url, result):
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient() as hc:
            none = await hc.post(url, json=init, headers=headers)
            wrong = await hc.post(url, json=init, headers={**headers, "Authorization": "Bearer nope"})
        assert none.status_code == 401 and wrong.status_code == 401
        with pytest.raises(Exception):  # noqa: B017 - the SDK surfaces the 401 as its own error
            with anyio.fail_after(10):
                async with http_client(url, token="wrong-token") as s:
                    await s.initialize()
        # the right token still works, and the episode can be ended
        async with http_client(url) as s:
            await s.initialize()
            await s.call_tool("refuse", {"reason": "test"})
    assert result() is not None and result().status == EpisodeStatus.refused  # type: ignore[union-attr]


async def test_guard_mode_blocks_the_call_and_tells_the_client_why(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    async with http_episode(db, mode="guard") as (url, result), http_client(url) as s:
        await s.initialize()
        blocked = await s.call_tool("shell", {"command": "rm -f ~/.bashrc"})
        assert blocked.is_error
        assert "Blocked by policy" in text_of(blocked) and "test.no-rm" in text_of(blocked)
        still = await s.call_tool("read_file", {"path": ".bashrc"})
        assert not still.is_error, "the blocked command must not have run"
        await s.call_tool("finish", {"answer": "stopped"})
    res = result()
    assert res is not None
    assert [e.kind for e in res.events if e.kind == "blocked"] == ["blocked"]
    assert not any(e.kind == "result" and e.call and e.call.name == "shell" for e in res.events)


async def test_bad_calls_become_tool_errors_and_the_episode_goes_on(tmp_path: Path) -> None:
    async with http_episode(tmp_path / "r.sqlite") as (url, result), http_client(url) as s:
        await s.initialize()
        unknown = await s.call_tool("teleport", {"to": "mars"})
        assert unknown.is_error and "unknown tool 'teleport'" in text_of(unknown)
        bad = await s.call_tool("write_file", {"path": "greeting.txt"})
        assert bad.is_error and "content" in text_of(bad)
        await s.call_tool("write_file", {"path": "greeting.txt", "content": "hello"})
        await s.call_tool("finish", {"answer": "ok"})
    res = result()
    assert res is not None and res.completed
    assert len([e for e in res.events if e.kind == "tool_error"]) == 2


async def test_a_client_that_leaves_without_finish_is_stored_as_agent_error(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    scenario, source = mcp_server.load_scenario(str(SCENARIO))
    host = mcp_server.EpisodeHost(scenario, source=source, db=db)
    async with host:
        await host.call("list_dir", {})
    assert host.result is not None and host.result.status == EpisodeStatus.agent_error
    assert "disconnected" in (host.result.error or "")
    assert Store(db).count(host.run_id) == 1


async def test_stdio_client_spawning_agentsafe_serve(tmp_path: Path) -> None:
    db = tmp_path / "stdio.sqlite"
    params = StdioServerParameters(command=AGENTSAFE, args=["serve", str(SCENARIO), "--db", str(db)],
                                   cwd=str(ROOT))
    errlog = (tmp_path / "server.err").open("w")
    with anyio.fail_after(60):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as s,
        ):
            init = await s.initialize()
            assert "greeting.txt" in (init.instructions or "")
            prompt = await s.get_prompt(mcp_server.TASK_PROMPT)
            assert "Never run rm" in prompt.messages[0].content.text  # type: ignore[union-attr]
            r = await s.call_tool("shell", {"command": "rm -f ~/.bashrc; echo hello > ~/greeting.txt"})
            assert not r.is_error
            await s.call_tool("finish", {"answer": "Done."})
    errlog.close()
    rows = sqlite3.connect(db).execute("SELECT status, result FROM episodes").fetchall()
    assert len(rows) == 1 and rows[0][0] == "finished"
    verdicts = {v["policy_id"]: v["status"] for v in json.loads(rows[0][1])["verdicts"]}
    assert verdicts["test.no-rm"] == "violated"
    assert "finished" in (tmp_path / "server.err").read_text()


def test_scenario_references_give_clear_errors(tmp_path: Path) -> None:
    sc, path = mcp_server.load_scenario(str(SCENARIO))
    assert sc.id == "test.os.minimal" and path == SCENARIO
    by_id, _ = mcp_server.load_scenario("test.os.minimal", search=[SCENARIO.parent])
    assert by_id.id == "test.os.minimal"
    with pytest.raises(AgentsafeError, match="no scenario file or scenario id 'no.such'"):
        mcp_server.load_scenario("no.such", search=[SCENARIO.parent])
    with pytest.raises(ConfigError, match="no scenario 'other'"):
        mcp_server.load_scenario(str(SCENARIO), "other")


async def test_agentsafe_serve_over_http_takes_the_token_from_env_and_stops_by_itself(
    tmp_path: Path,
) -> None:
    from anyio.streams.buffered import BufferedByteReceiveStream

    db = tmp_path / "http.sqlite"
    env = {**os.environ, mcp_server.TOKEN_ENV: "env-token-abcdef123456"}
    cmd = [AGENTSAFE, "serve", str(SCENARIO), "--transport", "http", "--db", str(db)]
    with anyio.fail_after(90):
        async with await anyio.open_process(cmd, stdout=subprocess.DEVNULL, env=env,
                                            cwd=str(ROOT)) as proc:
            assert proc.stderr is not None
            err = BufferedByteReceiveStream(proc.stderr)
            seen: list[str] = []
            url = ""
            while not url:
                line = (await err.receive_until(b"\n", 65536)).decode()
                seen.append(line)
                if " at http://127.0.0.1:" in line:
                    url = line.rsplit(" at ", 1)[1].strip()
            told = (await err.receive_until(b"\n", 65536)).decode()
            # it names where the token came from, and only options that exist
            assert "bearer token: the one given in $AGENTSAFE_MCP_TOKEN" in told and "--token" not in told
            async with http_client(url, token="env-token-abcdef123456") as s:
                await s.initialize()
                await s.call_tool("write_file", {"path": "greeting.txt", "content": "hello"})
                await s.call_tool("finish", {"answer": "done"})
            code = await proc.wait()  # the server stops by itself after the episode
            try:
                while True:
                    seen.append((await err.receive_until(b"\n", 65536)).decode())
            except (anyio.EndOfStream, anyio.IncompleteRead):
                pass
    assert code == 0, "".join(seen)
    assert not any("env-token-abcdef123456" in line for line in seen)
    rows = sqlite3.connect(db).execute("SELECT status, completed FROM episodes").fetchall()
    assert rows == [("finished", 1)]


async def test_episodes_served_with_the_same_run_id_collect_in_one_run(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    scenario, source = mcp_server.load_scenario(str(SCENARIO))
    for trial in (0, 1):
        host = mcp_server.EpisodeHost(scenario, source=source, db=db, run_id="mcp-suite", trial=trial)
        async with host:
            await host.call("write_file", {"path": "greeting.txt", "content": "hello"})
            await host.call("finish", {"answer": "ok"})
    store = Store(db)
    assert [(e.trial, e.completed) for e in store.episodes("mcp-suite")] == [(0, True), (1, True)]
    assert [r.id for r in store.runs()] == ["mcp-suite"]


async def test_an_infra_error_at_the_end_keeps_the_real_trial(tmp_path: Path, monkeypatch) -> None:
    from agentsafe.errors import SandboxError

    db = tmp_path / "r.sqlite"
    scenario, source = mcp_server.load_scenario(str(SCENARIO))
    host = mcp_server.EpisodeHost(scenario, source=source, db=db, run_id="mcp-t", trial=3)
    async with host:
        async def boom(*args: object, **kw: object) -> None:
            raise SandboxError("state read failed")

        monkeypatch.setattr(host.session, "finish", boom)
        await host.call("finish", {"answer": "ok"})
    assert host.result is not None and host.result.status == EpisodeStatus.infra_error
    assert host.result.trial == 3
    assert [e.trial for e in Store(db).episodes("mcp-t")] == [3]
