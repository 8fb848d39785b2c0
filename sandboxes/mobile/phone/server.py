"""The phone server: one Starlette app serving the launcher, every app, and the harness's control
endpoints (/__agentsafe__/reset|state|db|event|inject|events|health)."""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from phone import apps_comm, apps_data, apps_stocks, apps_system, apps_tools, apps_web
from phone.core import Phone, PhoneConfigError, PhoneEvent
from phone.ui import HERE, app_meta, phone_of, redirect, render

HOME_APPS = ["mail", "calendar", "photos", "social", "bank", "notes", "files", "store", "browser", "clock",
             "calculator", "stocks"]
DOCK = ["phone", "messages", "contacts", "settings"]


async def home(request: Request) -> Response:
    phone = phone_of(request)
    phone.stack = []  # the launcher is the root of the back stack
    apps = {r["id"]: dict(r) for r in phone.q("SELECT * FROM apps WHERE installed=1")}
    extra = [a for a in apps if a not in HOME_APPS + DOCK]
    return render(request, "home.html", body_class="home", screen_title="Home",
                  home_apps=[apps[a] for a in HOME_APPS + extra if a in apps],
                  dock=[apps[a] for a in DOCK if a in apps])


async def drawer(request: Request) -> Response:
    apps = [dict(r) for r in phone_of(request).q("SELECT * FROM apps WHERE installed=1 ORDER BY label")]
    return render(request, "drawer.html", body_class="drawer", screen_title="All apps", apps=apps)


async def shade(request: Request) -> Response:
    phone = phone_of(request)
    rows = []
    for n in phone.q("SELECT * FROM notifications WHERE dismissed=0 ORDER BY id DESC"):
        meta = app_meta(phone, n["app"])
        rows.append({**dict(n), "app_label": meta["label"], "icon": meta["icon"]})
    return render(request, "shade.html", body_class="shade", screen_title="Notifications",
                  package="com.android.systemui", notifications=rows)


async def recents(request: Request) -> Response:
    phone = phone_of(request)
    seen: list[str] = []
    for p in reversed(phone.stack):
        if p.startswith("/app/"):
            a = p.split("/")[2].split("?")[0]
            if a not in seen:
                seen.append(a)
    return render(request, "recents.html", screen_title="Recent apps", package="com.android.systemui",
                  recent=[app_meta(phone, a) for a in seen])


async def nav_back(request: Request) -> Response:
    return redirect(phone_of(request).back())


async def nav_current(request: Request) -> Response:
    """The screen on top of the back stack (used to re-render after an event arrives)."""
    stack = phone_of(request).stack
    return redirect(stack[-1] if stack else "/")


async def nav_home(request: Request) -> Response:
    return redirect("/")


async def nav_open(request: Request) -> Response:
    """Open an installed app by its label (what `open_app` does)."""
    phone = phone_of(request)
    name = request.query_params.get("name", "").strip().lower()
    apps = phone.q("SELECT id, label FROM apps WHERE installed=1 ORDER BY label")
    for a in apps:
        if name in (a["label"].lower(), a["id"]):
            return redirect(f"/app/{a['id']}")
    labels = ", ".join(a["label"] for a in apps)
    return render(request, "message.html", screen_title="App not found", message=f"No app named “{name}”.",
                  alert=f"No installed app named '{name}'. Installed apps: {labels}")


async def notif_open(request: Request) -> Response:
    phone = phone_of(request)
    n = phone.one("SELECT * FROM notifications WHERE id=?", request.query_params.get("id", "0"))
    if n is None:
        return redirect("/shade")
    phone.run("UPDATE notifications SET dismissed=1 WHERE id=?", n["id"])
    return redirect(n["link"] or "/shade")


async def notif_clear(request: Request) -> Response:
    phone_of(request).run("UPDATE notifications SET dismissed=1")
    return redirect("/shade")


# control plane ---------------------------------------------------------------------------------
def _bad(e: Exception) -> JSONResponse:
    return JSONResponse({"ok": False, "error": str(e)}, status_code=400)


async def ctl_reset(request: Request) -> Response:
    cfg: dict[str, Any] = await request.json() if await request.body() else {}
    try:
        phone_of(request).reset(cfg)
    except PhoneConfigError as e:
        return _bad(e)
    return JSONResponse({"ok": True, "pending": [e.id for e in phone_of(request).pending]})


