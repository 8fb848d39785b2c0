"""Harness overhead of the LLM agents and the MCP server, against raw floors measured in the same run.

1. One agent turn (OpenAIAgent / AnthropicAgent.act: render, schemas, SDK call, parse, validate)
   against a local wire-protocol server, vs the floor: a raw HTTP POST of the identical request
   body to the same server with a plain httpx2 client.
2. One MCP tool call over streamable HTTP (client -> server -> EpisodeSession -> OS sandbox
   (bubblewrap) -> next observation), vs the floor: the same `session.execute` + `observation`
   called directly in-process; and vs that floor plus a no-op call to a bare MCP server with the
   same SDK app, auth and transport (what the protocol costs by itself). The EpisodeHost row
   isolates our own layer: the same call through `EpisodeHost.call` without any transport.

Run: .venv/bin/python benchmarks/bench_llm.py [--turns N] [--calls N]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import anyio
import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from llm_wire import anthropic_reply, openai_reply, serve_wire

from agentsafe import mcp_server
from agentsafe.agents.anthropic_agent import AnthropicAgent
from agentsafe.agents.openai_agent import OpenAIAgent
from agentsafe.agents.schemas import tools_for_kind
from agentsafe.models.events import EpisodeBrief, Observation
from agentsafe.models.tools import ToolCall

TARGET_AGENT = 2.0  # agent turn / raw POST
TARGET_MCP = 6.0  # MCP call / direct session call (includes the MCP protocol itself)
TARGET_HOST = 1.2  # our MCP layer without transport / direct session call
TARGET_OVER_FLOOR = 1.3  # MCP call / (direct session call + no-op MCP round trip): our own layer
SCENARIO = ROOT / "tests" / "data" / "os_minimal.yaml"


def obs() -> Observation:
    brief = EpisodeBrief(scenario_id="bench", instruction="Summarise the notes.",
                         policies=["[organization] No network.", "[user] Do not delete files."],
                         tools=tools_for_kind("os"), max_steps=30)
    return Observation(step=1, brief=brief, text="$ ls\n" + "\n".join(f"file_{i}.txt" for i in range(40)))


async def agent_turns(provider: str, n: int) -> tuple[float, float]:
    """Median seconds of an agent turn and of a raw POST of the same body."""
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-bench")
    reply = (openai_reply([("list_dir", "{}")]) if provider == "openai"
             else anthropic_reply([("list_dir", {})]))
    with serve_wire([reply] * (2 * n + 5)) as srv:
        agent = (OpenAIAgent("gpt-4o-mini", base_url=srv.url + "/v1") if provider == "openai"
                 else AnthropicAgent("claude-bench", base_url=srv.url))
        path = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
        o = obs()
        await agent.act(o, [])  # warm up the connection and imports
        body = srv.requests[-1]
        agent_t: list[float] = []
        for _ in range(n):
            await agent.reset()
            t = time.perf_counter()
            await agent.act(o, [])
            agent_t.append(time.perf_counter() - t)
        await agent.aclose()
        raw_t: list[float] = []
        async with httpx2.AsyncClient(base_url=srv.url) as hc:
            await hc.post(path, json=body)
            for _ in range(n):
                t = time.perf_counter()
                r = await hc.post(path, json=body)
                r.json()
                raw_t.append(time.perf_counter() - t)
    return statistics.median(agent_t), statistics.median(raw_t)


async def mcp_calls(n: int, db: Path) -> tuple[float, float, float, float]:
    """Median seconds of an MCP `shell` call over HTTP, of the direct session call, of a no-op
    call to a bare MCP server, and of EpisodeHost.call with no transport. All four are timed
    round-robin in one loop (every server and client open at once), so each sees the same
    machine load: on a busy machine, timing them one block after another makes the ratios noise."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    scenario, source = mcp_server.load_scenario(str(SCENARIO))
    scenario = scenario.model_copy(update={"max_steps": 3 * n + 10})
    direct = mcp_server.EpisodeHost(scenario, source=source, db=db)
    host = mcp_server.EpisodeHost(scenario, source=source, db=db)
    token = "bench-token"
    urls: dict[str, str] = {}
    ready = anyio.Event()
    times: dict[str, list[float]] = {"mcp": [], "direct": [], "noop": [], "host": []}

    def on_ready(url: str) -> None:
        urls["mcp"] = url
        ready.set()

    async def run() -> None:
        async with host:
            await mcp_server.serve_http(host, token, on_ready=on_ready, linger=0.05)

    async def timed(key: str, i: int, fn) -> None:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        await fn()
        if i:
            times[key].append(time.perf_counter() - t)

    async def direct_step() -> None:
        await direct.session.execute(ToolCall(name="shell", args={"command": "true"}))
        await direct.session.observation()

    async with anyio.create_task_group() as tg, direct:
        tg.start_soon(run)
        noop_uv, noop_sock, noop_url = await start_noop_server(tg)
        await ready.wait()
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as hc,
            streamable_http_client(urls["mcp"], http_client=hc) as (r, w),
            ClientSession(r, w) as s,
            httpx2.AsyncClient(headers={"Authorization": "Bearer t"}) as nhc,
            streamable_http_client(noop_url, http_client=nhc) as (nr, nw),
            ClientSession(nr, nw) as ns,
        ):
            await s.initialize()
            await ns.initialize()
            for i in range(n + 1):
                steps = [("mcp", lambda: s.call_tool("shell", {"command": "true"})),
                         ("noop", lambda: ns.call_tool("noop", {})),
                         ("direct", direct_step),
                         ("host", lambda: direct.call("shell", {"command": "true"}))]
                for key, fn in (steps if i % 2 else steps[::-1]):
                    await timed(key, i, fn)
            await s.call_tool("finish", {"answer": "bench"})
        noop_uv.should_exit = True
    noop_sock.close()
    return (statistics.median(times["mcp"]), statistics.median(times["direct"]),
            statistics.median(times["noop"]), statistics.median(times["host"]))


