"""`agentsafe serve SCENARIO`: one episode of a scenario exposed over MCP (official `mcp` SDK),
on stdio or on streamable HTTP (127.0.0.1 only, bearer token). Any MCP client acts in the
sandbox; every call goes through the EpisodeSession (validation, guard, user simulator, policy
engine, event log); `finish`/`refuse` end the episode and the result is saved to the store."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Literal, Self

import anyio
import mcp.types as mt
import uvicorn
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.stdio import stdio_server
from pydantic import AnyHttpUrl

from agentsafe.agents.render import observation_text, result_text, system_prompt
from agentsafe.agents.schemas import mcp_tools
from agentsafe.errors import AgentsafeError, ConfigError, SandboxError
from agentsafe.models.events import Observation
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.models.tools import ToolCall

log = logging.getLogger("agentsafe.mcp")

TOKEN_ENV = "AGENTSAFE_MCP_TOKEN"
Transport = Literal["stdio", "http"]
TASK_PROMPT = "agentsafe_task"


def load_scenario(ref: str, scenario_id: str | None = None,
                  search: list[Path] | None = None) -> tuple[Scenario, Path | None]:
    """A scenario from a YAML path (with `scenario_id` to pick one of several) or from its id
    among the suites under `search` (default scenarios/)."""
    from agentsafe.scenarios import load_file, load_scenarios

    path = Path(ref)
    if path.is_file():
        found = load_file(path)
        if scenario_id:
            found = [s for s in found if s.id == scenario_id]
        if len(found) != 1:
            ids = ", ".join(s.id for s in load_file(path))
            raise ConfigError(str(path), None, "id",
                              f"pick one scenario with --id (file holds: {ids})" if not scenario_id
                              else f"no scenario '{scenario_id}' here (file holds: {ids})")
        return found[0], path
    suites = load_scenarios(search) if search else load_scenarios()
    matches = [s for s in suites if s.id == (scenario_id or ref)]
    if not matches:
        raise AgentsafeError(f"no scenario file or scenario id '{ref}'")
    return matches[0], Path(matches[0].source_path) if matches[0].source_path else None


class EpisodeHost:
    """One episode behind an MCP server: owns the sandbox, the EpisodeSession and the store
    record. One MCP tool call is one step; calls are serialised."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        source: Path | None = None,
        db: str | Path | None = None,
        runtime: str = "local",
        mode: Literal["observe", "guard"] = "observe",
        run_id: str | None = None,
        trial: int = 0,
        sandbox_options: dict[str, Any] | None = None,
    ) -> None:
        from agentsafe.paths import RESULTS_DB

        self.scenario, self.source, self.runtime, self.mode = scenario, source, runtime, mode
        self.db = Path(db) if db else RESULTS_DB
        self.run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-mcp-{secrets.token_hex(2)}"
        self.trial = trial
        self.sandbox_options = sandbox_options or {}
        self.agent_name = "mcp"
        self.result: EpisodeResult | None = None
        self.done = anyio.Event()
        self.last_activity = time.monotonic()
        self._lock = anyio.Lock()
        self._stack = AsyncExitStack()
        self._obs: Observation | None = None

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stack.aclose()
            raise
        return self

    async def _open(self) -> None:
        from agentsafe.policy.library import load_library, resolve
        from agentsafe.runner.session import EpisodeSession
        from agentsafe.sandbox.factory import make_sandbox
        from agentsafe.store import RunPlan, Store

        policies = resolve(self.scenario, load_library())
        self.store = Store(self.db)
        self._stack.callback(self.store.close)
        self.sandbox = make_sandbox(self.scenario.sandbox.kind, self.runtime, **self.sandbox_options)
        self._stack.push_async_callback(self.sandbox.close)
        self.session = EpisodeSession(self.scenario, self.sandbox, policies, run_id=self.run_id,
                                      agent_name=self.agent_name, mode=self.mode,
                                      runtime=self.runtime, trial=self.trial, seed=self.trial)
        await self.session.start()
        if self.store.plan(self.run_id) is None:  # an existing run id collects more episodes
            self.store.create_run(RunPlan(
                run_id=self.run_id, agent=self.agent_name,
                scenario_paths=[str(self.source)] if self.source else [],
                scenario_ids=[self.scenario.id], runtime=self.runtime, mode=self.mode,
                max_episodes=1, settings={"transport": "mcp"},
            ))
        self._obs = await self.session.observation()

    async def __aexit__(self, *exc: object) -> None:
        with anyio.CancelScope(shield=True):
            if self.result is None:
                try:
                    await self._end(EpisodeStatus.agent_error,
                                    "the MCP client disconnected before calling finish or refuse")
                except Exception as e:  # noqa: BLE001 - still close the sandbox and the store
                    log.error("could not store the unfinished episode: %s", e)
            await self._stack.aclose()

    @property
    def tools(self) -> list[mt.Tool]:
        """The MCP tool list: the sandbox's tools plus the common ones, from the ToolSpecs."""
        return mcp_tools(self.session.brief.tools)

    def instructions(self) -> str:
        """What the client's model must know: the task, the policies, the first view."""
        assert self._obs is not None
        return system_prompt(self.session.brief) + "\n" + observation_text(self._obs)

    async def call(self, name: str, arguments: dict[str, Any] | None,
                   client: str | None = None) -> mt.CallToolResult:
        """Run one tool call as one step and return its result plus the sandbox's next view."""
        async with self._lock:
            self.last_activity = time.monotonic()
            if client and self.agent_name == "mcp":
                self.agent_name = self.session.agent_name = f"mcp:{client}"
            if self.result is not None:
                return _text_result("Error: the episode has already ended.", error=True)
            call = ToolCall(name=name, args=dict(arguments or {}))
            try:
                res = await self.session.execute(call)
            except (SandboxError, TimeoutError) as e:
                await self._end(EpisodeStatus.infra_error, f"{type(e).__name__}: {e}")
                return _text_result(f"Error: the sandbox failed ({e}); the episode ended.", error=True)
            text = result_text(res)
            content: list[mt.ContentBlock] = []
            if self.session.done:
                await self._end(None, None)
                text += "\n\nThe episode has ended; its result is stored."
            elif self.session.step >= self.scenario.max_steps:
                await self._end(EpisodeStatus.max_steps, None)
                text += f"\n\nThe step limit ({self.scenario.max_steps}) is reached; the episode ended."
            else:
                self._obs = obs = await self.session.observation()
                text += "\n\n" + observation_text(obs)
                if obs.screenshot:
                    content.append(mt.ImageContent(type="image", data=obs.screenshot,
                                                   mime_type="image/png"))
            content.insert(0, mt.TextContent(type="text", text=text))
            return mt.CallToolResult(content=content, is_error=not res.ok)

    async def _end(self, status: EpisodeStatus | None, error: str | None) -> None:
        from agentsafe.runner.session import infra_result

        try:
            self.result = await self.session.finish(status, error)
        except (SandboxError, TimeoutError, OSError) as e:
            self.result = infra_result(self.scenario, run_id=self.run_id, agent_name=self.agent_name,
                                       trial=self.trial, runtime=self.runtime,
                                       error=f"{type(e).__name__}: {e}",
                                       events=self.session.events)
        self.store.save_episode(self.result)
        self.store.mark_run(self.run_id, "finished")  # per episode: the run may grow later
        self.done.set()
        log.info("episode %s ended: %s", self.scenario.id, self.result.status)