async def ctl_state(request: Request) -> Response:
    return JSONResponse(phone_of(request).data())


async def ctl_db(request: Request) -> Response:
    return Response(phone_of(request).db.serialize(), media_type="application/vnd.sqlite3")


async def ctl_event(request: Request) -> Response:
    """Advance the phone to a step: deliver the events due by then."""
    body = await request.json()
    return JSONResponse({"delivered": phone_of(request).deliver_step(int(body.get("step", 0)))})


async def ctl_inject(request: Request) -> Response:
    """Schedule (at_step / on_open) or deliver now a new event."""
    phone = phone_of(request)
    try:
        ev = PhoneEvent.parse(await request.json(), "event")
    except PhoneConfigError as e:
        return _bad(e)
    if ev.at_step is None and ev.on_open is None:
        return JSONResponse({"delivered": [phone.deliver(ev)]})
    phone.pending.append(ev)
    return JSONResponse({"scheduled": ev.id})


async def ctl_events(request: Request) -> Response:
    since = int(request.query_params.get("since", 0))
    phone = phone_of(request)
    return JSONResponse({"events": phone.delivered[since:], "egress": phone.egress,
                         "requests": phone.requests,
                         "count": len(phone.delivered)})


async def ctl_warm(request: Request) -> Response:
    """A tiny page in the phone's origin and style: a spare browser page loads it ahead of an
    episode so its renderer process, stylesheet and emoji font are ready."""
    from phone.ui import templates

    css = templates.env.globals["phone_css"]
    return HTMLResponse(f"<!doctype html><style>{css}</style><body class=home><div class=app><span class=ic>📞💬👤⚙️</span></div></body>")


async def ctl_health(request: Request) -> Response:
    return JSONResponse({"ok": True, "simulator": "agentsafe phone (simulated Android UI, not an emulator)"})


def create_app() -> Starlette:
    """The ASGI app of one phone."""
    routes = [
        Route("/", home), Route("/drawer", drawer), Route("/shade", shade), Route("/nav/recents", recents),
        Route("/nav/back", nav_back), Route("/nav/home", nav_home), Route("/nav/open", nav_open), Route("/nav/current", nav_current),
        Route("/do/notification/open", notif_open), Route("/do/notification/clear", notif_clear, methods=["POST"]),
        Route("/__agentsafe__/reset", ctl_reset, methods=["POST"]),
        Route("/__agentsafe__/state", ctl_state), Route("/__agentsafe__/db", ctl_db),
        Route("/__agentsafe__/event", ctl_event, methods=["POST"]),
        Route("/__agentsafe__/inject", ctl_inject, methods=["POST"]),
        Route("/__agentsafe__/events", ctl_events), Route("/__agentsafe__/health", ctl_health),
        Route("/__agentsafe__/warm", ctl_warm),
        *apps_comm.routes, *apps_data.routes, *apps_web.routes, *apps_tools.routes, *apps_stocks.routes,
        *apps_system.routes,  # last: its /app/{app} catches store apps without screens
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.phone = Phone()
    token = os.environ.get("AGENTSAFE_PHONE_TOKEN", "")
    if token:
        app.add_middleware(ControlToken, token=token)
    return app


class ControlToken:
    """ASGI middleware: /__agentsafe__/ endpoints (but health) need the harness's token in the
    x-agentsafe-token header; the phone's state (PIN included) is not for other processes."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (scope["type"] == "http" and path.startswith("/__agentsafe__/")
                and path != "/__agentsafe__/health"):
            given = dict(scope.get("headers") or []).get(b"x-agentsafe-token", b"")
            if not hmac.compare_digest(given, self.token):
                await JSONResponse({"error": "control token required"}, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def watch_stdin() -> None:
    """Exit when stdin closes: the harness that spawned us is gone (even killed by SIGKILL)."""
    import threading

    def watch() -> None:
        while sys.stdin.buffer.read(65536):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main() -> None:
    """Serve one phone: `python -m phone.server --port 8765` (binds 127.0.0.1 by default)."""
    import uvicorn

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin closes (the harness died); the control token comes "
                         "from AGENTSAFE_PHONE_TOKEN, never the command line")
    args = ap.parse_args()
    if args.watch_stdin:
        watch_stdin()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
