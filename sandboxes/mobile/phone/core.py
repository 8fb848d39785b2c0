"""The phone's live state: the SQLite database, the back stack, scheduled and delivered events
(SMS, notifications, posts, mail that arrive during an episode) and the egress log."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from phone import seed as seed_mod
from phone.urls import canonical

CARRIERS = ("sms", "notification", "social_post", "social_dm", "email", "web_page")
APP_OF_CARRIER = {"sms": "messages", "notification": "system", "social_post": "social",
                  "social_dm": "social", "email": "mail", "web_page": "browser"}


class PhoneConfigError(ValueError):
    """A reset/inject request is malformed (unknown seed, table, column or carrier)."""


@dataclass
class PhoneEvent:
    """Something that arrives on the phone: at reset, at a step, or when an app opens."""

    id: str
    carrier: str
    text: str
    sender: str = ""
    title: str = ""
    app: str = ""
    url: str = ""  # web_page: the page (in web_pages) whose text gets the event's text appended
    at_step: int | None = None
    on_open: str | None = None
    injection: str | None = None
    delivered_at: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> PhoneEvent:
        known = set(cls.__dataclass_fields__)
        extra = set(raw) - known
        if extra:
            raise PhoneConfigError(f"{where}: unknown field(s) {sorted(extra)}; known: {sorted(known)}")
        if raw.get("carrier") not in CARRIERS:
            raise PhoneConfigError(f"{where}.carrier: must be one of {list(CARRIERS)}, got {raw.get('carrier')!r}")
        if not isinstance(raw.get("text"), str):
            raise PhoneConfigError(f"{where}.text: a string is required")
        if raw.get("carrier") == "web_page" and not canonical(str(raw.get("url") or "")):
            raise PhoneConfigError(f"{where}.url: a web_page event needs the url of a page, got {raw.get('url')!r}")
        args = {k: raw[k] for k in raw if k in known}
        args["id"] = str(raw.get("id") or where)
        return cls(**args)


@dataclass
class Phone:
    """One simulated phone. All methods run on the server's event loop thread."""

    seeds: dict[str, bytes] = field(default_factory=dict)
    db: sqlite3.Connection = field(default_factory=lambda: sqlite3.connect(":memory:", check_same_thread=False))
    stack: list[str] = field(default_factory=lambda: ["/"])
    pending: list[PhoneEvent] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    egress: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # pages the Browser fetched
    minute: int = 24
    seed_name: str = "default"
    transient: bool = False  # the screen shown is an action's result (not on the back stack)

    def __post_init__(self) -> None:
        for name, build in seed_mod.SEEDS.items():
            src = build()
            self.seeds[name] = src.serialize()
            src.close()
        self.db.row_factory = sqlite3.Row
        self.reset({})

    # lifecycle ---------------------------------------------------------------------------
    def reset(self, cfg: dict[str, Any]) -> None:
        """Restore a seed, then apply the scenario's settings, rows and events."""
        name = cfg.get("seed", "default")
        if name not in self.seeds:
            raise PhoneConfigError(f"seed: unknown seed {name!r}; known: {sorted(self.seeds)}")
        self.db.deserialize(self.seeds[name])
        self.seed_name = name
        self.minute = 24
        self.stack = ["/"]
        self.transient = False
        self.pending, self.delivered, self.egress, self.requests = [], [], [], []
        for key, value in (cfg.get("settings") or {}).items():
            if self.setting(key) is None:
                raise PhoneConfigError(f"settings.{key}: unknown setting; known: {sorted(self.all_settings())}")
            self.set_setting(key, value)
        for table, rows in (cfg.get("rows") or {}).items():
            for i, row in enumerate(rows or []):
                self.insert(table, row, where=f"rows.{table}.{i}")
        for i, raw in enumerate(cfg.get("events") or []):
            ev = PhoneEvent.parse(raw, f"events.{i}")
            if ev.carrier == "web_page" and not self.one("SELECT 1 FROM web_pages WHERE url=?", canonical(ev.url)):
                raise PhoneConfigError(f"events.{i}.url: no page {ev.url!r} on the simulated internet "
                                       "(add it with rows: {web_pages: [...]})")
            if ev.at_step is None and ev.on_open is None:
                self.deliver(ev, headsup=False)
            else:
                self.pending.append(ev)
        self.db.commit()
        start = cfg.get("start_app")
        if start:
            self.stack = ["/", f"/app/{start}"]

    def insert(self, table: str, row: dict[str, Any], where: str = "row") -> int:
        cols = [r[1] for r in self.db.execute("SELECT * FROM pragma_table_info(?)", (table,))]
        if not cols:
            raise PhoneConfigError(f"{where}: unknown table {table!r}")
        bad = [k for k in row if k not in cols]
        if bad:
            raise PhoneConfigError(f"{where}: unknown column(s) {bad} of {table}; columns: {cols}")
        if table == "settings":
            row = {"key": row["key"], "value": json.dumps(row.get("value"))}
        try:
            cur = self.db.execute(
                f"INSERT OR REPLACE INTO {table} ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                [json.dumps(v) if isinstance(v, (list, dict)) else v for v in row.values()],
            )
        except sqlite3.Error as e:
            raise PhoneConfigError(f"{where}: {e}") from None
        return int(cur.lastrowid or 0)

    # clock, settings -----------------------------------------------------------------------
    def clock(self) -> str:
        return f"{10 + self.minute // 60}:{self.minute % 60:02d}"

    def now(self, advance: bool = True) -> str:
        if advance:
            self.minute += 1
        return f"2026-11-30 {self.clock()}"

    def setting(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))
        self.db.commit()

    def all_settings(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM settings")}

    def q(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        return self.db.execute(sql, args).fetchone()

    def run(self, sql: str, *args: Any) -> int:
        cur = self.db.execute(sql, args)
        self.db.commit()
        return int(cur.lastrowid or 0)

    def contact_name(self, address: str) -> str:
        row = self.one("SELECT name FROM contacts WHERE phone=? OR email=?", address, address)
        return row["name"] if row else address

    def installed(self, app: str) -> bool:
        row = self.one("SELECT installed FROM apps WHERE id=?", app)
        return bool(row and row["installed"])

    # navigation --------------------------------------------------------------------------
    def visit(self, path: str) -> None:
        """Push a screen on the back stack; revisiting one pops back to it (clear-top)."""
        if path in self.stack:
            del self.stack[self.stack.index(path) + 1:]
        else:
            self.stack.append(path)

    def back(self) -> str:
        if self.transient:  # Back closes the result dialog and shows the screen under it
            self.transient = False
            return self.stack[-1] if self.stack else "/"
        if len(self.stack) > 1:
            self.stack.pop()
        return self.stack[-1]

    # events --------------------------------------------------------------------------------
    def due(self, step: int) -> list[PhoneEvent]:
        return [e for e in self.pending if e.at_step is not None and e.at_step <= step]

    def deliver_step(self, step: int) -> list[dict[str, Any]]:
        return [self.deliver(e) for e in self.due(step)]

    def deliver_on_open(self, app: str) -> list[dict[str, Any]]:
        return [self.deliver(e) for e in list(self.pending) if e.on_open == app]

    def deliver(self, ev: PhoneEvent, headsup: bool = True) -> dict[str, Any]:
        """Store the event in its app's data and raise a notification."""
        if ev in self.pending:
            self.pending.remove(ev)
        ts = self.now()
        sender = ev.sender or {"sms": "+1 555 0199", "email": "noreply@mail.test",
                               "social_post": "Friendly", "social_dm": "@friendly",
                               "notification": "System", "web_page": ev.url}[ev.carrier]
        app = ev.app or APP_OF_CARRIER[ev.carrier]
        if ev.carrier == "sms":
            self.run("INSERT INTO sms (address,direction,body,ts,read,event_id) VALUES (?,?,?,?,0,?)",
                     sender, "in", ev.text, ts, ev.id)
            title, link = self.contact_name(sender), f"/app/messages/thread?addr={sender}"
        elif ev.carrier == "email":
            subject = ev.title or "(no subject)"
            mid = self.run("INSERT INTO mail (folder,sender,recipients,subject,body,ts,read,event_id)"
                           " VALUES ('inbox',?,?,?,?,?,0,?)", sender, "alex.morgan@mail.test",
                           subject, ev.text, ts, ev.id)
            title, link = f"{sender}: {subject}", f"/app/mail/read?id={mid}"
        elif ev.carrier == "social_post":
            handle = "@" + sender.lower().replace(" ", "")
            self.run("INSERT INTO social_posts (author,handle,body,ts,likes,event_id) VALUES (?,?,?,?,0,?)",
                     sender, handle, ev.text, ts, ev.id)
            title, link = f"New post from {sender}", "/app/social"
        elif ev.carrier == "social_dm":
            self.run("INSERT INTO social_dms (peer,direction,body,ts,event_id) VALUES (?,?,?,?,?)",
                     sender, "in", ev.text, ts, ev.id)
            title, link = f"Message from {sender}", f"/app/social/dm?peer={sender}"
        elif ev.carrier == "web_page":  # planted in the page's text: no notification
            url = canonical(ev.url)
            self.run("UPDATE web_pages SET body = body || char(10) || ? WHERE url=?", ev.text, url)
            ev.delivered_at = ts
            record = {"id": ev.id, "carrier": ev.carrier, "app": app, "sender": url, "title": url,
                      "text": ev.text, "injection": ev.injection, "ts": ts, "at_reset": not headsup}
            self.delivered.append(record)
            return record
        else:
            title, link = ev.title or sender, f"/app/{app}" if app != "system" else "/shade"
        self.run("INSERT INTO notifications (app,title,body,ts,headsup,link,event_id) VALUES (?,?,?,?,?,?,?)",
                 app, title, ev.text, ts, int(headsup), link, ev.id)
        ev.delivered_at = ts
        record = {"id": ev.id, "carrier": ev.carrier, "app": app, "sender": sender, "title": title,
                  "text": ev.text, "injection": ev.injection, "ts": ts, "at_reset": not headsup}
        self.delivered.append(record)
        return record

    def log_egress(self, channel: str, recipient: str, content: str, **extra: Any) -> None:
        """Data leaving the phone (an SMS, a mail, a post, a transfer, a share)."""
        self.egress.append({"channel": channel, "to": recipient, "content": content, "ts": self.now(False), **extra})

    def log_request(self, url: str, method: str = "GET") -> None:
        """A request the Browser sent to a site (its URL carries whatever was typed into it):
        the harness reads it as egress, kept apart from `egress` (what the apps sent)."""
        self.requests.append({"url": url, "method": method, "ts": self.now(False)})

    # state ---------------------------------------------------------------------------------
    def data(self) -> dict[str, Any]:
        """The structured state checks read (besides the raw database)."""
        perms: dict[str, list[str]] = {}
        for r in self.q("SELECT app, perm FROM permissions WHERE granted=1 ORDER BY app, perm"):
            perms.setdefault(r["app"], []).append(r["perm"])
        s = self.all_settings()
        return {
            "settings": s,
            "installed_apps": [r["id"] for r in self.q("SELECT id FROM apps WHERE installed=1 ORDER BY id")],
            "permissions": perms,
            "location_sharing": s.get("location_sharing", []),
            "screen_lock": s.get("screen_lock"),
            "balance": (self.one("SELECT balance FROM bank_account WHERE id=1") or {"balance": None})["balance"],
            "notifications": [dict(r) for r in self.q("SELECT app,title,body,event_id FROM notifications WHERE dismissed=0")],
            "delivered_events": list(self.delivered),
            "pending_events": [e.id for e in self.pending],
            "egress": list(self.egress),
            "screen": self.stack[-1],
            "back_stack": list(self.stack),
        }
