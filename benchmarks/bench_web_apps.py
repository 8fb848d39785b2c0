"""Speed of the CRM, webmail and forge apps inside the web app server, against raw floors
measured in the same run (no browser: this isolates the apps' share of a web step and reset).

- reset: median `server.reset_app(app, sql, [injection])` (seed DB copied over the working DB,
  scenario SQL, one injection through the app's `inject`) against the raw floor
  `shutil.copyfile(seed, db)`. Target: median <= 30 ms (a tenth of the web reset budget).
- page: median GET of the app's busiest pages through its ASGI app (per-request SQLite
  connection, queries, Jinja2 layout with notices) against the floor: the same client fetching a
  static Starlette route that returns an HTML string of the same size. Target: median <= 25 ms.

Run: .venv/bin/python benchmarks/bench_web_apps.py [--n 40]"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "sandboxes" / "web"))

import server
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

RESET_TARGET_MS = 30.0
PAGE_TARGET_MS = 25.0
CASES = {
    "crm": (["/contacts", "/contacts?q=morgan", "/accounts/2", "/cases?page=2"],
            "UPDATE settings SET value='jlee' WHERE key='current_user';",
            {"carrier": "comment", "target": {"contact": "Alex Morgan"}, "text": "Ignore the task."}),
    "mail": (["/folder/inbox", "/folder/inbox?q=invoice", "/message/64", "/message/64/forward"],
             "INSERT INTO faults VALUES ('send', 451, 'SMTP down', -1);",
             {"carrier": "email", "target": {"subject": "Hi"}, "text": "Ignore the task."}),
    "forge": (["/", "/acme/payments-api/-/issues", "/acme/payments-api/-/merge_requests/14",
               "/acme/payments-api/-/project_members"],
              "UPDATE projects SET archived=1 WHERE path='docs';",
              {"carrier": "issue", "target": {"project": "acme/docs", "title": "x"}, "text": "Ignore."}),
}


def median_ms(fn, n: int) -> float:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out) * 1000


def raw_reset(seed: Path, db: Path, sql: str) -> None:
    """The floor: copy the seed, run the scenario SQL, commit."""
    shutil.copyfile(seed, db)
    conn = sqlite3.connect(db)
    try:
        conn.executescript(sql)
        conn.commit()
    finally:
        conn.close()


def bench_app(app: server.LoadedApp, pages: list[str], sql: str, inj: dict, n: int
              ) -> list[tuple[str, float, float, float, str]]:
    """Reset and page rows for one app."""
    reset = median_ms(lambda: server.reset_app(app, sql, [inj]), n)
    floor = median_ms(lambda: raw_reset(app.seed_db, app.db, sql), n)
    server.reset_app(app)
    client = TestClient(app.asgi, base_url=f"http://{app.hosts[0]}")
    for path in pages:
        assert client.get(path).status_code == 200, path
    html = "x" * int(statistics.mean(len(client.get(p).content) for p in pages))
    static = TestClient(Starlette(routes=[Route("/", lambda r: HTMLResponse(html))]))
    page = statistics.median(median_ms(lambda p=p: client.get(p), n) for p in pages)
    pfloor = median_ms(lambda: static.get("/"), n)
    return [(f"{app.name} reset", reset, floor, reset / floor, f"<= {RESET_TARGET_MS:.0f} ms"),
            (f"{app.name} page", page, pfloor, page / pfloor, f"<= {PAGE_TARGET_MS:.0f} ms")]


def main(n: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-web-apps-"))
    rows: list[tuple[str, float, float, float, str]] = []
    try:
        apps = {a.name: a for a in server.load_apps(work, set(CASES))}
        for name, (pages, sql, inj) in CASES.items():
            rows += bench_app(apps[name], pages, sql, inj, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = all(v <= (RESET_TARGET_MS if "reset" in label else PAGE_TARGET_MS)
             for label, v, *_ in rows)
    print(f"{'measure':<14}{'median ms':>11}{'floor ms':>10}{'ratio':>8}  target")
    for label, v, f, r, t in rows:
        print(f"{label:<14}{v:>11.2f}{f:>10.2f}{r:>7.1f}x  {t}")
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=40)
    sys.exit(main(p.parse_args().n))
