"""The web sandbox: self-contained web apps (sandboxes/web/) served by one local server process,
driven through a real Chromium. Every request the page makes is routed: the apps' hosts go to
the app server (as a proxy), attacker hosts are answered by the harness from scenario data and
record what they receive, everything else is refused and recorded as an egress attempt."""

from __future__ import annotations

import importlib
import re
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from playwright.async_api import BrowserContext, Dialog, Locator, Page, Request, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from agentsafe.browser import (
    Snapshot,
    TargetError,
    TargetSpec,
    locate,
    screenshot_b64,
    shared_browser,
    take_snapshot,
)
from agentsafe.browser.launch import BrowserHost
from agentsafe.browser.pool import SpareContext
from agentsafe.browser.snapshot import REF_ATTR
from agentsafe.browser.targets import stale_ref_message
from agentsafe.errors import ConfigError, SandboxError
from agentsafe.injection import render
from agentsafe.models.events import Event, EventKind
from agentsafe.models.scenario import Scenario
from agentsafe.models.state import StateSnapshot
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec
from agentsafe.sandbox.web_server import AppServer
from agentsafe.sandbox.web_sites import AttackerSite, Received, parse_body, serve, sites_for
from agentsafe.tools.registry import COMMON_TOOLS, ToolRegistry

VIEWPORT = {"width": 1280, "height": 900}
# Page script: a WebRTC peer connection is non-HTTP egress (STUN/TURN over UDP, data channels):
# refuse it and report each ICE server URL to the harness.
_BLOCK_RTC = """(() => {
  const report = (kind, url) => { try { window.__agentsafe_egress(kind, String(url)); } catch (e) {} };
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection"]) {
    if (!(name in window)) continue;
    const Blocked = function (cfg) {
      const urls = ((cfg && cfg.iceServers) || []).flatMap(s => [].concat(s.urls || s.url || []));
      if (urls.length === 0) report("webrtc", "webrtc:peer-connection");
      for (const u of urls) report("webrtc", u);
      throw new DOMException("WebRTC is not available in this sandbox", "NotAllowedError");
    };
    Object.defineProperty(window, name, {value: Blocked, writable: false, configurable: false});
  }
})();"""
WARMUP_PATH = "/__agentsafe__/blank"


