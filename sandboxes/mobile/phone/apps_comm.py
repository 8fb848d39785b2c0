"""Communication apps: Messages (threads, send, forward), Contacts, Phone (dialer, call log),
Mail and Social (feed, posts, comments, direct messages)."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.core import Phone
from phone.ui import app_screen, as_list, form, phone_of, redirect, render

PALETTE = ["#6750a4", "#00897b", "#e8710a", "#1e88e5", "#c2185b", "#5e35b1", "#43a047", "#8e24aa"]


def color_for(name: str) -> str:
    return PALETTE[sum(map(ord, name)) % len(PALETTE)]


def resolve_recipient(phone: Phone, token: str) -> str | None:
    """A contact name (case-insensitive) or a phone number -> the number to send to."""
    token = token.strip()
    row = phone.one("SELECT phone FROM contacts WHERE lower(name)=lower(?) OR phone=?", token, token)
    if row:
        return row["phone"]
    return token if re.fullmatch(r"\+?[\d ()\-]{3,20}", token) else None


def error(request: Request, title: str, message: str, app: str) -> Response:
    return render(request, "detail.html", app=app, title=title, warn=message, lines=[], alert=f"{title}: {message}",
                  actions=[{"label": "OK", "href": "/nav/back", "primary": True}])


# Messages ------------------------------------------------------------------------------------
@app_screen("messages")
async def messages(request: Request) -> Response:
    phone = phone_of(request)
    items = []
    for r in phone.q("SELECT address, body, ts, MIN(read) AS allread FROM sms s WHERE id IN "
                     "(SELECT MAX(id) FROM sms GROUP BY address) GROUP BY address ORDER BY MAX(id) DESC"):
        name = phone.contact_name(r["address"])
        items.append({"href": f"/app/messages/thread?addr={quote(r['address'])}", "title": name,
                      "sub": r["body"], "avatar": color_for(name), "unread": not r["allread"]})
    return render(request, "list.html", app="messages", title="Messages", items=items,
                  fab={"href": "/app/messages/new", "desc": "Start chat"}, back=True)


def _thread(request: Request, addr: str, sheet: dict | None = None) -> Response:
    phone = phone_of(request)
    phone.run("UPDATE sms SET read=1 WHERE address=?", addr)
    bubbles = [{"dir": r["direction"], "body": r["body"], "ts": r["ts"][11:],
                "long": f"/app/messages/msg?id={r['id']}"}
               for r in phone.q("SELECT * FROM sms WHERE address=? ORDER BY id", addr)]
    return render(request, "thread.html", app="messages", title=phone.contact_name(addr),
                  top=addr, bubbles=bubbles, action="/do/messages/send", hidden={"to": addr},
                  hint="Text message", send_desc="Send SMS", sheet=sheet,
                  bar_actions=[{"href": f"/do/phone/dial?number={quote(addr)}", "desc": "Call", "icon": "📞"}])


@app_screen("messages")
async def thread(request: Request) -> Response:
    return _thread(request, request.query_params.get("addr", ""))


@app_screen("messages")
async def message_menu(request: Request) -> Response:
    phone = phone_of(request)
    m = phone.one("SELECT * FROM sms WHERE id=?", request.query_params.get("id", "0"))
    if m is None:
        return redirect("/app/messages")
    addr = quote(m["address"])
    sheet = {"title": "Message options", "close": f"/app/messages/thread?addr={addr}", "actions": [
        {"label": "Forward", "href": f"/app/messages/forward?id={m['id']}"},
        {"label": "Copy text", "post": "/do/messages/copy", "data": {"id": m["id"]}},
        {"label": "Delete", "post": "/do/messages/delete", "data": {"id": m["id"]}, "danger": True},
    ]}
    return _thread(request, m["address"], sheet)


@app_screen("messages")
async def forward(request: Request) -> Response:
    phone = phone_of(request)
    m = phone.one("SELECT * FROM sms WHERE id=?", request.query_params.get("id", "0"))
    if m is None:
        return redirect("/app/messages")
    return render(request, "form.html", app="messages", title="Forward message", action="/do/messages/send",
                  intro=[f"“{m['body']}”"], fields=[
                      {"name": "to", "hint": "To: name or number (comma-separated for several)"},
                      {"name": "body", "hint": "Message", "value": m["body"], "multiline": True}],
                  hidden={"forwarded_from": m["id"]}, buttons=[{"label": "Send", "desc": "Send SMS"}])


@app_screen("messages")
async def new_message(request: Request) -> Response:
    return render(request, "form.html", app="messages", title="New conversation", action="/do/messages/send",
                  fields=[{"name": "to", "hint": "To: name or number (comma-separated for several)",
                           "value": request.query_params.get("to", "")},
                          {"name": "body", "hint": "Text message", "multiline": True,
                           "value": request.query_params.get("body", "")}],
                  buttons=[{"label": "Send", "desc": "Send SMS"}])


async def do_send_sms(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    body = str(f.get("body", "")).strip()
    tokens = [t for t in re.split(r"[,;]", str(f.get("to", ""))) if t.strip()]
    if not tokens:
        return error(request, "Not sent", "Add a recipient first.", "messages")
    if not body:
        return error(request, "Not sent", "The message is empty.", "messages")
    numbers = []
    for t in tokens:
        n = resolve_recipient(phone, t)
        if n is None:
            return error(request, "Not sent", f"Unknown recipient “{t.strip()}”: not a contact or a phone number.", "messages")
        numbers.append(n)
    for n in numbers:
        phone.run("INSERT INTO sms (address,direction,body,ts,read) VALUES (?,?,?,?,1)", n, "out", body, phone.now())
        phone.log_egress("sms", n, body)
    return redirect(f"/app/messages/thread?addr={quote(numbers[0])}" if len(numbers) == 1 else "/app/messages")


async def do_delete_sms(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    m = phone.one("SELECT address FROM sms WHERE id=?", f.get("id", "0"))
    phone.run("DELETE FROM sms WHERE id=?", f.get("id", "0"))
    return redirect(f"/app/messages/thread?addr={quote(m['address'])}" if m else "/app/messages")


async def do_copy_sms(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    m = phone.one("SELECT * FROM sms WHERE id=?", f.get("id", "0"))
    if m:
        phone.set_setting("clipboard", m["body"])
        return redirect(f"/app/messages/thread?addr={quote(m['address'])}")
    return redirect("/app/messages")


# Contacts ------------------------------------------------------------------------------------
@app_screen("contacts")
async def contacts(request: Request) -> Response:
    phone = phone_of(request)
    items = [{"href": f"/app/contacts/view?id={r['id']}", "title": r["name"], "sub": r["phone"],
              "avatar": color_for(r["name"])} for r in phone.q("SELECT * FROM contacts ORDER BY name")]
    return render(request, "list.html", app="contacts", title="Contacts", items=items,
                  fab={"href": "/app/contacts/new", "desc": "Create contact"})


@app_screen("contacts")
async def contact_view(request: Request) -> Response:
    phone = phone_of(request)
    c = phone.one("SELECT * FROM contacts WHERE id=?", request.query_params.get("id", "0"))
    if c is None:
        return redirect("/app/contacts")
    lines = [{"text": c["name"], "klass": "big"}, f"Phone: {c['phone']}"]
    lines += [f"Email: {c['email']}"] if c["email"] else []
    lines += [f"Address: {c['address']}"] if c["address"] else []
    lines += [f"Notes: {c['notes']}"] if c["notes"] else []
    return render(request, "detail.html", app="contacts", title="Contact", lines=lines, actions=[
        {"label": "Call", "href": f"/do/phone/dial?number={quote(c['phone'])}", "primary": True},
        {"label": "Message", "href": f"/app/messages/thread?addr={quote(c['phone'])}"},
        {"label": "Share contact", "href": f"/app/share?type=contact&id={c['id']}"},
        {"label": "Delete contact", "post": "/do/contacts/delete", "data": {"id": c["id"]}, "danger": True},
    ])


@app_screen("contacts")
async def contact_new(request: Request) -> Response:
    return render(request, "form.html", app="contacts", title="Create contact", action="/do/contacts/add",
                  fields=[{"name": "name", "hint": "Name"}, {"name": "phone", "hint": "Phone", "type": "tel"},
                          {"name": "email", "hint": "Email"}], buttons=[{"label": "Save"}])


async def do_contact_add(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    if not str(f.get("name", "")).strip():
        return error(request, "Not saved", "A contact needs a name.", "contacts")
    cid = phone.run("INSERT INTO contacts (name,phone,email) VALUES (?,?,?)", f["name"].strip(),
                    str(f.get("phone", "")).strip(), str(f.get("email", "")).strip())
    return redirect(f"/app/contacts/view?id={cid}")


async def do_contact_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("DELETE FROM contacts WHERE id=?", f.get("id", "0"))
    return redirect("/app/contacts")


# Phone -----------------------------------------------------------------------------------------
@app_screen("phone")
async def dialer(request: Request) -> Response:
    phone = phone_of(request)
    items = [{"section": "Recents"}]
    icons = {"in": "↙", "out": "↗", "missed": "✗"}
    for r in phone.q("SELECT * FROM calls ORDER BY id DESC"):
        items.append({"href": f"/do/phone/dial?number={quote(r['number'])}", "title": phone.contact_name(r["number"]),
                      "sub": f"{icons[r['direction']]} {r['direction']} · {r['ts'][5:]}", "avatar": color_for(r["number"])})
    return render(request, "list.html", app="phone", title="Phone", items=items,
                  top_actions=[{"label": "Keypad", "href": "/app/phone/keypad", "primary": True}])


@app_screen("phone")
async def keypad(request: Request) -> Response:
    return render(request, "form.html", app="phone", title="Keypad", action="/do/phone/call",
                  fields=[{"name": "number", "hint": "Enter a number", "type": "tel",
                           "value": request.query_params.get("number", "")}],
                  buttons=[{"label": "Call", "desc": "Call"}])


async def do_dial(request: Request) -> Response:
    return redirect(f"/app/phone/keypad?number={quote(request.query_params.get('number', ''))}")


async def do_call(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    number = resolve_recipient(phone, str(f.get("number", "")))
    if not number:
        return error(request, "Call failed", "Enter a valid number.", "phone")
    phone.run("INSERT INTO calls (number,direction,ts,duration) VALUES (?,?,?,?)", number, "out", phone.now(), 60)
    return render(request, "detail.html", app="phone", title="Call", lines=[
        {"text": phone.contact_name(number), "klass": "big"}, "Call ended · 1:00"],
        actions=[{"label": "Done", "href": "/app/phone", "primary": True}])


# Mail ----------------------------------------------------------------------------------------
@app_screen("mail")
async def mail(request: Request) -> Response:
    phone = phone_of(request)
    folder = request.query_params.get("folder", "inbox")
    items = [{"href": f"/app/mail/read?id={r['id']}", "title": (r["sender"] if folder == "inbox" else "To: " + r["recipients"]).split(" <")[0],
              "sub": f"{r['subject']} — {r['body'][:60]}", "avatar": color_for(r["sender"]), "unread": not r["read"]}
             for r in phone.q("SELECT * FROM mail WHERE folder=? ORDER BY id DESC", folder)]
    tabs = [{"href": "/app/mail", "label": "Inbox", "active": folder == "inbox"},
            {"href": "/app/mail?folder=sent", "label": "Sent", "active": folder == "sent"}]
    return render(request, "list.html", app="mail", title="Inbox" if folder == "inbox" else "Sent", items=items, tabs=tabs,
                  fab={"href": "/app/mail/compose", "desc": "Compose", "icon": "✎"})


@app_screen("mail")
async def mail_read(request: Request) -> Response:
    phone = phone_of(request)
    m = phone.one("SELECT * FROM mail WHERE id=?", request.query_params.get("id", "0"))
    if m is None:
        return redirect("/app/mail")
    phone.run("UPDATE mail SET read=1 WHERE id=?", m["id"])
    lines = [{"text": m["subject"], "klass": "big"}, f"From: {m['sender']}", f"To: {m['recipients']}",
             {"text": m["ts"], "klass": "muted"}, m["body"]]
    if m["attachment"]:
        lines.append(f"📎 {m['attachment']}")
    return render(request, "detail.html", app="mail", title="Mail", lines=lines, actions=[
        {"label": "Reply", "href": f"/app/mail/compose?reply={m['id']}", "primary": True},
        {"label": "Forward", "href": f"/app/mail/compose?fwd={m['id']}"},
        {"label": "Delete", "post": "/do/mail/delete", "data": {"id": m["id"]}, "danger": True}])


@app_screen("mail")
async def mail_compose(request: Request) -> Response:
    phone = phone_of(request)
    qp = request.query_params
    to, subject, body, attach = qp.get("to", ""), qp.get("subject", ""), qp.get("body", ""), qp.get("attach", "")
    if qp.get("reply") and (m := phone.one("SELECT * FROM mail WHERE id=?", qp["reply"])):
        to = re.sub(r".*<(.*)>", r"\1", m["sender"])
        subject = "Re: " + m["subject"]
    if qp.get("fwd") and (m := phone.one("SELECT * FROM mail WHERE id=?", qp["fwd"])):
        subject = "Fwd: " + m["subject"]
        body = f"\n\n---------- Forwarded message ----------\nFrom: {m['sender']}\n{m['body']}"
    return render(request, "form.html", app="mail", title="Compose", action="/do/mail/send",
                  intro=[f"📎 Attachment: {attach}"] if attach else [],
                  hidden={"attachment": attach} if attach else {},
                  fields=[{"name": "to", "hint": "To", "value": to}, {"name": "subject", "hint": "Subject", "value": subject},
                          {"name": "body", "hint": "Compose email", "value": body, "multiline": True}],
                  buttons=[{"label": "Send", "desc": "Send email"}])


async def do_mail_send(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    to = str(f.get("to", "")).strip()
    if not re.fullmatch(r"[^@\s,]+@[^@\s,]+(\s*,\s*[^@\s,]+@[^@\s,]+)*", to):
        return error(request, "Not sent", f"“{to}” is not a valid email address.", "mail")
    att = str(f.get("attachment", "")) or None
    phone.run("INSERT INTO mail (folder,sender,recipients,subject,body,ts,read,attachment) VALUES ('sent',?,?,?,?,?,1,?)",
              "alex.morgan@mail.test", to, str(f.get("subject", "")), str(f.get("body", "")), phone.now(), att)
    phone.log_egress("email", to, f"{f.get('subject', '')}\n{f.get('body', '')}", attachment=att)
    return redirect("/app/mail?folder=sent")


async def do_mail_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("DELETE FROM mail WHERE id=?", f.get("id", "0"))
    return redirect("/app/mail")


# Social --------------------------------------------------------------------------------------
def _tabs(active: str) -> list[dict]:
    return [{"href": "/app/social", "label": "Feed", "active": active == "feed"},
            {"href": "/app/social/dms", "label": "Messages", "active": active == "dms"}]


@app_screen("social")
async def social(request: Request) -> Response:
    phone = phone_of(request)
    items = []
    for p in phone.q("SELECT p.*, (SELECT COUNT(*) FROM social_comments c WHERE c.post_id=p.id) AS n FROM social_posts p ORDER BY p.ts DESC, p.id DESC"):
        items.append({"href": f"/app/social/post?id={p['id']}", "title": f"{p['author']} {p['handle']}",
                      "sub": f"{p['body']} · ♥ {p['likes']} · 💬 {p['n']}", "avatar": color_for(p["author"])})
    return render(request, "list.html", app="social", title="Social", items=items, tabs=_tabs("feed"),
                  fab={"href": "/app/social/new", "desc": "New post", "icon": "✎"})


@app_screen("social")
async def social_post(request: Request) -> Response:
    phone = phone_of(request)
    p = phone.one("SELECT * FROM social_posts WHERE id=?", request.query_params.get("id", "0"))
    if p is None:
        return redirect("/app/social")
    lines = [{"text": f"{p['author']} {p['handle']} · {p['ts'][5:]}", "klass": "muted"}, p["body"]]
    if p["photo_id"] and (ph := phone.one("SELECT title FROM photos WHERE id=?", p["photo_id"])):
        lines.append(f"🖼️ Photo: {ph['title']}")
    lines.append({"text": f"♥ {p['likes']} likes", "klass": "muted"})
    for c in phone.q("SELECT * FROM social_comments WHERE post_id=? ORDER BY id", p["id"]):
        lines.append(f"💬 {c['author']}: {c['body']}")
    actions = [{"label": "Unlike" if p["liked"] else "Like", "post": "/do/social/like", "data": {"id": p["id"]}},
               {"label": "Comment", "href": f"/app/social/comment?id={p['id']}", "primary": True}]
    if p["mine"]:
        actions.append({"label": "Delete post", "post": "/do/social/delete", "data": {"id": p["id"]}, "danger": True})
    return render(request, "detail.html", app="social", title="Post", lines=lines, actions=actions)


@app_screen("social")
async def social_comment(request: Request) -> Response:
    pid = request.query_params.get("id", "0")
    return render(request, "form.html", app="social", title="Comment", action="/do/social/comment", hidden={"id": pid},
                  fields=[{"name": "body", "hint": "Add a comment…", "multiline": True}], buttons=[{"label": "Post comment"}])


@app_screen("social")
async def social_new(request: Request) -> Response:
    phone = phone_of(request)
    photo = request.query_params.get("photo", "")
    intro = []
    if photo and (ph := phone.one("SELECT title FROM photos WHERE id=?", photo)):
        intro = [f"🖼️ Attached photo: {ph['title']}"]
    return render(request, "form.html", app="social", title="New post", action="/do/social/post",
                  hidden={"photo": photo} if photo else {}, intro=intro, outro=["Posts are public: anyone can see them."],
                  fields=[{"name": "body", "hint": "What's happening?", "multiline": True,
                           "value": request.query_params.get("body", "")}], buttons=[{"label": "Post"}])


async def do_social_post(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    body = str(f.get("body", "")).strip()
    photo = int(f["photo"]) if str(f.get("photo", "")).isdigit() else None
    if not body and photo is None:
        return error(request, "Not posted", "Write something first.", "social")
    phone.run("INSERT INTO social_posts (author,handle,body,ts,likes,mine,photo_id) VALUES (?,?,?,?,0,1,?)",
              "Alex Morgan", "@alexm", body, phone.now(), photo)
    phone.log_egress("social_post", "public", body, photo_id=photo)
    if photo is not None:
        ph = phone.one("SELECT title FROM photos WHERE id=?", photo)
        phone.run("INSERT INTO shares (item_type,item_id,item_name,via,recipient,ts) VALUES ('photo',?,?,?,?,?)",
                  photo, ph["title"] if ph else "", "social", "public", phone.now(False))
    return redirect("/app/social")


async def do_social_comment(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    body = str(f.get("body", "")).strip()
    if not body:
        return error(request, "Not posted", "The comment is empty.", "social")
    phone.run("INSERT INTO social_comments (post_id,author,body,ts,mine) VALUES (?,?,?,?,1)", f.get("id", "0"),
              "Alex Morgan", body, phone.now())
    phone.log_egress("social_comment", "public", body, post_id=f.get("id"))
    return redirect(f"/app/social/post?id={f.get('id', '0')}")


async def do_social_like(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("UPDATE social_posts SET liked=1-liked, likes=likes+CASE liked WHEN 1 THEN -1 ELSE 1 END WHERE id=?",
                          f.get("id", "0"))
    return redirect(f"/app/social/post?id={f.get('id', '0')}")


async def do_social_delete(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("DELETE FROM social_posts WHERE id=? AND mine=1", f.get("id", "0"))
    return redirect("/app/social")


@app_screen("social")
async def social_dms(request: Request) -> Response:
    phone = phone_of(request)
    items = [{"href": f"/app/social/dm?peer={quote(r['peer'])}", "title": r["peer"], "sub": r["body"],
              "avatar": color_for(r["peer"])}
             for r in phone.q("SELECT * FROM social_dms WHERE id IN (SELECT MAX(id) FROM social_dms GROUP BY peer) ORDER BY id DESC")]
    return render(request, "list.html", app="social", title="Messages", items=items, tabs=_tabs("dms"),
                  fab={"href": "/app/social/dmnew", "desc": "New message", "icon": "✎"})


@app_screen("social")
async def social_dm(request: Request) -> Response:
    phone = phone_of(request)
    peer = request.query_params.get("peer", "")
    bubbles = [{"dir": r["direction"], "body": r["body"], "ts": r["ts"][11:]}
               for r in phone.q("SELECT * FROM social_dms WHERE peer=? ORDER BY id", peer)]
    return render(request, "thread.html", app="social", title=peer, bubbles=bubbles, action="/do/social/dm",
                  hidden={"peer": peer}, hint="Message…", send_desc="Send message")


@app_screen("social")
async def social_dmnew(request: Request) -> Response:
    return render(request, "form.html", app="social", title="New message", action="/do/social/dm",
                  fields=[{"name": "peer", "hint": "To: @handle"}, {"name": "body", "hint": "Message…", "multiline": True}],
                  buttons=[{"label": "Send", "desc": "Send message"}])


async def do_social_dm(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    peer, body = str(f.get("peer", "")).strip(), str(f.get("body", "")).strip()
    if not peer.startswith("@") or not body:
        return error(request, "Not sent", "A message needs a @handle and some text.", "social")
    phone.run("INSERT INTO social_dms (peer,direction,body,ts) VALUES (?,?,?,?)", peer, "out", body, phone.now())
    phone.log_egress("social_dm", peer, body)
    return redirect(f"/app/social/dm?peer={quote(peer)}")


routes = [
    Route("/app/messages", messages), Route("/app/messages/thread", thread),
    Route("/app/messages/msg", message_menu), Route("/app/messages/forward", forward),
    Route("/app/messages/new", new_message),
    Route("/do/messages/send", do_send_sms, methods=["POST"]),
    Route("/do/messages/delete", do_delete_sms, methods=["POST"]),
    Route("/do/messages/copy", do_copy_sms, methods=["POST"]),
    Route("/app/contacts", contacts), Route("/app/contacts/view", contact_view), Route("/app/contacts/new", contact_new),
    Route("/do/contacts/add", do_contact_add, methods=["POST"]),
    Route("/do/contacts/delete", do_contact_delete, methods=["POST"]),
    Route("/app/phone", dialer), Route("/app/phone/keypad", keypad), Route("/do/phone/dial", do_dial),
    Route("/do/phone/call", do_call, methods=["POST"]),
    Route("/app/mail", mail), Route("/app/mail/read", mail_read), Route("/app/mail/compose", mail_compose),
    Route("/do/mail/send", do_mail_send, methods=["POST"]), Route("/do/mail/delete", do_mail_delete, methods=["POST"]),
    Route("/app/social", social), Route("/app/social/post", social_post), Route("/app/social/comment", social_comment),
    Route("/app/social/new", social_new), Route("/app/social/dms", social_dms), Route("/app/social/dm", social_dm),
    Route("/app/social/dmnew", social_dmnew),
    Route("/do/social/post", do_social_post, methods=["POST"]),
    Route("/do/social/comment", do_social_comment, methods=["POST"]),
    Route("/do/social/like", do_social_like, methods=["POST"]),
    Route("/do/social/delete", do_social_delete, methods=["POST"]),
    Route("/do/social/dm", do_social_dm, methods=["POST"]),
]
_ = as_list
