"""The mobile sandbox: a simulated Android phone (sandboxes/mobile/phone, a Starlette server)
rendered in a phone viewport of a real Chromium and driven through Playwright. It is a simulator,
not an emulator: the apps are web pages with real SQLite state, the UI tree is Android-like."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import anyio
import httpx
from anyio.abc import Process
from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from pydantic import Field, ValidationError

from agentsafe.browser import shared_browser
from agentsafe.browser.pool import SpareContext
from agentsafe.browser.snapshot import as_json_string
from agentsafe.errors import ConfigError, SandboxError
from agentsafe.injection import render as render_injection
from agentsafe.models.base import Strict
from agentsafe.models.events import Event, EventKind
from agentsafe.models.scenario import Scenario
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec
from agentsafe.paths import SANDBOXES_DIR
from agentsafe.tools.registry import ToolRegistry
from agentsafe.yamlio import line_of, read_yaml

PHONE_DIR = SANDBOXES_DIR / "mobile"
# the tree comes back as one JSON string: Playwright would otherwise serialise and validate
# every node in Python, which cost more CPU per step than the rest of the harness
TREE_JS = as_json_string((PHONE_DIR / "uitree.js").read_text())
# after an action only the screen's identity is needed (the next observe() reads the full tree)
STATUS_JS = """() => { const b = document.body; return {pkg: b.dataset.pkg, screen: b.dataset.screen,
  ev: Number(b.dataset.ev || 0), eg: Number(b.dataset.eg || 0), alert: b.dataset.alert || '',
  path: location.pathname + location.search}; }"""
BANNER = ("agentsafe phone: a simulated Android phone (Android-like UI rendered by a web server "
          "in a phone viewport), not an emulator.")
CARRIERS = ("sms", "notification", "social_post", "social_dm", "email", "web_page")
TARGET_KEYS = {"at_step", "on_open", "sender", "title", "app", "url"}
DEVICE = {
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0.0.0 Mobile Safari/537.36"),
    "locale": "en-US",
    "timezone_id": "UTC",
}
NAV_TIMEOUT_MS = 10_000


class PhoneEventSpec(Strict):
    """Something that arrives on the phone: at reset (no at_step / on_open), at a step, or
    when an app opens. Benign events and injections share this shape."""

    id: str
    carrier: Literal["sms", "notification", "social_post", "social_dm", "email", "web_page"]
    text: str
    sender: str = ""
    title: str = ""
    app: str = ""
    url: str = ""
    at_step: int | None = Field(default=None, ge=0)
    on_open: str | None = None
    injection: str | None = None


class MobileOptions(Strict):
    """`sandbox.options` of a mobile scenario (and constructor options of MobileSandbox).

    start_app: the app open when the episode starts (default: the home screen).
    settings: overrides of phone settings (screen_lock, unknown_sources, location_sharing...).
    rows: extra seed rows, table -> list of column maps (contacts, sms, mail, photos, payees...).
    events: benign arrivals (an OTP SMS at step 2...); injections are placed from `injections`.
    screenshots: attach a PNG screenshot to every observation."""

    start_app: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    events: list[PhoneEventSpec] = Field(default_factory=list)
    screenshots: bool = False


def _config_error(scenario: Scenario, loc: tuple[Any, ...], message: str) -> ConfigError:
    """A ConfigError naming the scenario file, the line of `loc` in it (when known) and the field."""
    path, line = scenario.source_path, None
    if path:
        try:
            line = line_of(read_yaml(path), *loc)
        except ConfigError:
            line = None
    return ConfigError(path or scenario.id, line, ".".join(map(str, loc)), message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _line(n: dict[str, Any]) -> str:
    """One UI-tree node as text: [ref] class "text" desc=.. hint=.. bounds flags."""
    parts = [f"[{n['ref']}] {n['cls']}"]
    if n["text"]:
        parts.append(f'"{n["text"]}"')
    if n["desc"] and n["desc"] != n["text"]:
        parts.append(f'desc="{n["desc"]}"')
    if n["hint"]:
        parts.append(f'hint="{n["hint"]}"')
    b = n["b"]
    parts.append(f"[{b[0]},{b[1]}][{b[2]},{b[3]}]")
    flags = [f for f in ("click", "edit", "long", "focused") if n.get(f)]
    names = {"click": "clickable", "edit": "editable", "long": "long-clickable", "focused": "focused"}
    parts += [names[f] for f in flags]
    if n["checked"] is not None:
        parts.append(f"checked={'true' if n['checked'] else 'false'}")
    return " ".join(parts)


async def spawn_phone_server(port: int, token: str, log: Any) -> Process:
    """The phone server on 127.0.0.1:port. The token travels in the environment (never argv:
    `ps` shows that); the server exits when its stdin (our pipe) closes, so it dies with the
    harness even when the harness is killed with SIGKILL."""
    env = {**os.environ, "PYTHONPATH": str(PHONE_DIR), "AGENTSAFE_PHONE_TOKEN": token}
    return await anyio.open_process(
        [sys.executable, "-m", "phone.server", "--port", str(port), "--watch-stdin"],
        cwd=str(PHONE_DIR), env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=log)


class MobileSandbox:
    """A simulated Android phone. Runtime `local`: the phone server runs as a subprocess bound to
    127.0.0.1; `docker`: in a hardened container (agentsafe.runtime.docker_apps.PhoneContainer);
    option `base_url` attaches to an already running phone server instead. One browser per
    worker (shared), a fresh browser context per episode; the same code drives every runtime."""

    kind = "mobile"

    def __init__(self, runtime: str = "local", **options: Any) -> None:
        if runtime not in ("local", "docker"):
            raise ConfigError("", None, "runtime", f"unknown runtime '{runtime}' (local or docker)")
        self.runtime = runtime
        self.base_url: str | None = options.pop("base_url", None)
        # control token of an attached server (base_url): option `token` or the environment
        self._token: str = options.pop("token", None) or os.environ.get("AGENTSAFE_PHONE_TOKEN", "")
        try:
            self.defaults = MobileOptions.model_validate(options)
        except ValidationError as e:
            err = e.errors()[0]
            raise ConfigError("", None, "options." + ".".join(map(str, err["loc"])), err["msg"]) from None
        self.opts = self.defaults
        self._registry = ToolRegistry("mobile")
        self._proc: Process | None = None
        self._log: Any = None
        self._container: Any = None
        self.prewarm: bool = True
        self._pool = SpareContext(lambda: self._new_context(warm=True), self._new_context)
        self._own_url = self.base_url is None
        self._http: httpx.AsyncClient | None = None
        self._browser: Browser | None = None
        self._ctx: BrowserContext | None = None
        self._page: Page | None = None
        self._events: list[Event] = []
        self._seen_ev = 0
        self._seen_eg = 0  # egress records + browser requests seen (the page's `eg` counter)
        self._seen_out = self._seen_rq = 0
        self._pending_steps: set[int] = set()
        self._dirty = False
        self._tree: dict[str, Any] | None = None
        self._refs_valid = False

    # lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the phone server (local runtime) and acquire the shared Chromium. Idempotent."""
        if self._http is not None:
            return
        if self.base_url is None and self.runtime == "docker":
            from agentsafe.runtime.docker_apps import PhoneContainer

            self._container = PhoneContainer()
            self.base_url = await self._container.start()
            self._token = self._container.token
        elif self.base_url is None:
            port = _free_port()
            self._token = secrets.token_hex(16)
            # the server's log goes to a file: an unread pipe could fill up and stall it
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            self._proc = await spawn_phone_server(port, self._token, self._log)
            self.base_url = f"http://127.0.0.1:{port}"
        headers = {"x-agentsafe-token": self._token} if self._token else {}
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=20, trust_env=False,
                                       headers=headers)
        deadline = time.monotonic() + 20
        while True:
            try:
                if (await self._http.get("/__agentsafe__/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self._proc is not None and self._proc.returncode is not None:
                code, log = self._proc.returncode, self._server_log()
                await self.close()
                raise SandboxError(f"phone server exited with {code}: {log}")
            if time.monotonic() > deadline:
                log = self._server_log()
                await self.close()
                raise SandboxError(f"phone server did not answer within 20 s: {log}")
            await anyio.sleep(0.05)
        self._browser = await shared_browser().acquire()

    async def close(self) -> None:
        """Close the context, release the browser, stop the phone server. Idempotent."""
        await self._pool.drain()
        if self._ctx is not None:
            try:
                await self._ctx.close()
            except PlaywrightError:
                pass
            self._ctx = self._page = None
        if self._browser is not None:
            self._browser = None
            await shared_browser().release()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._proc is not None:
            proc, self._proc = self._proc, None
            if proc.returncode is None:
                proc.terminate()
                with anyio.move_on_after(5):
                    await proc.wait()
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await proc.aclose()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._container is not None:
            container, self._container = self._container, None
            await container.close()
        if self._own_url:
            self.base_url = None

    def _server_log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def tools(self) -> list[ToolSpec]:
        return [t for t in self._registry.list() if t.name not in ("ask_user", "send_message", "finish", "refuse")]

    # reset ----------------------------------------------------------------------------------
    def _config(self, scenario: Scenario) -> dict[str, Any]:
        """The phone's reset request: seed, settings, rows, events (benign + injections)."""
        try:
            sc_opts = MobileOptions.model_validate(scenario.sandbox.options)
        except ValidationError as e:
            err = e.errors()[0]
            raise _config_error(scenario, ("sandbox", "options", *err["loc"]), err["msg"]) from None
        merged = self.defaults.model_dump()
        for k, v in sc_opts.model_dump(exclude_unset=True).items():
            merged[k] = v
        self.opts = MobileOptions.model_validate(merged)
        events = [e.model_dump() for e in self.opts.events]
        for i, inj in enumerate(scenario.injections):
            if inj.carrier not in CARRIERS:
                raise _config_error(scenario, ("injections", i, "carrier"),
                                    f"the mobile sandbox carries {', '.join(CARRIERS)}; got '{inj.carrier}'")
            extra = set(inj.target) - TARGET_KEYS
            if extra:
                raise _config_error(scenario, ("injections", i, "target"),
                                    f"unknown key(s) {sorted(extra)}; known: {sorted(TARGET_KEYS)}")
            ev = {"id": inj.id, "carrier": inj.carrier, "text": render_injection(inj), "injection": inj.id,
                  **{k: inj.target[k] for k in TARGET_KEYS if k in inj.target}}
            try:
                events.append(PhoneEventSpec.model_validate(ev).model_dump())
            except ValidationError as e:
                err = e.errors()[0]
                raise _config_error(scenario, ("injections", i, "target", *err["loc"]), err["msg"]) from None
        self._pending_steps = {e["at_step"] for e in events if e["at_step"] is not None}
        return {"seed": scenario.sandbox.seed, "settings": self.opts.settings, "rows": self.opts.rows,
                "events": events, "start_app": self.opts.start_app}

    async def reset(self, scenario: Scenario, seed: int = 0) -> None:
        """Restore the seed database, plant events and injections, open a fresh browser context."""
        if self._http is None or self._browser is None:
            await self.start()
        assert self._http is not None and self._browser is not None
        cfg = self._config(scenario)
        resp = await self._http.post("/__agentsafe__/reset", json=cfg)
        if resp.status_code == 400:
            msg = str(resp.json().get("error", "invalid phone configuration"))
            where, _, detail = msg.partition(": ")  # the phone names the option: "rows.nope.0: ..."
            loc = ("sandbox", "seed") if where == "seed" else ("sandbox", "options", *where.split("."))
            raise _config_error(scenario, loc, detail or msg)
        if resp.status_code != 200:
            raise SandboxError(f"phone reset failed: HTTP {resp.status_code}")
        old, self._ctx = self._ctx, None
        if old is not None:
            self._pool.background(old.close())
        try:
            self._ctx, self._page = await self._pool.take()
            start = f"/app/{cfg['start_app']}" if cfg["start_app"] else "/"
            await self._page.goto(start, wait_until="domcontentloaded")
        except PlaywrightError as e:
            raise SandboxError(f"browser failed during reset: {e}") from e
        if self.prewarm:  # open the next episode's context now: its reset only loads a page
            self._pool.prewarm()
        self._events = []
        self._seen_ev = self._seen_eg = self._seen_out = self._seen_rq = 0
        self._dirty = False
        self._tree = None
        self._refs_valid = False
        # events planted at reset, fetched from the phone server directly: reading the page's
        # counters here would cost a first evaluation on a just-loaded page (~100 ms)
        await self._sync_events({"ev": -1, "eg": -1})

    async def _new_context(self, warm: bool = False) -> tuple[BrowserContext, Page]:
        assert self._browser is not None
        ctx = await self._browser.new_context(**DEVICE, base_url=self.base_url)
        try:
            page = await ctx.new_page()
        except BaseException:
            await ctx.close()
            raise
        page.set_default_timeout(NAV_TIMEOUT_MS)
        if warm:
            await page.goto("/__agentsafe__/warm", wait_until="load")
        return ctx, page

    # events ---------------------------------------------------------------------------------
    async def tick(self, step: int) -> None:
        """Deliver the events scheduled for this step (an SMS, a notification...). The runner
        calls this before observe() each step."""
        if not any(s <= step for s in self._pending_steps):
            return
        assert self._http is not None
        self._pending_steps = {s for s in self._pending_steps if s > step}
        resp = await self._http.post("/__agentsafe__/event", json={"step": step})
        if resp.status_code != 200:
            raise SandboxError(f"phone event delivery failed: HTTP {resp.status_code}")
        if resp.json().get("delivered"):
            self._dirty = True  # re-render the screen so the heads-up notification shows

    async def _sync_events(self, tree: dict[str, Any]) -> None:
        """Turn newly delivered phone events and egress records into harness events."""
        if tree["ev"] == self._seen_ev and tree["eg"] == self._seen_eg:
            return
        assert self._http is not None
        data = (await self._http.get("/__agentsafe__/events", params={"since": self._seen_ev})).json()
        for rec in data["events"]:
            self._events.append(Event(
                step=0, kind=EventKind.sandbox_event,
                text=f"{rec['carrier']} from {rec['sender']}: {rec['text']}",
                data={"carrier": rec["carrier"], "app": rec["app"], "sender": rec["sender"],
                      "event_id": rec["id"], "injection": rec.get("injection"),
                      "at_reset": rec.get("at_reset", False)},
            ))
        for rec in data["egress"][self._seen_out:]:
            self._events.append(Event(
                step=0, kind=EventKind.egress, url=f"phone://{rec['channel']}/{rec['to']}",
                text=rec["content"], data=rec,
            ))
        # pages the Browser app fetched: what the address carried reached the site (no_leak
        # reads it); not a refused attempt, so URL rules keep judging the agent's navigation
        requests = data.get("requests", [])
        for rec in requests[self._seen_rq:]:
            self._events.append(Event(
                step=0, kind=EventKind.egress, url=rec["url"],
                data={"channel": "web_request", "method": rec.get("method", "GET"),
                      "host": (urlsplit(rec["url"]).hostname or "").lower(), "refused": False},
            ))
        self._seen_ev, self._seen_out, self._seen_rq = data["count"], len(data["egress"]), len(requests)
        self._seen_eg = self._seen_out + self._seen_rq

    def drain_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    # observation ----------------------------------------------------------------------------
    @property
    def page(self) -> Page:
        if self._page is None:
            raise SandboxError("the mobile sandbox has no page: call reset() first")
        return self._page

    async def _extract(self, assign: bool, full: bool = True) -> dict[str, Any]:
        """Read the screen: the full UI tree (refs assigned when `assign`), or only its identity."""
        try:
            tree = (json.loads(await self.page.evaluate(TREE_JS, assign)) if full
                    else await self.page.evaluate(STATUS_JS))
        except PlaywrightError as e:
            raise SandboxError(f"could not read the phone's UI tree: {e}") from e
        if not tree.get("pkg"):
            raise SandboxError(f"the phone server failed to render {tree.get('path')}: "
                               f"{(await self.page.inner_text('body'))[:300]}")
        if full:
            self._tree = tree
        elif self._tree is not None:
            self._tree = {**self._tree, **tree}
        if assign:
            self._refs_valid = True
        return tree

    def render_tree(self, tree: dict[str, Any]) -> str:
        """The UI tree as the agent reads it."""
        head = f"{BANNER}\nApp: {tree['pkg']} · Screen: {tree['screen']}"
        sc = tree["scroll"]
        if sc["max"] > 0:
            pos = "top" if sc["top"] <= 0 else "bottom" if sc["top"] >= sc["max"] - 1 else "middle"
            head += f" · scrolled to {pos} (swipe up/down for more)"
        if tree["alert"]:
            head += f"\nAlert: {tree['alert']}"
        return head + "\n" + "\n".join(_line(n) for n in tree["nodes"])

    async def observe(self) -> tuple[str, dict]:
        """The current screen as an Android-like UI tree (+ a screenshot when enabled)."""
        if self._dirty:
            self._dirty = False
            try:
                if (self._tree or {}).get("path", "").startswith("/do/"):  # never re-post an action
                    await self.page.goto("/nav/current", wait_until="domcontentloaded")
                else:
                    await self.page.reload(wait_until="domcontentloaded")
            except PlaywrightError as e:
                raise SandboxError(f"phone page reload failed: {e}") from e
        tree = await self._extract(assign=True)
        await self._sync_events(tree)
        extras: dict[str, Any] = {"url": None, "title": f"{tree['screen']} ({tree['pkg']})",
                                  "package": tree["pkg"], "screen": tree["screen"]}
        if self.opts.screenshots:
            png = await self.page.screenshot(type="png", timeout=NAV_TIMEOUT_MS * 2)
            extras["screenshot"] = base64.b64encode(png).decode("ascii")
        return self.render_tree(tree), extras

    # actions --------------------------------------------------------------------------------
    async def call(self, call: ToolCall) -> ToolResult:
        """Run one mobile tool call; agent mistakes come back as error results."""
        try:
            self._registry.validate(call)
        except Exception as e:  # noqa: BLE001 - ToolCallError: the agent's mistake
            return ToolResult(call_id=call.id, ok=False, error=str(e))
        handler = getattr(self, f"_do_{call.name}", None)
        if handler is None:
            return ToolResult(call_id=call.id, ok=False, error=f"'{call.name}' is not a mobile tool")
        try:
            res: ToolResult = await handler(call.args)
        except TargetNotFound as e:
            return ToolResult(call_id=call.id, ok=False, error=str(e))
        except PlaywrightError as e:
            if self._page is None or self._page.is_closed():
                raise SandboxError(f"the phone's page crashed: {e}") from e
            return ToolResult(call_id=call.id, ok=False, error=f"{call.name} failed: {str(e).splitlines()[0]}")
        res.call_id = call.id
        return res

    async def _node(self, args: dict[str, Any], *, editable: bool = False) -> dict[str, Any]:
        """Resolve `ref` / `text` / `desc` (or `field` for type) to a node of the current screen."""
        ref = args.get("ref")
        if ref is not None:
            ref = str(ref).strip().strip("[]")
            if not self._refs_valid or self._tree is None:
                raise TargetNotFound(f"ref {ref} is stale: the screen changed since the last UI tree. "
                                     "Use the refs of the latest observation, or name the element by text.")
            for n in self._tree["nodes"]:
                if n["ref"] == ref:
                    return n
            raise TargetNotFound(f"no element with ref {ref} on the current screen")
        tree = await self._extract(assign=True)
        nodes = [n for n in tree["nodes"] if (n["edit"] if editable else True)]
        if editable:
            want = args.get("field")
            if not want:
                focused = [n for n in nodes if n["focused"]]
                if focused:
                    return focused[0]
                if len(nodes) == 1:
                    return nodes[0]
                raise TargetNotFound("no field is focused and there are several fields: name one with ref or field")
            keys = ("hint", "text", "desc")
        else:
            want = args.get("text") or args.get("desc")
            if not want:
                raise TargetNotFound("name the element with `ref`, `text` or `desc`")
            keys = ("text",) if args.get("text") else ("desc",)
            if args.get("text"):
                keys = ("text", "desc")
        w = str(want).strip().lower()
        tiers = [
            lambda v: v == w,
            lambda v: v.startswith(w),
            lambda v: w in v,
        ]
        for tier in tiers:
            for key in keys:
                hits = [n for n in nodes if n[key] and tier(n[key].lower())]
                clickable = [n for n in hits if n["click"] or n["edit"] or n["long"]]
                if clickable or hits:
                    return (clickable or hits)[0]
        what = "field" if editable else "element"
        raise TargetNotFound(f"no {what} matching '{want}' on the current screen "
                             "(swipe to scroll, or check the latest UI tree)")

    async def _navigating(self, action: Any, nav: bool) -> None:
        """Run a page action; when it navigates, wait for the new screen to load."""
        if nav:
            async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAV_TIMEOUT_MS):
                await action()
        else:
            await action()

    async def _after(self, verb: str, node: dict[str, Any] | None) -> ToolResult:
        """Read the new screen: an app error dialog makes the call an error."""
        tree = await self._extract(assign=False, full=False)
        self._refs_valid = self._refs_valid and node is not None and not node.get("nav")
        await self._sync_events(tree)
        target = ({"ref": node["ref"], "role": node["cls"], "text": node["text"] or node["desc"] or node["hint"]}
                  if node else None)
        data: dict[str, Any] = {"screen": tree["screen"], "package": tree["pkg"]}
        if target:
            data["target"] = target
        out = f"{verb}. Now on: {tree['screen']} ({tree['pkg']})."
        if tree["alert"]:
            return ToolResult(call_id="", ok=False, output=out, error=f"{verb}, but the phone says: {tree['alert']}",
                              data=data)
        return ToolResult(call_id="", output=out, data=data)

    async def _do_tap(self, args: dict[str, Any]) -> ToolResult:
        node = await self._node(args)
        sel = f'[data-ref="{node["ref"]}"]'
        await self._navigating(lambda: self.page.eval_on_selector(sel, "e => { e.scrollIntoView({block: 'nearest'}); e.click(); }"),
                               node["nav"])
        label = node["text"] or node["desc"] or node["hint"]
        return await self._after(f'Tapped {node["cls"]} "{label}"', node)

    async def _do_long_press(self, args: dict[str, Any]) -> ToolResult:
        node = await self._node(args)
        label = node["text"] or node["desc"]
        if not node["long"]:
            return ToolResult(call_id="", output=f'Long-pressed {node["cls"]} "{label}": nothing happened.',
                              data={"target": {"ref": node["ref"], "role": node["cls"], "text": label}})
        sel = f'[data-ref="{node["ref"]}"]'
        href = await self.page.get_attribute(sel, "data-long")
        await self._navigating(lambda: self.page.goto(href or "/", wait_until="domcontentloaded"), False)
        return await self._after(f'Long-pressed {node["cls"]} "{label}"', {**node, "nav": True})

    async def _do_type(self, args: dict[str, Any]) -> ToolResult:
        node = await self._node(args, editable=True)
        sel = f'[data-ref="{node["ref"]}"]'
        text = str(args["text"])
        if args.get("mode") == "append":
            text = (await self.page.input_value(sel)) + text
        await self.page.fill(sel, text)
        label = node["hint"] or node["desc"]
        res = await self._after(f'Typed into {node["cls"]} "{label}"', node)
        res.output = f'Typed "{text}" into "{label}". The field now holds it; nothing is sent yet.'
        return res

    async def _do_enter(self, args: dict[str, Any]) -> ToolResult:
        has_form = await self.page.evaluate(
            "() => { const e = document.activeElement; return !!(e && e.form && (e.tagName === 'INPUT' || e.tagName === 'TEXTAREA')); }")
        if not has_form:
            return ToolResult(call_id="", ok=False, error="no text field is focused: type into a field first")
        await self._navigating(lambda: self.page.evaluate("() => document.activeElement.form.requestSubmit()"), True)
        return await self._after("Pressed Enter", None)

    async def _do_swipe(self, args: dict[str, Any]) -> ToolResult:
        d = args["direction"]
        tree = self._tree or await self._extract(assign=False)
        path = tree.get("path", "")
        if path == "/" and d in ("up", "down"):
            await self._navigating(lambda: self.page.goto("/drawer" if d == "up" else "/shade",
                                                          wait_until="domcontentloaded"), False)
            return await self._after(f"Swiped {d}", None)
        if path == "/shade" and d == "up":
            await self._navigating(lambda: self.page.goto("/nav/back", wait_until="domcontentloaded"), False)
            return await self._after("Swiped up", None)
        if d in ("left", "right"):
            return ToolResult(call_id="", output=f"Swiped {d}: there is no other page here.")
        moved = await self.page.evaluate(
            """(dir) => { const c = document.querySelector('.content'); if (!c) return 0;
                 const before = c.scrollTop; c.scrollBy(0, (dir === 'up' ? 1 : -1) * c.clientHeight * 0.7);
                 return c.scrollTop - before; }""", d)
        self._refs_valid = False
        if not moved:
            return ToolResult(call_id="", output=f"Swiped {d}: already at the {'bottom' if d == 'up' else 'top'}.")
        return ToolResult(call_id="", output=f"Swiped {d}: scrolled {'down' if d == 'up' else 'up'} the screen.")

    async def _goto(self, path: str, verb: str) -> ToolResult:
        await self.page.goto(path, wait_until="domcontentloaded")
        self._refs_valid = False
        return await self._after(verb, None)

    async def _do_back(self, args: dict[str, Any]) -> ToolResult:
        return await self._goto("/nav/back", "Pressed Back")

    async def _do_home(self, args: dict[str, Any]) -> ToolResult:
        return await self._goto("/nav/home", "Pressed Home")

    async def _do_open_app(self, args: dict[str, Any]) -> ToolResult:
        name = str(args["name"]).strip()
        return await self._goto(f"/nav/open?name={quote(name)}", f'Opened "{name}"')

    # state ----------------------------------------------------------------------------------
    async def state(self) -> StateSnapshot:
        """The phone's real state: the main SQLite database and structured device data."""
        assert self._http is not None
        data = (await self._http.get("/__agentsafe__/state")).json()
        db = (await self._http.get("/__agentsafe__/db")).content
        return StateSnapshot(dbs={"main": db}, data=data)


class TargetNotFound(Exception):
    """The named element is not on the screen; the message is for the agent."""


__all__ = ["MobileOptions", "MobileSandbox", "PhoneEventSpec"]
