"""Web injection targets checked against the app's seed when a scenario loads, not at reset.

A wrong target (forge `project: docs` for `acme/docs`, a shop order or mail message that is not
in the seed) used to fail only when the sandbox was reset, where it looked like an
infrastructure failure and was retried. Here the scenario's SQL and injections are replayed on
an in-memory copy of the app's seed with the app's own `inject` (so what passes here passes at
reset), after checks of the references `inject` would accept silently (a comment on a missing
issue, an unknown author, a generic carrier's `path` naming a missing record)."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from agentsafe.paths import SANDBOXES_DIR

WEB_DIR = SANDBOXES_DIR / "web"


@dataclass(frozen=True)
class TargetProblem:
    """One bad reference: the injection's index (None: the scenario SQL), the target key, why."""

    index: int | None
    key: str | None
    message: str


def did_you_mean(value: Any, known: Iterable[Any]) -> str:
    """' (did you mean 'x'?)' for the closest known value, else a short list of known ones."""
    names = [str(k) for k in known]
    v = str(value)
    close = [n for n in names if n.endswith("/" + v) or n.lower() == v.lower()]
    close = close or difflib.get_close_matches(v, names, n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    shown = ", ".join(repr(n) for n in names[:8])
    return f"; known: {shown}{', ...' if len(names) > 8 else ''}" if names else ""


@cache
def _module(app: str) -> ModuleType | None:
    """The app's own module (sandboxes/web/apps/<app>/app.py), as the app server loads it."""
    path = WEB_DIR / "apps" / app / "app.py"
    if not path.exists():
        return None
    name = f"agentsafe_webapp_{app}"
    if name in sys.modules:
        return sys.modules[name]
    if str(WEB_DIR) not in sys.path:  # apps import their shared helpers as `common.*`
        sys.path.append(str(WEB_DIR))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@cache
def _seed(app: str) -> bytes:
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript((WEB_DIR / "apps" / app / "seed.sql").read_text())
        return conn.serialize()
    finally:
        conn.close()


def _values(conn: sqlite3.Connection, sql: str, *args: Any) -> list[Any]:
    return [r[0] for r in conn.execute(sql, args).fetchall()]


Check = Callable[[sqlite3.Connection, str, dict[str, Any]], list[tuple[str, str]]]


def _user(conn: sqlite3.Connection, target: dict[str, Any]) -> list[tuple[str, str]]:
    if "author" not in target:
        return []
    users = _values(conn, "SELECT username FROM users ORDER BY username")
    if str(target["author"]) in users:
        return []
    return [("author", f"no user {target['author']!r}" + did_you_mean(target["author"], users))]


# ---- forge ---------------------------------------------------------------------------------
def _forge_project(conn: sqlite3.Connection, target: dict[str, Any]) -> int | None:
    full = str(target.get("project", "acme/payments-api"))
    ns, _, path = full.partition("/")
    row = conn.execute("SELECT id FROM projects WHERE namespace=? AND path=?", (ns, path)).fetchone()
    return int(row[0]) if row else None


def _forge_iid(conn: sqlite3.Connection, pid: int, kind: str, key: str,
               target: dict[str, Any]) -> list[tuple[str, str]]:
    table = "issues" if kind == "issue" else "merge_requests"
    iids = _values(conn, f"SELECT iid FROM {table} WHERE project_id=? ORDER BY iid", pid)
    try:
        iid = int(target[key])
    except (TypeError, ValueError):
        return [(key, f"{target[key]!r} is not a number")]
    if iid in iids:
        return []
    label = kind.replace("_", " ")
    return [(key, f"no {label} {iid} in {target.get('project', 'acme/payments-api')}; "
                  f"its {label}s: {', '.join(map(str, iids)) or 'none'}")]


def _forge(conn: sqlite3.Connection, carrier: str, target: dict[str, Any]) -> list[tuple[str, str]]:
    on_project = carrier in ("issue", "merge_request", "comment", "review", "readme") or (
        carrier == "page_text" and "project" in target)
    if not on_project:
        return []
    out = _user(conn, target)
    pid = _forge_project(conn, target)
    if pid is None:
        names = _values(conn, "SELECT namespace || '/' || path FROM projects ORDER BY 1")
        proj = target.get("project", "acme/payments-api")
        return out + [("project", f"no project {proj!r}" + did_you_mean(proj, names))]
    if carrier == "issue" and "merge_request" in target:
        out += _forge_iid(conn, pid, "merge_request", "merge_request", target)
    elif carrier in ("issue", "merge_request") and "iid" in target:
        out += _forge_iid(conn, pid, carrier, "iid", target)
    elif carrier in ("comment", "review"):
        kind = "merge_request" if "merge_request" in target else "issue"
        if kind in target:
            out += _forge_iid(conn, pid, kind, kind, target)
    return out


# ---- crm -----------------------------------------------------------------------------------
def _crm(conn: sqlite3.Connection, carrier: str, target: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def need(key: str, value: Any, known: list[Any], what: str) -> None:
        if str(value) not in {str(k) for k in known}:
            out.append((key, f"no {what} {value!r}" + did_you_mean(value, known)))

    cases = lambda: _values(conn, "SELECT number FROM cases ORDER BY number")
    accounts = lambda: _values(conn, "SELECT name FROM accounts ORDER BY name")
    if carrier == "issue":
        need("case", target.get("case", "CS-1001"), cases(), "case")
    elif carrier == "page_text" and "account" in target:
        if str(target["account"]) not in map(str, _values(conn, "SELECT id FROM accounts")):
            need("account", target["account"], accounts(), "account")
    elif carrier in ("comment", "review"):
        out += _user(conn, target)
        if "case" in target:
            need("case", target["case"], cases(), "case")
        elif "account" in target:
            if str(target["account"]) not in map(str, _values(conn, "SELECT id FROM accounts")):
                need("account", target["account"], accounts(), "account")
        elif "contact_id" in target:
            need("contact_id", target["contact_id"], _values(conn, "SELECT id FROM contacts"),
                 "contact id")
        else:
            who = str(target.get("contact", "Dana Whitfield"))
            names = _values(conn, "SELECT first_name || ' ' || last_name FROM contacts ORDER BY 1")
            emails = _values(conn, "SELECT email FROM contacts")
            if who not in names and who not in emails:
                out.append(("contact", f"no contact named {who!r}" + did_you_mean(who, names)))
    return out


# ---- shop ----------------------------------------------------------------------------------
def _shop(conn: sqlite3.Connection, carrier: str, target: dict[str, Any]) -> list[tuple[str, str]]:
    if carrier == "review":
        key, value, table, what = "product_id", target.get("product_id", 1), "products", "product"
    elif carrier == "comment":
        key, value, table, what = "order_id", target.get("order_id", 1001), "orders", "order"
    else:
        return []
    ids = _values(conn, f"SELECT id FROM {table} ORDER BY id")
    if str(value) in map(str, ids):
        return []
    return [(key, f"no {what} {value!r} in the shop's seed" + did_you_mean(value, ids))]


# ---- mail ----------------------------------------------------------------------------------
def _mail(conn: sqlite3.Connection, carrier: str, target: dict[str, Any]) -> list[tuple[str, str]]:
    folders = ["inbox", "drafts", "sent", "archive", "spam", "trash"]
    if carrier == "email" and "folder" in target and str(target["folder"]) not in folders:
        return [("folder", f"no folder {target['folder']!r}" + did_you_mean(target["folder"], folders))]
    return []


CHECKS: dict[str, Check] = {"forge": _forge, "crm": _crm, "shop": _shop, "mail": _mail}

# Generic carriers' `path`: pages that show one record, and the record they need
# (app -> [(path regex, SQL listing the keys that exist, what)]).
PATHS: dict[str, list[tuple[str, str, str]]] = {
    "mail": [(r"^/message/(\d+)", "SELECT id FROM messages", "message"),
             (r"^/folder/([^/]+)", "SELECT 'inbox' UNION SELECT 'drafts' UNION SELECT 'sent' "
              "UNION SELECT 'archive' UNION SELECT 'spam' UNION SELECT 'trash'", "folder")],
    "shop": [(r"^/orders/(\d+)", "SELECT id FROM orders", "order"),
             (r"^/customers/(\d+)", "SELECT id FROM customers", "customer"),
             (r"^/products/(\d+)", "SELECT id FROM products", "product"),
             (r"^/reviews/(\d+)", "SELECT id FROM reviews", "review")],
    "crm": [(r"^/contacts/(\d+)", "SELECT id FROM contacts", "contact"),
            (r"^/accounts/(\d+)", "SELECT id FROM accounts", "account"),
            (r"^/cases/([^/]+)", "SELECT number FROM cases", "case")],
    "forge": [(r"^/(?!projects/new(?:/|$))([^/]+/[^/]+)(?:/|$)", "SELECT namespace || '/' || path FROM projects",
               "project")],
}
_FORGE_ITEM = re.compile(r"^/([^/]+/[^/]+)/-/(issues|merge_requests)/(\d+)")


def _path_problems(conn: sqlite3.Connection, app: str, path: str) -> str | None:
    for rx, sql, what in PATHS.get(app, []):
        m = re.match(rx, path)
        if m is None:
            continue
        known = [str(v) for v in _values(conn, sql)]
        if m.group(1) not in known:
            return f"path {path!r} shows {what} {m.group(1)!r}, which is not in the app's seed" + (
                did_you_mean(m.group(1), known))
    m = _FORGE_ITEM.match(path) if app == "forge" else None
    if m is not None:
        table = m.group(2)
        iids = _values(conn, f"SELECT t.iid FROM {table} t JOIN projects p ON p.id=t.project_id "
                             "WHERE p.namespace || '/' || p.path = ?", m.group(1))
        if int(m.group(3)) not in iids:
            return (f"path {path!r}: no {table[:-1].replace('_', ' ')} {m.group(3)} in "
                    f"{m.group(1)}; it has {', '.join(map(str, iids)) or 'none'}")
    return None


def target_problems(app: str, sql: str | None,
                    injections: list[tuple[int, str, dict[str, Any], str]]) -> list[TargetProblem]:
    """Replay the scenario's SQL and injections (index, carrier, target, text) on the app's
    seed; every bad reference found, in order (empty: reset will accept them)."""
    mod = _module(app)
    if mod is None:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(_seed(app))
        if sql:
            try:
                conn.executescript(sql)
            except sqlite3.Error as e:
                return [TargetProblem(None, None, f"the scenario SQL fails on the seed: {e}")]
        out: list[TargetProblem] = []
        check = CHECKS.get(app)
        for i, carrier, target, text in injections:
            found = check(conn, carrier, target) if check else []
            out += [TargetProblem(i, k, m) for k, m in found]
            if found:
                continue
            try:
                mod.inject(conn, carrier, target, text)
            except (ValueError, KeyError, TypeError, sqlite3.Error) as e:
                out.append(TargetProblem(i, None, f"{type(e).__name__}: {e}"))
        for i, carrier, target, _ in injections:  # pages of records the injections created count
            if carrier in ("page_text", "hidden_text", "popup") and target.get("path"):
                why = _path_problems(conn, app, str(target["path"]))
                if why:
                    out.append(TargetProblem(i, "path", why))
        return out
    finally:
        conn.close()
