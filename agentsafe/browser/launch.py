"""Launch Chromium once per worker (per event loop) and share it between sandboxes."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from playwright.async_api import Browser, Playwright, async_playwright

from agentsafe.errors import SandboxError

SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_options() -> dict[str, Any]:
    """Playwright launch kwargs: Debian's Chromium when installed (no download needed), else
    Playwright's bundled build (`playwright install chromium`). AGENTSAFE_CHROMIUM overrides."""
    exe = os.environ.get("AGENTSAFE_CHROMIUM") or (
        SYSTEM_CHROMIUM if os.path.exists(SYSTEM_CHROMIUM) else None
    )
    opts: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
    if exe:
        opts["executable_path"] = exe
    return opts


class BrowserHost:
    """One Playwright driver + one Chromium, reference-counted: the first `acquire()` launches,
    the last `release()` closes. Bound to the event loop it was launched on."""

    def __init__(self) -> None:
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            raise SandboxError("browser not started: call acquire() first")
        return self._browser

    async def acquire(self) -> Browser:
        """The shared browser, launching it on first use (or after it crashed)."""
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                await self._shutdown()
                try:
                    self._pw = await async_playwright().start()
                    self._browser = await self._pw.chromium.launch(**launch_options())
                except Exception as e:
                    await self._shutdown()
                    raise SandboxError(
                        f"could not launch Chromium ({e}); install the 'chromium' Debian package "
                        "or run `playwright install chromium`"
                    ) from e
            self._users += 1
            return self._browser

    async def release(self) -> None:
        """Drop one user; the last one closes Chromium and the driver."""
        async with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0:
                await self._shutdown()

    async def _shutdown(self) -> None:
        browser, pw = self._browser, self._pw
        self._browser, self._pw = None, None
        if browser is not None:
            with contextlib.suppress(Exception):  # already gone
                await browser.close()
        if pw is not None:
            with contextlib.suppress(Exception):
                await pw.stop()


_HOSTS: dict[int, BrowserHost] = {}


def shared_browser() -> BrowserHost:
    """The worker's BrowserHost for the running event loop (one Chromium per worker)."""
    loop = asyncio.get_running_loop()
    host = _HOSTS.get(id(loop))
    if host is None:
        # forget hosts of loops that are gone (tests create one loop per test)
        for key in [k for k, h in _HOSTS.items() if h._users == 0]:
            del _HOSTS[key]
        host = _HOSTS[id(loop)] = BrowserHost()
    return host


@asynccontextmanager
async def browser_session() -> AsyncIterator[Browser]:
    """`async with browser_session() as browser:` — acquire/release the shared browser."""
    host = shared_browser()
    browser = await host.acquire()
    try:
        yield browser
    finally:
        await host.release()