def _text_result(text: str, error: bool = False) -> mt.CallToolResult:
    return mt.CallToolResult(content=[mt.TextContent(type="text", text=text)], is_error=error)


def build_server(host: EpisodeHost) -> Server[Any]:
    """The low-level MCP server: tools/list from the ToolSpecs, tools/call into the session,
    and a prompt carrying the task for clients that do not show server instructions."""

    async def list_tools(ctx: ServerRequestContext[Any], params: Any) -> mt.ListToolsResult:
        return mt.ListToolsResult(tools=host.tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: mt.CallToolRequestParams) -> mt.CallToolResult:
        client = None
        try:
            info = ctx.session.client_params.client_info if ctx.session.client_params else None
            client = info.name if info else None
        except Exception:  # noqa: BLE001 - the client name is cosmetic
            client = None
        return await host.call(params.name, params.arguments, client)

    async def list_prompts(ctx: ServerRequestContext[Any], params: Any) -> mt.ListPromptsResult:
        return mt.ListPromptsResult(prompts=[mt.Prompt(
            name=TASK_PROMPT, description=f"The task of scenario {host.scenario.id}")])

    async def get_prompt(ctx: ServerRequestContext[Any], params: mt.GetPromptRequestParams) -> mt.GetPromptResult:
        return mt.GetPromptResult(description=host.scenario.title, messages=[mt.PromptMessage(
            role="user", content=mt.TextContent(type="text", text=host.instructions()))])

    return Server(
        "agentsafe", version="0.1.0", instructions=host.instructions(),
        on_list_tools=list_tools, on_call_tool=call_tool,
        on_list_prompts=list_prompts, on_get_prompt=get_prompt,
    )


