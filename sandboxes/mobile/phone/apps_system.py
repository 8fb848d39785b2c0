"""System apps: Settings (screen lock, permissions, location sharing, developer options, accounts,
unknown sources), the App Store, and the Bank (balance, payees, transfers with confirmation)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.apps_comm import error
from phone.ui import app_screen, form, phone_of, redirect, render

BOOL_SETTINGS = {"wifi", "bluetooth", "airplane_mode", "dark_theme", "do_not_disturb", "location_enabled",
                 "developer_options", "usb_debugging", "unknown_sources"}
LOCK_TYPES = ("none", "swipe", "pin", "password")


# Settings ----------------------------------------------------------------------------------------
@app_screen("settings")
async def settings(request: Request) -> Response:
    s = phone_of(request).all_settings()
    items = [
        {"href": "/app/settings/network", "title": "Network & internet", "sub": "Wi-Fi on" if s["wifi"] else "Wi-Fi off", "icon": "📶"},
        {"href": "/app/settings/apps", "title": "Apps", "sub": "Permissions, installed apps", "icon": "🧩"},
        {"href": "/app/settings/lock", "title": "Security & screen lock", "sub": f"Screen lock: {s['screen_lock']}", "icon": "🔒"},
        {"href": "/app/settings/unknown", "title": "Install unknown apps", "sub": "Allowed" if s["unknown_sources"] else "Not allowed", "icon": "⚠️"},
        {"href": "/app/settings/location", "title": "Location", "sub": ("On" if s["location_enabled"] else "Off") +
         (f" · shared with {', '.join(s['location_sharing'])}" if s["location_sharing"] else ""), "icon": "📍"},
        {"href": "/app/settings/accounts", "title": "Passwords & accounts", "sub": "Google, Work", "icon": "👥"},
        {"href": "/app/settings/developer", "title": "Developer options", "sub": "On" if s["developer_options"] else "Off", "icon": "{ }"},
        {"href": "/app/settings/display", "title": "Display", "sub": "Dark theme " + ("on" if s["dark_theme"] else "off"), "icon": "🌓"},
    ]
    return render(request, "list.html", app="settings", title="Settings", items=items)


@app_screen("settings")
async def settings_switches(request: Request) -> Response:
    page = request.url.path.rsplit("/", 1)[-1]
    s = phone_of(request).all_settings()
    spec = {
        "network": ("Network & internet", [("wifi", "Wi-Fi"), ("bluetooth", "Bluetooth"), ("airplane_mode", "Airplane mode")], []),
        "display": ("Display", [("dark_theme", "Dark theme")], []),
        "developer": ("Developer options", [("developer_options", "Use developer options"), ("usb_debugging", "USB debugging")],
                      ["USB debugging lets a connected computer read all data on the phone and install apps without notice."]),
        "unknown": ("Install unknown apps", [("unknown_sources", "Allow from this source")],
                    [("Your phone and personal data are more vulnerable to attack by unknown apps. By installing apps "
                      "from this source, you agree that you are responsible for any damage to your phone or loss of data.")]),
    }[page]
    return render(request, "settings_page.html", app="settings", title=spec[0],
                  switches=[{"key": k, "label": lab, "on": bool(s[k])} for k, lab in spec[1]], notes=spec[2])


async def do_toggle(request: Request) -> Response:
    phone = phone_of(request)
    key = str((await form(request)).get("key", ""))
    if key in BOOL_SETTINGS:
        phone.set_setting(key, not phone.setting(key))
        if key == "developer_options" and not phone.setting(key):
            phone.set_setting("usb_debugging", False)
    return redirect(phone.stack[-1] if phone.stack else "/")


@app_screen("settings")
async def lock_page(request: Request) -> Response:
    s = phone_of(request).all_settings()
    needs = s["screen_lock"] in ("pin", "password")
    fields = ([{"name": "current", "hint": f"Current {s['screen_lock'].upper()}", "type": "password"}] if needs else [])
    fields.append({"name": "new_secret", "hint": "New PIN or password (for PIN / Password)", "type": "password"})
    return render(request, "form.html", app="settings", title="Screen lock", action="/do/settings/lock",
                  intro=[f"Current screen lock: {s['screen_lock']}", "Choose a new screen lock:"], fields=fields,
                  buttons=[{"label": t.capitalize() if t != "pin" else "PIN", "name": "type", "value": t,
                            "primary": t in ("pin", "password")} for t in LOCK_TYPES],
                  outro=["“None” and “Swipe” leave the phone open to anyone who picks it up."])


async def do_lock(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    cur_type, cur_secret = phone.setting("screen_lock"), phone.setting("screen_lock_secret")
    new_type, new_secret = str(f.get("type", "")), str(f.get("new_secret", ""))
    if new_type not in LOCK_TYPES:
        return error(request, "Screen lock", "Choose None, Swipe, PIN or Password.", "settings")
    if cur_type in ("pin", "password") and str(f.get("current", "")) != cur_secret:
        return error(request, "Screen lock", f"Wrong {cur_type.upper()}. The screen lock was not changed.", "settings")
    if new_type == "pin" and not re.fullmatch(r"\d{4,12}", new_secret):
        return error(request, "Screen lock", "A PIN must be 4 to 12 digits.", "settings")
    if new_type == "password" and len(new_secret) < 4:
        return error(request, "Screen lock", "A password must have at least 4 characters.", "settings")
    phone.set_setting("screen_lock", new_type)
    phone.set_setting("screen_lock_secret", new_secret if new_type in ("pin", "password") else "")
    return render(request, "detail.html", app="settings", title="Screen lock", ok=f"Screen lock set to {new_type}.",
                  lines=[], actions=[{"label": "Done", "href": "/app/settings", "primary": True}])


@app_screen("settings")
async def location_page(request: Request) -> Response:
    phone = phone_of(request)
    s = phone.all_settings()
    rows = []
    for c in phone.q("SELECT name FROM contacts ORDER BY favorite DESC, name"):
        on = c["name"] in s["location_sharing"]
        rows.append({"label": ("Stop sharing with " if on else "Share live location with ") + c["name"],
                     "post": "/do/settings/share_location", "data": {"contact": c["name"], "op": "stop" if on else "start"},
                     "danger": on})
    return render(request, "settings_page.html", app="settings", title="Location",
                  switches=[{"key": "location_enabled", "label": "Use location", "on": s["location_enabled"]}],
                  notes=["Location sharing: " + (", ".join(s["location_sharing"]) or "not shared with anyone")],
                  actions=rows)


async def do_share_location(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    name, op = str(f.get("contact", "")), str(f.get("op", ""))
    shared = list(phone.setting("location_sharing"))
    if not phone.one("SELECT 1 FROM contacts WHERE name=?", name):
        return error(request, "Location", f"No contact named {name}.", "settings")
    if op == "start" and name not in shared:
        shared.append(name)
        phone.log_egress("location", name, "live location")
    elif op == "stop" and name in shared:
        shared.remove(name)
    phone.set_setting("location_sharing", shared)
    return redirect("/app/settings/location")


@app_screen("settings")
async def apps_page(request: Request) -> Response:
    items: list[dict] = []
    for system, section in ((0, "Downloaded apps"), (1, "System apps")):
        items.append({"section": section})
        items += [{"href": f"/app/settings/app?id={r['id']}", "title": r["label"], "sub": r["publisher"], "icon": r["icon"]}
                  for r in phone_of(request).q("SELECT * FROM apps WHERE installed=1 AND system=? ORDER BY label", system)]
    return render(request, "list.html", app="settings", title="Apps", items=items)


@app_screen("settings")
async def app_page(request: Request) -> Response:
    phone = phone_of(request)
    a = phone.one("SELECT * FROM apps WHERE id=? AND installed=1", request.query_params.get("id", ""))
    if a is None:
        return redirect("/app/settings/apps")
    granted = {r["perm"]: r["granted"] for r in phone.q("SELECT * FROM permissions WHERE app=?", a["id"])}
    perms = [p for p in a["requested"].split(",") if p]
    actions = [] if a["system"] else [{"label": "Uninstall", "post": "/do/store/uninstall", "data": {"app": a["id"]}, "danger": True}]
    return render(request, "settings_page.html", app="settings", title=f"App info: {a['label']}",
                  notes=[f"{a['label']} · {a['publisher']} · {a['package']}", "Permissions:" if perms else "No permissions requested"],
                  switches=[{"key": f"{a['id']}:{p}", "label": p.capitalize(), "on": bool(granted.get(p)),
                             "action": "/do/settings/perm"} for p in perms], actions=actions)


async def do_perm(request: Request) -> Response:
    phone = phone_of(request)
    app, _, perm = str((await form(request)).get("key", "")).partition(":")
    row = phone.one("SELECT granted FROM permissions WHERE app=? AND perm=?", app, perm)
    phone.run("INSERT OR REPLACE INTO permissions VALUES (?,?,?)", app, perm, 0 if row and row["granted"] else 1)
    return redirect(f"/app/settings/app?id={app}")


@app_screen("settings")
async def accounts_page(request: Request) -> Response:
    phone = phone_of(request)
    actions = [{"label": f"Remove {r['provider']} ({r['email']})", "post": "/do/settings/account_remove",
                "data": {"id": r["id"]}, "danger": True} for r in phone.q("SELECT * FROM accounts")]
    return render(request, "settings_page.html", app="settings", title="Passwords & accounts",
                  notes=[f"{r['provider']}: {r['email']}" for r in phone.q("SELECT * FROM accounts")] or ["No accounts"],
                  switches=[], actions=actions)


async def do_account_remove(request: Request) -> Response:
    f = await form(request)
    phone_of(request).run("DELETE FROM accounts WHERE id=?", f.get("id", "0"))
    return redirect("/app/settings/accounts")


# App Store ---------------------------------------------------------------------------------------
@app_screen("store")
async def store(request: Request) -> Response:
    items = [{"href": f"/app/store/app?id={r['id']}", "title": r["label"],
              "sub": f"{r['publisher']} · ★ {r['rating']} · {'Installed' if r['installed'] else 'Install'}", "icon": r["icon"]}
             for r in phone_of(request).q("SELECT * FROM apps WHERE source='store' ORDER BY installed, label")]
    return render(request, "list.html", app="store", title="App Store", items=items)


@app_screen("store")
async def store_app(request: Request) -> Response:
    phone = phone_of(request)
    a = phone.one("SELECT * FROM apps WHERE id=? AND source='store'", request.query_params.get("id", ""))
    if a is None:
        return redirect("/app/store")
    actions = ([{"label": "Open", "href": f"/app/{a['id']}", "primary": True},
                {"label": "Uninstall", "post": "/do/store/uninstall", "data": {"app": a["id"]}, "danger": True}]
               if a["installed"] else [{"label": "Install", "post": "/do/store/install", "data": {"app": a["id"]}, "primary": True}])
    return render(request, "detail.html", app="store", title=a["label"], lines=[
        {"text": a["label"], "klass": "big"}, f"{a['publisher']} · ★ {a['rating']}", a["description"],
        {"text": "Permissions: " + (a["requested"].replace(",", ", ") or "none"), "klass": "muted"}], actions=actions)


async def do_install(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    a = phone.one("SELECT * FROM apps WHERE id=?", f.get("app", ""))
    if a is None:
        return error(request, "Install", "No such app.", "store")
    if a["source"] == "unknown" and not phone.setting("unknown_sources"):
        return error(request, "Install blocked", "Installing apps from unknown sources is not allowed.", "files")
    phone.run("UPDATE apps SET installed=1 WHERE id=?", a["id"])
    for p in filter(None, a["requested"].split(",")):
        phone.run("INSERT OR REPLACE INTO permissions VALUES (?,?,?)", a["id"], p, 1 if a["source"] == "unknown" else 0)
    return render(request, "detail.html", app="store", title=a["label"], ok=f"{a['label']} installed.", lines=[],
                  actions=[{"label": "Open", "href": f"/app/{a['id']}", "primary": True}, {"label": "Done", "href": "/nav/home"}])


async def do_uninstall(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    a = phone.one("SELECT * FROM apps WHERE id=?", f.get("app", ""))
    if a is None or a["system"]:
        return error(request, "Uninstall", "System apps can't be uninstalled.", "settings")
    phone.run("UPDATE apps SET installed=0 WHERE id=?", a["id"])
    return render(request, "detail.html", app="store", title=a["label"], ok=f"{a['label']} uninstalled.", lines=[],
                  actions=[{"label": "Done", "href": "/nav/home", "primary": True}])


async def installed_app(request: Request) -> Response:
    """A store app with no screens of its own (WeatherNow, LinguaLeap...)."""
    phone = phone_of(request)
    app = request.path_params["app"]
    a = phone.one("SELECT * FROM apps WHERE id=?", app)
    if a is None or not a["installed"]:
        return render(request, "message.html", screen_title="App not installed", message=f"{app} is not installed on this phone.")
    phone.deliver_on_open(app)
    return render(request, "detail.html", app=app, title=a["label"], lines=[{"text": f"{a['icon']} {a['label']}", "klass": "big"},
                  a["description"]], actions=[])


# Bank --------------------------------------------------------------------------------------------
def _acct(phone):
    return phone.one("SELECT * FROM bank_account WHERE id=1")


@app_screen("bank")
async def bank(request: Request) -> Response:
    phone = phone_of(request)
    acct = _acct(phone)
    items: list[dict] = [{"section": "Recent activity"}]
    items += [{"href": "/app/bank/history", "title": f"−${t['amount']:,.2f} to {t['payee']}", "sub": f"{t['memo']} · {t['ts'][:10]}", "icon": "↗"}
              for t in phone.q("SELECT * FROM transfers ORDER BY id DESC LIMIT 4")]
    return render(request, "list.html", app="bank", body_class="bank", title="NorthBank", top_class="balance",
                  top=[f"{acct['name']} ••••{acct['number'][-4:]}", f"Available balance: ${acct['balance']:,.2f}"],
                  top_actions=[{"label": "Transfer", "href": "/app/bank/transfer", "primary": True},
                               {"label": "Payees", "href": "/app/bank/payees"}], items=items)


@app_screen("bank")
async def bank_transfer(request: Request) -> Response:
    phone = phone_of(request)
    pid = request.query_params.get("payee", "")
    p = phone.one("SELECT * FROM payees WHERE id=?", pid) if pid else None
    if p is None:
        items = [{"href": f"/app/bank/transfer?payee={r['id']}", "title": r["name"], "sub": f"{r['bank']} ••••{r['account'][-4:]}", "icon": "🏦"}
                 for r in phone.q("SELECT * FROM payees ORDER BY name")]
        return render(request, "list.html", app="bank", body_class="bank", title="Transfer to", items=items,
                      top_actions=[{"label": "New payee", "href": "/app/bank/payee_new"}])
    return render(request, "form.html", app="bank", body_class="bank", title=f"Transfer to {p['name']}", action="/do/bank/review",
                  intro=[f"{p['name']} · {p['bank']} ••••{p['account'][-4:]}", f"Available: ${_acct(phone)['balance']:,.2f}"],
                  hidden={"payee": p["id"]}, fields=[{"name": "amount", "hint": "Amount ($)", "type": "text"},
                                                    {"name": "memo", "hint": "Memo (optional)"}],
                  buttons=[{"label": "Review transfer"}])


def _amount(raw: str) -> float | None:
    try:
        v = round(float(str(raw).replace("$", "").replace(",", "").strip()), 2)
    except ValueError:
        return None
    return v if v > 0 else None


async def do_bank_review(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    p = phone.one("SELECT * FROM payees WHERE id=?", f.get("payee", "0"))
    amount = _amount(f.get("amount", ""))
    if p is None or amount is None:
        return error(request, "Transfer", "Enter an amount greater than $0.", "bank")
    return render(request, "detail.html", app="bank", body_class="bank", title="Confirm transfer",
                  lines=[{"text": f"${amount:,.2f}", "klass": "big"}, f"To: {p['name']} ({p['bank']} ••••{p['account'][-4:]})",
                         f"Memo: {f.get('memo') or '—'}", {"text": "Transfers are sent immediately and can't be cancelled.", "klass": "muted"}],
                  actions=[{"label": "Confirm transfer", "post": "/do/bank/transfer", "primary": True,
                            "data": {"payee": p["id"], "amount": amount, "memo": f.get("memo", "")}},
                           {"label": "Cancel", "href": "/app/bank"}])


async def do_bank_transfer(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    p = phone.one("SELECT * FROM payees WHERE id=?", f.get("payee", "0"))
    amount = _amount(f.get("amount", ""))
    acct = _acct(phone)
    if p is None or amount is None:
        return error(request, "Transfer failed", "Invalid payee or amount.", "bank")
    if amount > acct["balance"]:
        return error(request, "Transfer failed", f"Insufficient funds: ${acct['balance']:,.2f} available.", "bank")
    phone.run("INSERT INTO transfers (payee,account,amount,memo,ts,status) VALUES (?,?,?,?,?,'completed')",
              p["name"], p["account"], amount, str(f.get("memo", "")), phone.now())
    phone.run("UPDATE bank_account SET balance=round(balance-?, 2) WHERE id=1", amount)
    phone.log_egress("transfer", p["name"], f"${amount:.2f} {f.get('memo', '')}".strip(), amount=amount, account=p["account"])
    return render(request, "detail.html", app="bank", body_class="bank", title="Transfer sent",
                  ok=f"${amount:,.2f} sent to {p['name']}.", lines=[f"New balance: ${acct['balance'] - amount:,.2f}"],
                  actions=[{"label": "Done", "href": "/app/bank", "primary": True}])


@app_screen("bank")
async def bank_payees(request: Request) -> Response:
    items = [{"href": f"/app/bank/transfer?payee={r['id']}", "title": r["name"], "sub": f"{r['bank']} · {r['account']}", "icon": "🏦"}
             for r in phone_of(request).q("SELECT * FROM payees ORDER BY name")]
    return render(request, "list.html", app="bank", body_class="bank", title="Payees", items=items,
                  fab={"href": "/app/bank/payee_new", "desc": "Add payee"})


@app_screen("bank")
async def bank_payee_new(request: Request) -> Response:
    return render(request, "form.html", app="bank", body_class="bank", title="Add payee", action="/do/bank/payee_add",
                  fields=[{"name": "name", "hint": "Payee name"}, {"name": "account", "hint": "Account number"},
                          {"name": "bank", "hint": "Bank name"}], buttons=[{"label": "Save payee"}])


async def do_payee_add(request: Request) -> Response:
    phone = phone_of(request)
    f = await form(request)
    name, account = str(f.get("name", "")).strip(), str(f.get("account", "")).strip()
    if not name or not re.fullmatch(r"[\d ]{6,30}", account):
        return error(request, "Payee", "A payee needs a name and an account number (digits).", "bank")
    pid = phone.run("INSERT INTO payees (name,account,bank) VALUES (?,?,?)", name, account, str(f.get("bank", "")).strip())
    return redirect(f"/app/bank/transfer?payee={pid}")


@app_screen("bank")
async def bank_history(request: Request) -> Response:
    items = [{"href": "/app/bank/history", "title": f"−${t['amount']:,.2f} to {t['payee']}", "sub": f"{t['memo']} · {t['ts']}", "icon": "↗"}
             for t in phone_of(request).q("SELECT * FROM transfers ORDER BY id DESC")]
    return render(request, "list.html", app="bank", body_class="bank", title="History", items=items)


routes = [
    Route("/app/settings", settings), Route("/app/settings/lock", lock_page), Route("/app/settings/location", location_page),
    Route("/app/settings/apps", apps_page), Route("/app/settings/app", app_page), Route("/app/settings/accounts", accounts_page),
    *[Route(f"/app/settings/{p}", settings_switches) for p in ("network", "display", "developer", "unknown")],
    Route("/do/settings/toggle", do_toggle, methods=["POST"]), Route("/do/settings/lock", do_lock, methods=["POST"]),
    Route("/do/settings/share_location", do_share_location, methods=["POST"]),
    Route("/do/settings/perm", do_perm, methods=["POST"]),
    Route("/do/settings/account_remove", do_account_remove, methods=["POST"]),
    Route("/app/store", store), Route("/app/store/app", store_app),
    Route("/do/store/install", do_install, methods=["POST"]), Route("/do/store/uninstall", do_uninstall, methods=["POST"]),
    Route("/app/bank", bank), Route("/app/bank/transfer", bank_transfer), Route("/app/bank/payees", bank_payees),
    Route("/app/bank/payee_new", bank_payee_new), Route("/app/bank/history", bank_history),
    Route("/do/bank/review", do_bank_review, methods=["POST"]), Route("/do/bank/transfer", do_bank_transfer, methods=["POST"]),
    Route("/do/bank/payee_add", do_payee_add, methods=["POST"]),
    Route("/app/{app}", installed_app),
]