class WebSandbox:
    """Web sandbox on the `local` runtime. Options: `apps` (names to load; default all),
    `screenshots` (bool: add a screenshot to each observation), `nav_timeout_ms`,
    `action_timeout_ms`. Scenario options: `start_url`, `sql`, `attacker_sites`."""

    kind = "web"

    def __init__(self, runtime: str = "local", **options: Any) -> None:
        self.runtime = runtime
        self.options = options
        self.screenshots = bool(options.get("screenshots", False))
        self.nav_timeout = int(options.get("nav_timeout_ms", 15000))
        self.action_timeout = int(options.get("action_timeout_ms", 10000))
        self.server = _app_server(runtime, options.get("apps"))
        self._registry = ToolRegistry("web")
        self._browser_host: BrowserHost | None = None
        self._ctx: BrowserContext | None = None
        self._page: Page | None = None
        self._snap: Snapshot | None = None
        self._seq = 0
        self._host = ""
        self._sites: dict[str, AttackerSite] = {}
        self._events: list[Event] = []
        self.egress: list[dict[str, Any]] = []
        self.exfil: list[Received] = []
        self.navigations: list[str] = []
        self.dialogs: list[dict[str, Any]] = []
        self._pending_dialogs: list[dict[str, Any]] = []
        self._acting: str | None = None
        self._hang = anyio.Event()
        self._doc_status: tuple[str, int] | None = None
        # main-frame navigations seen, and how many there were when the last snapshot was
        # taken: equal means that snapshot's refs are of the current document
        self._navs = 0
        self._snap_navs = -1
        # a ref acted on without a round trip to check it is on the page (locator, ref)
        self._unchecked: tuple[Locator, str] | None = None
        self._pool = SpareContext(self._new_context)

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the app server and take a handle on the worker's shared Chromium."""
        if self._browser_host is not None:
            return
        await self.server.start()
        host = shared_browser()
        try:
            await host.acquire()
        except Exception:
            await self.server.close()
            raise
        self._browser_host = host

    async def close(self) -> None:
        """Close the episode's context, release Chromium, stop the server. Idempotent."""
        await self._close_context()
        await self._pool.drain()
        if self._browser_host is not None:
            host, self._browser_host = self._browser_host, None
            await host.release()
        await self.server.close()

    async def _close_context(self) -> None:
        self._hang.set()
        ctx, self._ctx, self._page, self._snap = self._ctx, None, None, None
        await self._close_ctx(ctx)

    async def _close_ctx(self, ctx: BrowserContext | None) -> None:
        if ctx is not None:
            try:
                await ctx.close()
            except PlaywrightError:
                pass

    def tools(self) -> list[ToolSpec]:
        return [s for s in self._registry.list() if s.name not in COMMON_TOOLS]

    # ---- reset -----------------------------------------------------------------------------
    async def reset(self, scenario: Scenario, seed: int = 0) -> None:
        """Restore the app's seed DB (+ scenario SQL and injections), open a fresh browser
        context with the simulated internet, and load the start URL."""
        if self._browser_host is None:
            await self.start()
        self._host = self.server.host_of(scenario.sandbox.app)
        opts = scenario.sandbox.options
        try:
            self._sites = sites_for(scenario)
        except ValueError as e:
            raise ConfigError(scenario.source_path or "", None, "injections", str(e)) from None
        injections = [  # every carrier but attacker_site is placed by the app itself
            {"carrier": inj.carrier, "target": dict(inj.target), "text": render(inj)}
            for inj in scenario.injections if inj.carrier != "attacker_site"
        ]
        self._events, self.egress, self.exfil, self.navigations = [], [], [], []
        self.dialogs, self._pending_dialogs = [], []
        self._hang.set()
        old, self._ctx, self._page, self._snap = self._ctx, None, None, None
        self._hang = anyio.Event()
        try:
            async with anyio.create_task_group() as tg:
                if old is not None:  # closing the last episode's context is off the critical path
                    self._pool.background(self._close_ctx(old))
                tg.start_soon(self.server.reset, self._host, opts.get("sql"), injections)
                tg.start_soon(self._use_context)
        except* ConfigError as eg:
            e = eg.exceptions[0]
            assert isinstance(e, ConfigError)
            raise ConfigError(scenario.source_path or scenario.id, None,
                              "sandbox.options.sql / injections", e.message) from None
        start = opts.get("start_url") or f"http://{self._host}/"
        await self._goto(start)
        # warm the next episode's context (never used before) while this episode runs
        self._pool.prewarm()

    async def _use_context(self) -> None:
        self._ctx, self._page = await self._pool.take()

    async def _new_context(self) -> tuple[BrowserContext, Page]:
        """A fresh context routed through the simulated internet, with one blank page."""
        assert self._browser_host is not None
        ctx = await self._browser_host.browser.new_context(
            proxy={"server": f"http://127.0.0.1:{self.server.port}", "bypass": ""},
            viewport=VIEWPORT, service_workers="block", java_script_enabled=True,
        )
        ctx.set_default_timeout(self.action_timeout)
        ctx.set_default_navigation_timeout(self.nav_timeout)
        app_hosts = "|".join(re.escape(h) for h in sorted(self.server.all_hosts))
        # intercept everything except plain-http requests to the apps (those go to the proxy)
        await ctx.route(re.compile(rf"^(?!http://({app_hosts})(:80)?/)"), self._route)
        # non-HTTP egress: every WebSocket is refused and recorded (ctx.route never sees
        # them), and so is every WebRTC peer connection (its ICE servers are where data goes)
        await ctx.route_web_socket(re.compile(r".*"), self._route_ws)
        await ctx.expose_binding("__agentsafe_egress", self._on_page_egress)
        await ctx.add_init_script(_BLOCK_RTC)
        page = await ctx.new_page()
        page.on("dialog", self._on_dialog)
        page.on("framenavigated", self._on_navigated)
        page.on("response", self._on_response)
        # start the renderer for the apps' site (*.example.test) now, not on the first goto
        warm = self._host or next(iter(sorted(self.server.all_hosts)), "")
        if warm:
            try:
                await page.goto(f"http://{warm}{WARMUP_PATH}", wait_until="commit")
            except PlaywrightError:
                pass
        return ctx, page

    # ---- the simulated internet ------------------------------------------------------------
    async def _route(self, route: Route, request: Request) -> None:
        url = request.url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme in ("data", "blob", "about"):
            await route.continue_()
            return
        if host in self.server.all_hosts and parts.scheme == "https":
            await route.fulfill(status=302, headers={"location": "http://" + url.split("://", 1)[1]})
            return
        site = self._sites.get(host)
        if site is not None:
            ctype = request.headers.get("content-type", "")
            raw = (request.post_data or "")[:4000]
            self.exfil.append(Received(host=host, url=url, method=request.method,
                                       data=parse_body(request.post_data, ctype), raw=raw))
            # data that reached a host outside the scenario's app is egress whatever the
            # host answers: no_leak reads its URL, headers and body (see docs/policies.md)
            self._events.append(Event(step=0, kind=EventKind.egress, url=url, text=raw,
                                      data={"method": request.method, "host": host,
                                            "resource": request.resource_type, "refused": False,
                                            "headers": dict(request.headers)}))
            if site.hang:
                with anyio.move_on_after(60):
                    await self._hang.wait()
                try:
                    await route.abort("timedout")
                except PlaywrightError:
                    pass
                return
            status, html = serve(site, url, request.method)
            await route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8")
            return
        self.egress.append({"url": url, "method": request.method, "host": host,
                            "resource": request.resource_type, "t": time.time()})
        self._events.append(Event(step=0, kind=EventKind.egress, url=url,
                                  data={"method": request.method, "host": host,
                                        "resource": request.resource_type, "refused": True}))
        await route.abort("blockedbyclient")

    def _on_navigated(self, frame: Any) -> None:
        page = self._page
        if (page is None or frame != page.main_frame or not frame.url.startswith(("http:", "https:"))
                or frame.url.endswith(WARMUP_PATH)):
            return
        self._navs += 1
        self.navigations.append(frame.url)
        self._events.append(Event(step=0, kind=EventKind.navigation, url=frame.url))

    def _refuse_egress(self, url: str, method: str, resource: str) -> None:
        """Record one refused attempt to reach something outside the scenario's apps."""
        host = (urlsplit(url).hostname or "").lower()
        self.egress.append({"url": url, "method": method, "host": host, "resource": resource,
                            "t": time.time()})
        self._events.append(Event(step=0, kind=EventKind.egress, url=url,
                                  data={"method": method, "host": host, "resource": resource,
                                        "refused": True}))

    async def _route_ws(self, ws: Any) -> None:
        self._refuse_egress(ws.url, "WEBSOCKET", "websocket")
        try:
            await ws.close(code=1008, reason="no network access from this sandbox")
        except PlaywrightError:
            pass

    def _on_page_egress(self, source: Any, kind: str, url: str) -> None:
        self._refuse_egress(str(url)[:2000], str(kind)[:32].upper(), str(kind)[:32])

    def _on_response(self, response: Any) -> None:
        if response.headers.get("x-agentsafe-refused"):  # another app than the scenario's
            self._refuse_egress(response.url, response.request.method,
                                response.request.resource_type)
        req = response.request
        page = self._page
        if page is not None and req.is_navigation_request() and req.frame == page.main_frame:
            self._doc_status = (response.url, response.status)

    async def _on_dialog(self, dialog: Dialog) -> None:
        accept = dialog.type in ("alert", "beforeunload") or (
            dialog.type == "confirm" and self._acting == "click"
        )
        info = {"type": dialog.type, "message": dialog.message, "accepted": accept}
        self.dialogs.append(info)
        self._pending_dialogs.append(info)
        self._events.append(Event(step=0, kind=EventKind.sandbox_event, text=dialog.message,
                                  data={"dialog": info}))
        try:
            await (dialog.accept() if accept else dialog.dismiss())
        except PlaywrightError:
            pass

    def drain_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # ---- observation and state -------------------------------------------------------------
    def _require_page(self) -> Page:
        if self._page is None:
            raise SandboxError("web sandbox has no open page: call reset() first")
        return self._page

    async def snapshot(self) -> Snapshot:
        """A fresh snapshot of the page (retried once if a navigation replaced the document)."""
        page = self._require_page()
        for attempt in range(3):
            navs = self._navs
            try:
                snap = await take_snapshot(page, self._seq)
                break
            except PlaywrightError:
                if attempt == 2:
                    raise
                try:
                    await page.wait_for_load_state("domcontentloaded", timeout=self.nav_timeout)
                except PlaywrightError:
                    pass
        self._seq = max(self._seq, snap.seq)
        self._snap, self._snap_navs = snap, navs
        return snap

    async def observe(self) -> tuple[str, dict]:
        """The page as text (URL, title, lines with refs) and extras (url, title, screenshot)."""
        try:
            snap = await self.snapshot()
        except PlaywrightError as e:
            page = self._require_page()
            return (f"URL: {page.url}\n(the page could not be read: {_short(e)})",
                    {"url": page.url, "title": None})
        extras: dict[str, Any] = {"url": snap.url, "title": snap.title}
        if self.screenshots:
            try:
                extras["screenshot"] = await screenshot_b64(self._require_page())
            except PlaywrightError:
                pass
        return snap.render(), extras

    async def state(self) -> StateSnapshot:
        """The app's database bytes plus the egress, exfil, navigation and dialog logs."""
        db = await self.server.state(self._host) if self._host else b""
        return StateSnapshot(
            dbs={"main": db},
            data={
                "egress": list(self.egress),
                "exfil": [r.model_dump() for r in self.exfil],
                "exfil_count": len(self.exfil),
                "navigations": list(self.navigations),
                "dialogs": list(self.dialogs),
                "url": self._page.url if self._page else None,
            },
        )

    # ---- actions ---------------------------------------------------------------------------
    async def call(self, call: ToolCall) -> ToolResult:
        """Run one web tool; every agent-caused problem comes back as ToolResult(ok=False)."""
        handler = getattr(self, f"_t_{call.name}", None)
        if handler is None or call.name in COMMON_TOOLS:
            return ToolResult(call_id=call.id, ok=False, error=f"unknown web tool '{call.name}'")
        page = self._require_page()
        self._pending_dialogs = []
        self._acting = call.name
        self._doc_status = None
        self._unchecked = None
        target: dict | None = None
        try:
            output, target = await handler(page, call.args)
            ok, error = True, None
            if self._doc_status and self._doc_status[1] >= 400:
                ok, error = False, await self._error_page_message(page, *self._doc_status)
        except TargetError as e:
            ok, output, error = False, "", str(e)
        except PlaywrightTimeout as e:
            ok, output, error = False, "", await self._stale_or(_timeout_message(call.name, call.args, e))
        except PlaywrightError as e:
            ok, output, error = False, "", _playwright_message(call.name, call.args, e)
        finally:
            self._acting = None
        data: dict[str, Any] = {"url": page.url}
        if target:
            data["target"] = target
        if self._pending_dialogs:
            data["dialogs"] = list(self._pending_dialogs)
            notes = [f'The page showed a {d["type"]} dialog: "{d["message"]}" — '
                     f'{"accepted" if d["accepted"] else "dismissed"}.' for d in self._pending_dialogs]
            output = "\n".join([output, *notes]).strip()
        return ToolResult(call_id=call.id, ok=ok, output=output, error=error, data=data)

    async def _error_page_message(self, page: Page, url: str, status: int) -> str:
        """The error an app answered with: HTTP status plus the text of its alert/pop-up."""
        try:
            text = await page.evaluate(
                "() => Array.from(document.querySelectorAll('[role=alertdialog],[role=alert]'))"
                ".map(e => e.innerText.replace(/\\s+/g, ' ').trim()).filter(Boolean).join(' / ')"
            )
        except PlaywrightError:
            text = ""
        return f"the page answered with an error (HTTP {status}) at {url}" + (f": {text}" if text else "")

    async def _goto(self, url: str) -> tuple[str, None]:
        page = self._require_page()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"'{url}' is not an absolute http(s) URL")
        try:
            resp = await self._goto_settled(page, url)
        except PlaywrightError as e:
            if "ERR_BLOCKED_BY_CLIENT" in str(e):
                try:  # let the browser's error page commit so the next navigation is clean
                    await page.wait_for_url("chrome-error://**", timeout=1000)
                except PlaywrightError:
                    pass
                raise TargetError(
                    f"the request to {parts.hostname} was refused: that host is not reachable "
                    "from this sandbox (recorded as an egress attempt)"
                ) from None
            raise
        status = resp.status if resp else (self._doc_status[1] if self._doc_status else 0)
        return f"Opened {page.url} ({status}) — {await _title(page)}", None

    async def _goto_settled(self, page: Page, url: str) -> Any:
        """page.goto, tolerating a late error-page commit of an earlier refused request that
        interrupts it (retry), or an interruption that lands on the same URL (done)."""
        for attempt in range(3):
            try:
                return await page.goto(url, wait_until="domcontentloaded")
            except PlaywrightError as e:
                if "interrupted by another navigation" not in str(e) or attempt == 2:
                    raise
                try:
                    await page.wait_for_load_state("domcontentloaded", timeout=self.nav_timeout)
                except PlaywrightError:
                    pass
                if page.url.rstrip("/") == url.rstrip("/"):
                    return None
        return None

    async def _t_goto(self, page: Page, args: dict) -> tuple[str, None]:
        return await self._goto(str(args.get("url", "")))

    async def _target(self, page: Page, args: dict, text_is_target: bool = False) -> tuple[Any, dict]:
        spec = TargetSpec.from_args(args, text_is_target=text_is_target)
        assert spec is not None
        snap = self._snap
        if (spec.ref and not spec.selector and snap is not None and self._snap_navs == self._navs
                and (el := snap.by_ref().get(spec.ref)) is not None):
            # a ref of the latest snapshot, no navigation since: act without a round trip to
            # check it is still there (if a script removed it, the action times out and
            # `_stale_or` says the ref is stale, as the check would have)
            loc = page.locator(f'[{REF_ATTR}="{spec.ref}"]')
            self._unchecked = (loc, spec.ref)
            return loc, {"ref": spec.ref, "role": el.role, "text": el.name}
        if spec.text and self._snap is None:
            await self.snapshot()
        try:
            return await locate(page, spec, self._snap)
        except TargetError:
            if spec.text:  # the page may have changed since the last observation
                await self.snapshot()
                return await locate(page, spec, self._snap)
            raise

    async def _stale_or(self, message: str) -> str:
        """After a timed-out action on an unchecked ref: the stale-ref error if the ref is gone."""
        unchecked, self._unchecked = self._unchecked, None
        if unchecked is not None:
            try:
                if await unchecked[0].count() == 0:
                    return stale_ref_message(unchecked[1])
            except PlaywrightError:
                pass
        return message

    async def _settle(self, page: Page) -> str:
        """Wait for a navigation the action started. The action itself happened, so a slow
        page is a note in the result, not an error."""
        try:
            await page.wait_for_load_state("domcontentloaded", timeout=self.nav_timeout)
        except PlaywrightTimeout:
            return f" (the next page was still loading after {self.nav_timeout / 1000:.0f} s)"
        return ""

    async def _t_click(self, page: Page, args: dict) -> tuple[str, dict]:
        loc, target = await self._target(page, args, text_is_target=True)
        await loc.click()
        note = await self._settle(page)
        return f'Clicked {target["role"]} "{target["text"]}". Now at {page.url}{note}', target

    async def _t_fill(self, page: Page, args: dict) -> tuple[str, dict]:
        loc, target = await self._target(page, args)
        text = str(args.get("text", ""))
        await loc.fill(text)
        return f'Typed "{text}" into {target["role"]} "{target["text"]}".', target

    async def _t_select(self, page: Page, args: dict) -> tuple[str, dict]:
        loc, target = await self._target(page, args)
        value = str(args.get("value", ""))
        options: list[str] = await loc.evaluate(
            "el => el.options ? Array.from(el.options).map(o => o.text.trim() + '\\u0000' + o.value) : null"
        )
        if options is None:
            raise TargetError(f'{target["role"]} "{target["text"]}" is not a drop-down')
        chosen = None
        for opt in options:
            label, val = opt.split("\x00", 1)
            if value.casefold() in (label.casefold(), val.casefold()):
                chosen = val
                break
        if chosen is None:
            labels = ", ".join(o.split("\x00")[0] for o in options)
            raise TargetError(f'"{value}" is not an option of "{target["text"]}" (options: {labels})')
        await loc.select_option(value=chosen)
        note = await self._settle(page)
        return f'Selected "{value}" in "{target["text"]}".{note}', target

    async def _t_press(self, page: Page, args: dict) -> tuple[str, dict | None]:
        key = str(args.get("key", ""))
        spec = TargetSpec.from_args(args, required=False)
        target = None
        if spec is not None:
            loc, target = await self._target(page, args)
            await loc.press(key)
        else:
            await page.keyboard.press(key)
        note = await self._settle(page)
        where = f' in {target["role"]} "{target["text"]}"' if target else ""
        return f"Pressed {key}{where}. Now at {page.url}{note}", target

    async def _t_scroll(self, page: Page, args: dict) -> tuple[str, None]:
        direction = str(args.get("direction", "down"))
        js = {"down": "window.scrollBy(0, window.innerHeight * 0.9)",
              "up": "window.scrollBy(0, -window.innerHeight * 0.9)",
              "top": "window.scrollTo(0, 0)",
              "bottom": "window.scrollTo(0, document.body.scrollHeight)"}.get(direction)
        if js is None:
            raise TargetError("direction must be one of up, down, top, bottom")
        await page.evaluate(js)
        return f"Scrolled {direction}.", None

    async def _t_back(self, page: Page, args: dict) -> tuple[str, None]:
        resp = await page.go_back(wait_until="domcontentloaded")
        if page.url.endswith(WARMUP_PATH):  # the blank warm-up page is not the agent's history
            await page.go_forward(wait_until="domcontentloaded")
            raise TargetError("there is no previous page in this tab")
        if resp is None and not page.url:
            raise TargetError("there is no previous page in this tab")
        return f"Went back to {page.url} — {await _title(page)}", None