class BearerToken:
    """A TokenVerifier accepting exactly one static token (constant-time comparison)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def __repr__(self) -> str:
        return "BearerToken(***)"

    async def verify_token(self, token: str) -> AccessToken | None:
        """An access token (with the secret masked) when `token` matches, else None (401)."""
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="***", client_id="agentsafe-client", scopes=[])
        return None


async def serve_stdio(host: EpisodeHost) -> None:
    """Serve on this process's stdin/stdout until the client closes the pipe."""
    server = build_server(host)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def bind_local(port: int = 0) -> tuple[socket.socket, str]:
    """A TCP socket bound to 127.0.0.1 (never another interface) and its MCP endpoint URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"


def http_app(server: Server[Any], url: str, token: str) -> Any:
    """The streamable-HTTP ASGI app of `server` behind the SDK's bearer-auth middleware, with
    DNS-rebinding protection for 127.0.0.1."""
    return server.streamable_http_app(
        host="127.0.0.1",
        auth=AuthSettings(issuer_url=AnyHttpUrl(url.removesuffix("/mcp")), resource_server_url=None),
        token_verifier=BearerToken(token),
    )


async def serve_http(
    host: EpisodeHost,
    token: str,
    *,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    linger: float = 2.0,
    idle_timeout: float = 600.0,
) -> None:
    """Serve streamable HTTP at http://127.0.0.1:PORT/mcp behind `Authorization: Bearer TOKEN`.
    Stops by itself `linger` seconds after the episode ends, or after `idle_timeout` idle seconds."""
    sock, url = bind_local(port)
    uv = uvicorn.Server(uvicorn.Config(http_app(build_server(host), url, token),
                                       log_level="warning", lifespan="on"))

    async def stopper() -> None:
        while not uv.should_exit:
            with anyio.move_on_after(0.2):
                await host.done.wait()
            if host.done.is_set():
                await anyio.sleep(linger)
                break
            if time.monotonic() - host.last_activity > idle_timeout:
                log.warning("no MCP activity for %ss: stopping", idle_timeout)
                break
        uv.should_exit = True

    async with anyio.create_task_group() as tg:
        tg.start_soon(stopper)
        tg.start_soon(uv.serve, [sock])
        while not uv.started and not uv.should_exit:
            await anyio.sleep(0.02)
        if on_ready:
            on_ready(url)
    sock.close()


async def serve(
    scenario_ref: str,
    *,
    transport: Transport = "stdio",
    port: int = 0,
    token: str | None = None,
    scenario_id: str | None = None,
    db: str | Path | None = None,
    runtime: str = "local",
    mode: Literal["observe", "guard"] = "observe",
    run_id: str | None = None,
    trial: int = 0,
    linger: float = 2.0,
    idle_timeout: float = 600.0,
) -> EpisodeResult | None:
    """The body of `agentsafe serve`: one episode over MCP; returns its stored result.
    Status lines go to stderr (stdout belongs to the protocol on stdio)."""
    scenario, source = load_scenario(scenario_ref, scenario_id)
    host = EpisodeHost(scenario, source=source, db=db, runtime=runtime, mode=mode, run_id=run_id,
                       trial=trial)
    async with host:
        if transport == "stdio":
            await serve_stdio(host)
        elif transport == "http":
            token_arg = token
            given = token or os.environ.get(TOKEN_ENV)
            token = given or secrets.token_urlsafe(24)

            def ready(url: str) -> None:
                print(f"agentsafe MCP server for {scenario.id} at {url}", file=sys.stderr)
                if given is None:
                    print(f"bearer token: {token}", file=sys.stderr)
                else:
                    where = f"${TOKEN_ENV}" if token_arg is None else "the token argument"
                    print(f"bearer token: the one given in {where}", file=sys.stderr)
                sys.stderr.flush()

            await serve_http(host, token, port=port, on_ready=ready, linger=linger,
                             idle_timeout=idle_timeout)
        else:
            raise AgentsafeError(f"unknown transport '{transport}' (stdio or http)")
    res = host.result
    if res is not None:
        print(f"episode {scenario.id}: {res.status}, run {host.run_id}, "
              f"{len(res.violations)} violation(s), completed={res.completed} -> {host.db}",
              file=sys.stderr)
    return res


def main(argv: list[str] | None = None) -> int:
    """`python -m agentsafe.mcp_server SCENARIO [--transport stdio|http] [--port N] ...`."""
    import argparse

    p = argparse.ArgumentParser(prog="agentsafe serve", description=__doc__)
    p.add_argument("scenario")
    p.add_argument("--id", dest="scenario_id")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--db")
    p.add_argument("--runtime", default="local")
    p.add_argument("--mode", choices=["observe", "guard"], default="observe")
    p.add_argument("--run-id", help="store the episode in this run (created if new)")
    p.add_argument("--trial", type=int, default=0, help="trial number (also the seed)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        anyio.run(lambda: serve(a.scenario, transport=a.transport, port=a.port,
                                scenario_id=a.scenario_id, db=a.db, runtime=a.runtime,
                                mode=a.mode, run_id=a.run_id, trial=a.trial))
    except AgentsafeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
