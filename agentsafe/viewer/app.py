"""A local starlette app over a results store: the runs, the HTML report of any of them, and the
trajectories and screenshots it fetches one episode at a time. Bound to 127.0.0.1 only."""

from __future__ import annotations

import html
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from agentsafe.errors import AgentsafeError
from agentsafe.reports.html import render_html_report
from agentsafe.store import Store


def make_app(db: str | Path) -> Starlette:
    """The viewer over the store at `db`."""
    store = Store(db)

    async def index(request: Request) -> HTMLResponse:
        items = "".join(
            f'<li><label><input type="checkbox" name="run" value="{html.escape(r.id)}"> '
            f'<code>{html.escape(r.id)}</code> {html.escape(r.agent)} · {r.episodes}/{r.planned} '
            f'episodes · {html.escape(r.status)}</label> '
            f'<a href="report?run={html.escape(r.id)}">open</a></li>'
            for r in store.runs())
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>agentsafe view</title>"
            "<body style='font:14px system-ui;margin:20px'><h1>agentsafe view</h1>"
            f"<p>{html.escape(str(store.path))}</p><form action='report'><ul>{items}</ul>"
            "<button>open the selected runs side by side</button></form>")

    async def report(request: Request) -> Response:
        runs = request.query_params.getlist("run")
        if not runs:
            return HTMLResponse("choose at least one run", status_code=400)
        try:
            return HTMLResponse(render_html_report(store, runs, served=True))
        except AgentsafeError as e:
            return HTMLResponse(html.escape(str(e)), status_code=404)

    async def episode(request: Request) -> Response:
        q = request.query_params
        try:
            key = (q["run"], q["scenario"], int(q["trial"]))
        except (KeyError, ValueError):
            return JSONResponse({"error": "run, scenario and trial are required"}, status_code=400)
        row = store.raw_rows("SELECT result FROM episodes WHERE run_id=? AND scenario_id=? AND "
                             "trial=?", *key)
        if not row:
            return JSONResponse({"error": "no such episode"}, status_code=404)
        evs = store.raw_rows("SELECT event FROM events WHERE run_id=? AND scenario_id=? AND "
                             "trial=? ORDER BY seq", *key)
        body = '{"r":' + row[0][0] + ',"e":[' + ",".join(e for (e,) in evs) + "]}"
        return Response(body, media_type="application/json")

    async def artifact(request: Request) -> Response:
        art = store.artifact(request.path_params["sha"])
        if art is None:
            return Response(status_code=404)
        return Response(art[1], media_type=art[0],
                        headers={"Cache-Control": "max-age=31536000, immutable"})

    return Starlette(routes=[
        Route("/", index), Route("/report", report), Route("/api/episode", episode),
        Route("/api/artifact/{sha:str}", artifact),
    ])


def serve(db: str | Path, port: int = 8765) -> None:
    """Run the viewer on 127.0.0.1:`port` until interrupted."""
    import uvicorn

    uvicorn.run(make_app(db), host="127.0.0.1", port=port, log_level="warning")
