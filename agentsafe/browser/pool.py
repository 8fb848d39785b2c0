"""A pool of one browser context, warmed in the background while an episode runs, so the next
episode's reset only loads a page; plus chores (closing the last context) kept off the
critical path. Shared by the web and mobile sandboxes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sniffio
from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

ContextPage = tuple[BrowserContext, Page]


class SpareContext:
    """`prewarm()` starts making the next context; `take()` returns it (or makes one now if
    there is none or its making failed); `drain()` closes what is left. Background work runs only
    under asyncio (Playwright's loop); under another backend chores run at the next `take()`."""

    def __init__(self, make: Callable[[], Awaitable[ContextPage]],
                 make_now: Callable[[], Awaitable[ContextPage]] | None = None) -> None:
        self._make, self._make_now = make, make_now or make
        self.spare: asyncio.Future[ContextPage] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._chores: list[Awaitable[Any]] = []

    def background(self, coro: Awaitable[Any]) -> None:
        """Run a browser chore off the critical path."""
        if sniffio.current_async_library() != "asyncio":
            self._chores.append(coro)
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def prewarm(self) -> None:
        """Start making the next episode's context now."""
        if self.spare is None and sniffio.current_async_library() == "asyncio":
            self.spare = asyncio.ensure_future(self._make())

    async def take(self) -> ContextPage:
        """The warmed context, or a new one if none is ready to use."""
        chores, self._chores = self._chores, []
        for chore in chores:
            await chore
        spare, self.spare = self.spare, None
        if spare is not None:
            try:
                return await spare
            except PlaywrightError:
                pass  # the browser hiccuped: make one now
        return await self._make_now()

    async def drain(self) -> None:
        """Close the spare context and wait for every chore. Idempotent."""
        spare, self.spare = self.spare, None
        if spare is not None:
            try:
                ctx, _ = await spare
                await ctx.close()
            except (PlaywrightError, asyncio.CancelledError):
                pass
        for task in list(self._tasks):
            try:
                await task
            except (PlaywrightError, asyncio.CancelledError):
                pass
        chores, self._chores = self._chores, []
        for chore in chores:
            try:
                await chore
            except PlaywrightError:
                pass
