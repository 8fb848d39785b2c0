"""Data apps: Photos and Files (view, share, delete, install a downloaded package), the share
sheet, Notes and Calendar."""

from __future__ import annotations

from itertools import groupby
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.apps_comm import error, resolve_recipient
from phone.ui import app_screen, form, phone_of, redirect, render


# Photos --------------------------------------------------------------------------------------
@app_screen("photos")
async def photos(request: Request) -> Response:
    rows = [dict(r) for r in phone_of(request).q("SELECT * FROM photos WHERE deleted=0 ORDER BY album, taken DESC")]
    albums = [(a, list(g)) for a, g in groupby(rows, key=lambda r: r["album"])]
    return render(request, "photos.html", app="photos", title="Photos", albums=albums)


@app_screen("photos")
async def photo_view(request: Request) -> Response:
    phone = phone_of(request)
    p = phone.one("SELECT * FROM photos WHERE id=? AND deleted=0", request.query_params.get("id", "0"))
    if p is None:
        return redirect("/app/photos")
    return render(request, "detail.html", app="photos", title=p["title"],
                  picture={"color": p["color"], "desc": f"Photo: {p['title']}", "icon": "🖼️"},
                  lines=[f"{p['title']} · {p['taken']}", {"text": f"Album: {p['album']} · 📍 {p['location']}", "klass": "muted"}],
                  actions=[{"label": "Share", "href": f"/app/share?type=photo&id={p['id']}", "primary": True},
                           {"label": "Post to Social", "href": f"/app/social/new?photo={p['id']}"},
                           {"label": "Delete", "post": "/do/photos/delete", "data": {"id": p["id"]}, "danger": True}])


async def do_photo_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("UPDATE photos SET deleted=1 WHERE id=?", f.get("id", "0"))
    return redirect("/app/photos")


# Files ---------------------------------------------------------------------------------------
@app_screen("files")
async def files(request: Request) -> Response:
    items: list[dict] = []
    folder = None
    for r in phone_of(request).q("SELECT * FROM files WHERE deleted=0 ORDER BY folder, name"):
        if r["folder"] != folder:
            folder = r["folder"]
            items.append({"section": folder})
        icon = "📦" if r["name"].endswith(".apk") else "📄"
        items.append({"href": f"/app/files/view?id={r['id']}", "title": r["name"], "sub": r["size"], "icon": icon})
    return render(request, "list.html", app="files", title="Files", items=items)


@app_screen("files")
async def file_view(request: Request) -> Response:
    phone = phone_of(request)
    f = phone.one("SELECT * FROM files WHERE id=? AND deleted=0", request.query_params.get("id", "0"))
    if f is None:
        return redirect("/app/files")
    actions = []
    if f["name"].endswith(".apk"):
        actions.append({"label": "Install", "post": "/do/files/install", "data": {"id": f["id"]}, "primary": True})
    actions += [{"label": "Share", "href": f"/app/share?type=file&id={f['id']}", "primary": not actions},
                {"label": "Delete", "post": "/do/files/delete", "data": {"id": f["id"]}, "danger": True}]
    return render(request, "detail.html", app="files", title=f["name"],
                  lines=[{"text": f"{f['folder']} · {f['size']}", "klass": "muted"}, f["content"]], actions=actions)


async def do_file_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("UPDATE files SET deleted=1 WHERE id=?", f.get("id", "0"))
    return redirect("/app/files")


async def do_file_install(request: Request) -> Response:
    """Install a downloaded package: only when 'Install unknown apps' is allowed."""
    phone = phone_of(request)
    f = await form(request)
    row = phone.one("SELECT * FROM files WHERE id=?", f.get("id", "0"))
    app = phone.one("SELECT * FROM apps WHERE source='unknown' AND ? LIKE replace(label,' ','_') || '%'", row["name"] if row else "")
    if row is None or app is None:
        return error(request, "Can't install", "This package is damaged.", "files")
    if not phone.setting("unknown_sources"):
        return render(request, "detail.html", app="files", title="Install blocked", alert="Install blocked: unknown sources are not allowed",
                      warn="For your security, your phone currently isn't allowed to install unknown apps from this source. "
                           "You can change this in Settings › Security › Install unknown apps.",
                      lines=[], actions=[{"label": "Settings", "href": "/app/settings/unknown"},
                                         {"label": "Cancel", "href": "/nav/back", "primary": True}])
    return render(request, "detail.html", app="files", title=f"Install {app['label']}?",
                  warn=f"{app['label']} (unknown developer) asks for: {app['requested'].replace(',', ', ')}.",
                  lines=[], actions=[{"label": "Install", "post": "/do/store/install", "data": {"app": app["id"], "confirm": 1},
                                      "primary": True}, {"label": "Cancel", "href": "/nav/back"}])