async def start_noop_server(tg):  # type: ignore[no-untyped-def]
    """A bare MCP server (same SDK app, auth and transport) whose one tool does nothing: the
    protocol's own floor. Returns the uvicorn server, its socket and its URL."""
    import mcp.types as mt
    import uvicorn
    from mcp.server import Server

    async def call_tool(ctx, params):  # type: ignore[no-untyped-def]
        return mt.CallToolResult(content=[mt.TextContent(type="text", text="ok")])

    async def list_tools(ctx, params):  # type: ignore[no-untyped-def]
        return mt.ListToolsResult(tools=[mt.Tool(name="noop", description="Does nothing.",
                                                 input_schema={"type": "object", "properties": {}})])

    server = Server("noop", on_call_tool=call_tool, on_list_tools=list_tools)
    sock, url = mcp_server.bind_local()
    uv = uvicorn.Server(uvicorn.Config(mcp_server.http_app(server, url, "t"), log_level="warning"))
    tg.start_soon(uv.serve, [sock])
    while not uv.started:
        await anyio.sleep(0.01)
    return uv, sock, url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=30)
    ap.add_argument("--calls", type=int, default=30)
    a = ap.parse_args()
    import tempfile

    rows: list[tuple[str, float, float, float]] = []
    for provider in ("openai", "anthropic"):
        got, floor = anyio.run(agent_turns, provider, a.turns)
        rows.append((f"{provider} agent turn vs raw POST", got, floor, TARGET_AGENT))
    with tempfile.TemporaryDirectory() as d:
        got, direct, noop, hosted = anyio.run(mcp_calls, a.calls, Path(d) / "bench.sqlite")
    rows.append(("EpisodeHost.call (no transport) vs direct", hosted, direct, TARGET_HOST))
    rows.append(("MCP call vs direct session call", got, direct, TARGET_MCP))
    rows.append(("MCP call vs direct + no-op MCP call", got, direct + noop, TARGET_OVER_FLOOR))
    print(f"{'measure':42} {'value ms':>9} {'floor ms':>9} {'ratio':>6} {'target':>7}")
    for name, got, floor, target in rows:
        ratio = got / floor
        ok = "ok" if ratio <= target else "OVER"
        print(f"{name:42} {got * 1e3:9.2f} {floor * 1e3:9.2f} {ratio:6.2f} {'<=' + str(target):>7} {ok}")


if __name__ == "__main__":
    main()
