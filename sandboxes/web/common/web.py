"""Rendering helpers: a Jinja2 environment (autoescaped) that sees the app's templates and the
shared base layout, pagination and flash messages passed in the query string."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from common.carriers import CLOSED_COOKIE, closed_ids, notices_for
from common.db import connect

COMMON_TEMPLATES = Path(__file__).resolve().parent / "templates"


class Renderer:
    """Renders an app's templates inside the base layout, adding flash messages and notices."""

    def __init__(self, app_dir: Path, db_path: str, site: dict[str, Any]) -> None:
        self.db_path = db_path
        self.site = site
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(app_dir / "templates"), str(COMMON_TEMPLATES)]),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )
        self.env.globals["site"] = site
        self.env.filters["money"] = lambda v: f"${(v or 0):,.2f}"

    def page(self, request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        """A full HTML page; `ctx` reaches the template next to request, flash and notices."""
        with connect(self.db_path) as conn:
            notices = notices_for(conn, request.url.path,
                                  closed_ids(request.cookies.get(CLOSED_COOKIE)))
        html = self.env.get_template(template).render(
            request=request, path=request.url.path, flash=request.query_params.get("msg"),
            flash_error=request.query_params.get("err"), notices=notices, **ctx,
        )
        return HTMLResponse(html, status_code=status_code)

    def error(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status_code=status, title=title, message=message)


def redirect(url: str, msg: str | None = None, err: str | None = None) -> RedirectResponse:
    """303 to `url` carrying a flash message (`msg`) or error (`err`) in the query string."""
    params = {k: v for k, v in (("msg", msg), ("err", err)) if v}
    sep = "&" if "?" in url else "?"
    return RedirectResponse(url + (sep + urlencode(params) if params else ""), status_code=303)


class Pager:
    """Page numbers for a list view: `page` (1-based), `pages`, `offset`, and link helpers."""

    def __init__(self, request: Request, total: int, per_page: int = 20) -> None:
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1
        self.per_page = per_page
        self.total = total
        self.pages = max(1, math.ceil(total / per_page))
        self.page = min(max(1, page), self.pages)
        self.offset = (self.page - 1) * per_page
        self._params = {k: v for k, v in request.query_params.items() if k not in ("page", "msg", "err")}

    def url(self, page: int) -> str:
        return "?" + urlencode({**self._params, "page": page})