# Share sheet -----------------------------------------------------------------------------------
def _item(phone, typ: str, iid: str):
    table = {"photo": "photos", "file": "files", "contact": "contacts", "note": "notes"}.get(typ)
    if table is None:
        return None
    return phone.one(f"SELECT * FROM {table} WHERE id=?", iid)


def _item_name(typ: str, row) -> str:
    return row["title"] if typ in ("photo", "note") else row["name"]


async def share(request: Request) -> Response:
    phone = phone_of(request)
    typ, iid = request.query_params.get("type", ""), request.query_params.get("id", "0")
    row = _item(phone, typ, iid)
    if row is None:
        return redirect("/nav/back")
    name = _item_name(typ, row)
    contacts = phone.q("SELECT * FROM contacts ORDER BY favorite DESC, name")
    actions = [{"label": f"Send to {c['name']}", "post": "/do/share", "data": {"type": typ, "id": iid, "to": c["phone"]}}
               for c in contacts]
    actions.append({"label": "✉️ Mail", "href": f"/app/mail/compose?attach={quote(name)}&subject={quote(name)}"})
    if typ == "photo":
        actions.append({"label": "🌐 Social post", "href": f"/app/social/new?photo={iid}"})
    return render(request, "detail.html", title=f"Share “{name}”", package="com.android.intentresolver",
                  lines=["Send with Messages, or choose another app:"], actions=actions)


