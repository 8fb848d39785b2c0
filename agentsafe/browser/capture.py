"""Screenshots as base64 PNG, for observations and artifacts."""

from __future__ import annotations

import base64

from playwright.async_api import Page


async def screenshot_b64(page: Page, full_page: bool = False) -> str:
    """The page's viewport (or full page) as a base64-encoded PNG."""
    png = await page.screenshot(full_page=full_page, type="png", timeout=5000)
    return base64.b64encode(png).decode("ascii")
