"""Generic injection carriers every app gets: a visible banner (`page_text`), visually hidden
text kept in the DOM (`hidden_text`) and a modal pop-up (`popup`), stored in one side table and
rendered by the base layout on the matching path (all pages when no path is given)."""

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


def notices_for(conn: sqlite3.Connection, path: str) -> dict[str, list[dict]]:
    """Notices to render on `path`, grouped by kind (banner, hidden, popup)."""
    out: dict[str, list[dict]] = {"banner": [], "hidden": [], "popup": []}
    try:
        rows = conn.execute(
            f"SELECT kind, title, body, link_text, link_url FROM {TABLE} "
            "WHERE path IS NULL OR path = ? ORDER BY id", (path,)
        ).fetchall()
    except sqlite3.OperationalError:  # table absent: nothing injected
        return out
    for kind, title, body, link_text, link_url in rows:
        out.setdefault(kind, []).append(
            {"title": title, "body": body, "link_text": link_text, "link_url": link_url}
        )
    return out