async def do_share(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    typ, iid = str(f.get("type", "")), str(f.get("id", "0"))
    row = _item(phone, typ, iid)
    to = resolve_recipient(phone, str(f.get("to", "")))
    if row is None or to is None:
        return error(request, "Not shared", "Nothing to share or no recipient.", "messages")
    name = _item_name(typ, row)
    if typ == "contact":
        body = f"[Contact] {row['name']}: {row['phone']} {row['email']} {row['address']}".strip()
    elif typ == "note":
        body = f"[Note] {row['title']}: {row['body']}"
    else:
        body = f"[{typ.capitalize()}] {name}"
    phone.run("INSERT INTO sms (address,direction,body,ts,read) VALUES (?,?,?,?,1)", to, "out", body, phone.now())
    phone.run("INSERT INTO shares (item_type,item_id,item_name,via,recipient,ts) VALUES (?,?,?,?,?,?)",
              typ, iid, name, "messages", to, phone.now(False))
    phone.log_egress("share", to, body, item_type=typ, item_id=int(iid))
    return redirect(f"/app/messages/thread?addr={quote(to)}")


# Notes -----------------------------------------------------------------------------------------
@app_screen("notes")
async def notes(request: Request) -> Response:
    items = [{"href": f"/app/notes/edit?id={r['id']}", "title": r["title"], "sub": r["body"].replace("\n", " · "), "icon": "📝"}
             for r in phone_of(request).q("SELECT * FROM notes ORDER BY updated DESC")]
    return render(request, "list.html", app="notes", title="Notes", items=items,
                  fab={"href": "/app/notes/edit", "desc": "New note"})


@app_screen("notes")
async def note_edit(request: Request) -> Response:
    phone = phone_of(request)
    nid = request.query_params.get("id", "")
    n = phone.one("SELECT * FROM notes WHERE id=?", nid) if nid else None
    buttons = [{"label": "Save", "name": "op", "value": "save"}]
    if n:
        buttons.append({"label": "Delete", "name": "op", "value": "delete", "primary": False, "danger": True})
    return render(request, "form.html", app="notes", title="Edit note" if n else "New note", action="/do/notes/save",
                  hidden={"id": nid}, fields=[{"name": "title", "hint": "Title", "value": n["title"] if n else ""},
                                              {"name": "body", "hint": "Note", "value": n["body"] if n else "", "multiline": True}],
                  buttons=buttons, actions=[{"label": "Share note", "href": f"/app/share?type=note&id={nid}"}] if n else [])


async def do_note_save(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    nid = str(f.get("id", ""))
    if f.get("op") == "delete":
        phone.run("DELETE FROM notes WHERE id=?", nid)
    elif nid:
        phone.run("UPDATE notes SET title=?, body=?, updated=? WHERE id=?", f.get("title", ""), f.get("body", ""), phone.now(), nid)
    else:
        if not str(f.get("title", "")).strip() and not str(f.get("body", "")).strip():
            return error(request, "Not saved", "The note is empty.", "notes")
        phone.run("INSERT INTO notes (title,body,updated) VALUES (?,?,?)", f.get("title", "") or "Untitled", f.get("body", ""), phone.now())
    return redirect("/app/notes")


# Calendar ----------------------------------------------------------------------------------------
@app_screen("calendar")
async def calendar(request: Request) -> Response:
    items: list[dict] = []
    day = None
    for r in phone_of(request).q("SELECT * FROM calendar ORDER BY date, start"):
        if r["date"] != day:
            day = r["date"]
            items.append({"section": day})
        items.append({"href": f"/app/calendar/view?id={r['id']}", "title": r["title"],
                      "sub": f"{r['start']} · {r['location']}", "icon": "📅"})
    return render(request, "list.html", app="calendar", title="Calendar", items=items,
                  fab={"href": "/app/calendar/new", "desc": "New event"})


@app_screen("calendar")
async def cal_view(request: Request) -> Response:
    phone = phone_of(request)
    e = phone.one("SELECT * FROM calendar WHERE id=?", request.query_params.get("id", "0"))
    if e is None:
        return redirect("/app/calendar")
    return render(request, "detail.html", app="calendar", title="Event",
                  lines=[{"text": e["title"], "klass": "big"}, f"{e['date']} {e['start']}", f"📍 {e['location']}", e["notes"]],
                  actions=[{"label": "Delete event", "post": "/do/calendar/delete", "data": {"id": e["id"]}, "danger": True}])


@app_screen("calendar")
async def cal_new(request: Request) -> Response:
    return render(request, "form.html", app="calendar", title="New event", action="/do/calendar/add",
                  fields=[{"name": "title", "hint": "Title"}, {"name": "date", "hint": "Date (YYYY-MM-DD)"},
                          {"name": "start", "hint": "Start time (HH:MM)"}, {"name": "location", "hint": "Location"}],
                  buttons=[{"label": "Save"}])


async def do_cal_add(request: Request) -> Response:
    import re

    phone = phone_of(request)
    f = await form(request)
    if not str(f.get("title", "")).strip() or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(f.get("date", "")).strip()):
        return error(request, "Not saved", "An event needs a title and a date like 2026-12-24.", "calendar")
    phone.run("INSERT INTO calendar (title,date,start,location) VALUES (?,?,?,?)", f["title"].strip(), f["date"].strip(),
              str(f.get("start", "")).strip(), str(f.get("location", "")).strip())
    return redirect("/app/calendar")


async def do_cal_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("DELETE FROM calendar WHERE id=?", f.get("id", "0"))
    return redirect("/app/calendar")


routes = [
    Route("/app/photos", photos), Route("/app/photos/view", photo_view),
    Route("/do/photos/delete", do_photo_delete, methods=["POST"]),
    Route("/app/files", files), Route("/app/files/view", file_view),
    Route("/do/files/delete", do_file_delete, methods=["POST"]),
    Route("/do/files/install", do_file_install, methods=["POST"]),
    Route("/app/share", share), Route("/do/share", do_share, methods=["POST"]),
    Route("/app/notes", notes), Route("/app/notes/edit", note_edit), Route("/do/notes/save", do_note_save, methods=["POST"]),
    Route("/app/calendar", calendar), Route("/app/calendar/view", cal_view), Route("/app/calendar/new", cal_new),
    Route("/do/calendar/add", do_cal_add, methods=["POST"]), Route("/do/calendar/delete", do_cal_delete, methods=["POST"]),
]
