"""The web sandbox's app server: loads every app under apps/, builds each seed DB once, and
dispatches requests by Host header (it also accepts the absolute-form request lines a browser
sends to a proxy). Per-host control endpoints live under /__agentsafe__/ behind a token.

Run: python sandboxes/web/server.py --workdir DIR --token T [--port 0] [--apps shop,crm]
Prints one JSON line {"port": ..., "hosts": {...}} when listening. With --watch-stdin it exits
as soon as its stdin closes (the harness died), so it never outlives the harness."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import socket
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
CONTROL = "/__agentsafe__/"
if str(HERE) not in sys.path:  # apps import the shared helpers as `common.*`
    sys.path.insert(0, str(HERE))


@dataclass
class LoadedApp:
    """One app: its module, ASGI app, hosts and database files."""

    name: str
    module: ModuleType
    asgi: Any
    hosts: list[str]
    seed_db: Path
    db: Path


def load_module(name: str, path: Path) -> ModuleType:
    """Import apps/<name>/app.py under a private module name."""
    spec = importlib.util.spec_from_file_location(f"agentsafe_webapp_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path}: cannot import")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    for attr in ("HOSTS", "create_app"):
        if not hasattr(mod, attr):
            raise RuntimeError(f"{path}: app module must define {attr}")
    return mod


def build_seed(seed_sql: Path, target: Path) -> None:
    """Create the seed DB from seed.sql; errors name the file and the failing statement."""
    if target.exists():
        target.unlink()
    conn = sqlite3.connect(target)
    try:
        conn.executescript(seed_sql.read_text())
        conn.commit()
    except sqlite3.Error as e:
        raise RuntimeError(f"{seed_sql}: {e}") from e
    finally:
        conn.close()


def load_apps(workdir: Path, only: set[str] | None = None) -> list[LoadedApp]:
    """Load the apps (all, or those named in `only`) and build their seed and working DBs."""
    apps = []
    for app_py in sorted(APPS_DIR.glob("*/app.py")):
        name = app_py.parent.name
        if only and name not in only:
            continue
        mod = load_module(name, app_py)
        seed_db, db = workdir / f"{name}.seed.sqlite", workdir / f"{name}.sqlite"
        build_seed(app_py.parent / "seed.sql", seed_db)
        shutil.copyfile(seed_db, db)
        hosts = [h.lower() for h in mod.HOSTS]
        apps.append(LoadedApp(name, mod, mod.create_app(str(db)), hosts, seed_db, db))
    return apps


def reset_app(app: LoadedApp, sql: str | None = None, injections: list[dict] | None = None) -> None:
    """Copy the seed DB over the working DB, then run the scenario's extra SQL and injections."""
    shutil.copyfile(app.seed_db, app.db)
    if not sql and not injections:
        return
    conn = sqlite3.connect(app.db)
    try:
        if sql:
            conn.executescript(sql)
        for inj in injections or []:
            inject_app(app, conn, inj)
        conn.commit()
    finally:
        conn.close()


def inject_app(app: LoadedApp, conn: sqlite3.Connection, inj: dict) -> None:
    """Place one injection through the app's `inject(conn, carrier, target, text)`."""
    fn = getattr(app.module, "inject", None)
    if fn is None:
        raise ValueError(f"app '{app.name}' has no injection carriers")
    fn(conn, inj["carrier"], inj.get("target") or {}, inj["text"])


class Dispatcher:
    """Root ASGI app: control endpoints, then dispatch to the app that owns the Host."""

    def __init__(self, apps: list[LoadedApp], token: str) -> None:
        self.apps = apps
        self.token = token
        self.by_host = {h: a for a in apps for h in a.hosts}
        # hosts served in the current episode (a reset with "exclusive" narrows it to the
        # scenario's app): the other apps do not exist for the agent
        self.allowed: set[str] | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        scope = dict(scope)
        path = scope.get("path", "/")
        host = ""
        if path.startswith(("http://", "https://")):  # proxy-style absolute target
            parts = urlsplit(path)
            host = (parts.hostname or "").lower()
            scope["path"] = parts.path or "/"
            scope["raw_path"] = scope["path"].encode()
        if not host:
            for k, v in scope.get("headers", []):
                if k == b"host":
                    host = v.decode("latin-1").split(":")[0].lower()
                    break
        app = self.by_host.get(host)
        if scope["path"].startswith(CONTROL):
            response = await self.control(Request(scope, receive), app)
            await response(scope, receive, send)
            return
        refused = app is not None and self.allowed is not None and host not in self.allowed
        if app is None or refused:
            if scope["type"] != "http":  # a websocket to a host we do not serve
                await send({"type": "websocket.close", "code": 1008})
                return
            response = HTMLResponse(
                f"<h1>Unknown host</h1><p>No site is served at {host!r}.</p>", status_code=404,
                headers={"x-agentsafe-refused": "1"} if refused else None,
            )
            await response(scope, receive, send)
            return
        await app.asgi(scope, receive, send)

    async def control(self, request: Request, app: LoadedApp | None) -> Response:
        """reset / state / inject / health for the app owning the Host header."""
        action = request.url.path[len(CONTROL):].strip("/")
        if action == "blank":  # warms a fresh browser page (renderer, proxy) before an episode
            return HTMLResponse("<!doctype html><title></title>")
        if action == "health":
            return JSONResponse({"ok": True, "hosts": {a.name: a.hosts for a in self.apps}})
        if request.headers.get("x-agentsafe-token") != self.token:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        if app is None:
            return JSONResponse({"error": "unknown host"}, status_code=404)
        try:
            if action == "reset" and request.method == "POST":
                body = await request.json() if await request.body() else {}
                reset_app(app, body.get("sql"), body.get("injections"))
                self.allowed = set(app.hosts) if body.get("exclusive") else None
                return JSONResponse({"ok": True})
            if action == "state" and request.method == "GET":
                return Response(app.db.read_bytes(), media_type="application/x-sqlite3")
            if action == "inject" and request.method == "POST":
                body = await request.json()
                conn = sqlite3.connect(app.db)
                try:
                    inject_app(app, conn, body)
                    conn.commit()
                finally:
                    conn.close()
                return JSONResponse({"ok": True})
        except (ValueError, KeyError, sqlite3.Error) as e:
            return JSONResponse({"error": f"{type(e).__name__}: {e}"}, status_code=400)
        return JSONResponse({"error": f"unknown control action {action!r}"}, status_code=404)


def _watch_stdin() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--workdir", required=True)
    p.add_argument("--token", default=os.environ.get("AGENTSAFE_WEB_TOKEN", ""))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--apps", default="", help="comma-separated app names (default: all)")
    p.add_argument("--watch-stdin", action="store_true")
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    only = {a for a in args.apps.split(",") if a} or None
    apps = load_apps(workdir, only)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    print(json.dumps({"port": sock.getsockname()[1], "hosts": {a.name: a.hosts for a in apps}}),
          flush=True)
    if args.watch_stdin:
        threading.Thread(target=_watch_stdin, daemon=True).start()
    config = uvicorn.Config(
        Dispatcher(apps, args.token), log_level="warning", access_log=False, lifespan="off",
        http="h11", loop="asyncio",
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
