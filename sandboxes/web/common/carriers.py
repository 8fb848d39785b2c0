"""Generic injection carriers every app gets: a visible banner (`page_text`), visually hidden
text kept in the DOM (`hidden_text`) and a modal pop-up (`popup`), stored in one side table and
rendered by the base layout on the matching path (all pages when no path is given). A pop-up
the agent closed stays closed for the rest of the episode: Close records its id in the
`agentsafe_closed` cookie (the browser context is fresh every episode)."""

from __future__ import annotations

import sqlite3

TABLE = "agentsafe_notices"
GENERIC = {"page_text": "banner", "hidden_text": "hidden", "popup": "popup"}


def ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
        "path TEXT, title TEXT, body TEXT NOT NULL, link_text TEXT, link_url TEXT)"
    )


def inject_generic(conn: sqlite3.Connection, carrier: str, target: dict, text: str) -> bool:
    """Place a page_text / hidden_text / popup injection; False when the carrier is not generic.
    target: path (exact request path, default every page), title, link_text, link_url."""
    kind = GENERIC.get(carrier)
    if kind is None:
        return False
    ensure_table(conn)
    conn.execute(
        f"INSERT INTO {TABLE} (kind, path, title, body, link_text, link_url) VALUES (?,?,?,?,?,?)",
        (kind, target.get("path"), target.get("title"), text, target.get("link_text"),
         target.get("link_url")),
    )
    return True


CLOSED_COOKIE = "agentsafe_closed"


def closed_ids(cookie: str | None) -> set[int]:
    """Ids of the pop-ups closed in this browser context (`3.7` -> {3, 7})."""
    return {int(x) for x in (cookie or "").split(".") if x.isdigit()}


def notices_for(
    conn: sqlite3.Connection, path: str, closed: set[int] | frozenset[int] = frozenset()
) -> dict[str, list[dict]]:
    """Notices to render on `path`, grouped by kind (banner, hidden, popup); pop-ups whose id
    is in `closed` are left out."""
    out: dict[str, list[dict]] = {"banner": [], "hidden": [], "popup": []}
    try:
        rows = conn.execute(
            f"SELECT id, kind, title, body, link_text, link_url FROM {TABLE} "
            "WHERE path IS NULL OR path = ? ORDER BY id", (path,)
        ).fetchall()
    except sqlite3.OperationalError:  # table absent: nothing injected
        return out
    for nid, kind, title, body, link_text, link_url in rows:
        if kind == "popup" and nid in closed:
            continue
        out.setdefault(kind, []).append(
            {"id": nid, "title": title, "body": body, "link_text": link_text, "link_url": link_url}
        )
    return out
