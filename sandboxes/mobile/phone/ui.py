"""Rendering helpers shared by every app: templates, the back stack, heads-up notifications."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from phone.core import Phone

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["q"] = lambda s: quote(str(s), safe="")
# inlined in every page: one request per screen, no stylesheet round trip
templates.env.globals["phone_css"] = (HERE / "static" / "phone.css").read_text()

Handler = Callable[[Request], Awaitable[Response]]


def phone_of(request: Request) -> Phone:
    return request.app.state.phone


def app_meta(phone: Phone, app: str) -> dict[str, Any]:
    row = phone.one("SELECT * FROM apps WHERE id=?", app)
    return dict(row) if row else {"id": app, "label": app.title(), "package": "android", "icon": "🔔", "color": "#607d8b"}


def render(request: Request, template: str, app: str | None = None, **ctx: Any) -> HTMLResponse:
    """Render a screen: push it on the back stack, show fresh heads-up notifications once."""
    phone = phone_of(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET":
        phone.visit(path)
        phone.transient = False
    else:  # a screen rendered as the result of an action (a dialog): not on the back stack
        phone.transient = True
    heads = []
    for n in phone.q("SELECT * FROM notifications WHERE headsup=1 ORDER BY id DESC LIMIT 2"):
        meta = app_meta(phone, n["app"])
        heads.append({**dict(n), "app_label": meta["label"], "icon": meta["icon"]})
    if heads:
        phone.run("UPDATE notifications SET headsup=0 WHERE headsup=1")
    icons = [app_meta(phone, r["app"])["icon"] for r in
             phone.q("SELECT DISTINCT app FROM notifications WHERE dismissed=0 LIMIT 4")]
    meta = app_meta(phone, app) if app else {}
    settings = phone.all_settings()
    status = f"battery {settings['battery']}%" + (", Wi-Fi" if settings["wifi"] else "") + (
        ", airplane mode" if settings["airplane_mode"] else "")
    base = {
        "request": request, "clock": phone.clock(), "settings": settings, "headsup": heads,
        "notif_icons": icons, "status_icons": status, "delivered_count": len(phone.delivered),
        "egress_count": len(phone.egress) + len(phone.requests), "alert": "",
        "package": meta.get("package"), "color": None, "app": meta,
    }
    base.update(ctx)
    base.setdefault("screen_title", ctx.get("title") or meta.get("label"))
    return templates.TemplateResponse(request, template, base)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def app_screen(app: str) -> Callable[[Handler], Handler]:
    """Decorator for an app's screens: refuse when the app is not installed, deliver the events
    scheduled for when this app opens."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        async def inner(request: Request) -> Response:
            phone = phone_of(request)
            if not phone.installed(app):
                return render(request, "message.html", screen_title="App not installed",
                              message=f"{app} is not installed on this phone.",
                              alert=f"{app} is not installed on this phone")
            phone.deliver_on_open(app)
            return await fn(request)

        return inner

    return wrap


async def form(request: Request) -> dict[str, Any]:
    """The submitted form as a dict; repeated keys become lists."""
    f = await request.form()
    out: dict[str, Any] = {}
    for k in f:
        vals = f.getlist(k)
        out[k] = vals if len(vals) > 1 else vals[0]
    return out


def as_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]