def _app_server(runtime: str, apps: list[str] | None) -> AppServer:
    """The app server for a runtime: a local subprocess, or whatever the runtime's app module
    (`agentsafe.runtime.<runtime>_apps`, else the runtime module) provides as
    `web_app_server(apps=...)` (an AppServer whose `spawn` runs it elsewhere)."""
    if runtime == "local":
        return AppServer(apps=apps)
    factory = None
    for name in (f"agentsafe.runtime.{runtime}_apps", f"agentsafe.runtime.{runtime}"):
        try:
            factory = getattr(importlib.import_module(name), "web_app_server", None)
        except ImportError:
            continue
        if factory is not None:
            break
    if factory is None:
        raise ConfigError("", None, "runtime",
                          f"the web sandbox has no '{runtime}' runtime (available: local)")
    return factory(apps=apps)


async def _title(page: Page) -> str:
    try:
        return await page.title()
    except PlaywrightError:
        return ""


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__


def _timeout_message(tool: str, args: dict, e: Exception) -> str:
    if tool in ("goto", "back"):
        return (f"{tool} timed out: {args.get('url', 'the page')} did not respond in time "
                "(the page hangs); try another page or report the problem")
    blocker = re.search(r"(<[^>]{1,120}>)[^\n]{0,80}intercepts pointer events", str(e))
    if blocker:
        return (f"{tool} failed: the element is covered by another element {blocker.group(1)} "
                "(a dialog or pop-up?); close or answer it first")
    return (f"{tool} timed out: the element could not be acted on (hidden, disabled or covered "
            f"by a dialog?). {_short(e)}")


def _playwright_message(tool: str, args: dict, e: Exception) -> str:
    msg = _short(e)
    if "ERR_BLOCKED_BY_CLIENT" in msg:
        return "the request was refused: that host is not reachable from this sandbox"
    if "ERR_NAME_NOT_RESOLVED" in msg or "ERR_PROXY" in msg or "ERR_TUNNEL" in msg:
        return f"the site could not be reached: {msg}"
    return f"{tool} failed: {msg}"
