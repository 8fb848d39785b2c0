"""The Browser app: an address bar, bookmarks, history and search over the simulated internet (the
`web_pages` table: seeded sites plus the scenario's rows). Pages carry text, links, one form and a
download; a submitted form is stored in `web_submissions` and logged as egress, a download lands
in Files. Any address not in the table "can't be reached": nothing ever leaves the machine."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone.core import Phone
from phone.ui import app_screen, form, phone_of, redirect, render, templates
from phone.urls import canonical, host_of

SEARCH_HOST = "search.example.test"


def page_href(url: str) -> str:
    return f"/app/browser/page?url={quote(url, safe='')}"


def _json(raw: str | None, default: Any) -> Any:
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def _screen(request: Request, url: str, title: str, lines: list, *, links: list | None = None,
            form_spec: dict | None = None, download: dict | None = None, alert: str = "") -> Response:
    """A browser screen: the address bar, then the page."""
    return render(request, "browser.html", app="browser", title=title, url=url, lock=url.startswith("https://"),
                  host=host_of(url), lines=lines, links=links or [], form=form_spec, download=download,
                  alert=alert)


@app_screen("browser")
async def browser(request: Request) -> Response:
    phone = phone_of(request)
    links = [{"text": r["title"], "url": r["url"]} for r in phone.q("SELECT url, title FROM web_pages WHERE bookmark=1 ORDER BY title")]
    recent = [{"text": r["title"], "url": r["url"]} for r in
              phone.q("SELECT url, title FROM web_history WHERE id IN (SELECT MAX(id) FROM web_history GROUP BY url) ORDER BY id DESC LIMIT 5")]
    return render(request, "browser.html", app="browser", title="New tab", url="", lock=False, host="",
                  lines=[], links=links, sections=[("Bookmarks", links), ("History", recent)] if recent else [("Bookmarks", links)],
                  form=None, download=None)


async def do_go(request: Request) -> Response:
    """The address bar: a URL opens the page, other text searches the simulated internet."""
    text = str((await form(request)).get("q", "")).strip()
    url = canonical(text)
    if not url:
        return redirect(page_href(f"https://{SEARCH_HOST}/?q={quote(text)}"))
    return redirect(page_href(url))


def _search(phone: Phone, request: Request, url: str) -> Response:
    q = re.sub(r"^q=", "", urlsplit(url).query or "")
    from urllib.parse import unquote_plus

    words = [w for w in re.findall(r"\w+", unquote_plus(q).lower()) if len(w) > 2]
    hits = []
    for r in phone.q("SELECT url, title, body FROM web_pages ORDER BY url"):
        hay = f"{r['title']} {r['body']} {r['url']}".lower()
        if words and all(w in hay for w in words):
            hits.append({"text": r["title"], "url": r["url"], "sub": r["url"]})
    lines = [f"Results for “{unquote_plus(q)}”" if words else "Type words to search."]
    if words and not hits:
        lines.append("No results.")
    return _screen(request, url, "Search", lines, links=hits)


@app_screen("browser")
async def page(request: Request) -> Response:
    phone = phone_of(request)
    url = canonical(request.query_params.get("url", ""))
    if host_of(url) == SEARCH_HOST:
        phone.log_request(url)
        return _search(phone, request, url)
    p = phone.one("SELECT * FROM web_pages WHERE url=?", url) if url else None
    if p is None and url.endswith("/") is False and url:
        p = phone.one("SELECT * FROM web_pages WHERE url=?", url + "/")
    if p is None:
        host = host_of(url) or request.query_params.get("url", "")
        return _screen(request, url, "Can't reach this page", [f"{host}'s server IP address could not be found."],
                       alert=f"This site can't be reached: {host}")
    phone.log_request(url)  # the address as typed (query and all) went to the site
    phone.run("INSERT INTO web_history (url,title,ts) VALUES (?,?,?)", p["url"], p["title"], phone.now())
    return _screen(request, p["url"], p["title"], [ln for ln in p["body"].split("\n") if ln.strip()],
                   links=_json(p["links"], []), form_spec=_json(p["form"], None), download=_json(p["download"], None))


async def do_submit(request: Request) -> Response:
    """Submit a page's form: stored with every field's value, and logged as data leaving the phone."""
    phone = phone_of(request)
    f = await form(request)
    url = canonical(str(f.pop("__url", "")))
    p = phone.one("SELECT * FROM web_pages WHERE url=?", url)
    spec = _json(p["form"], None) if p else None
    if spec is None:
        return redirect("/app/browser")
    data = {k: str(v) for k, v in f.items()}
    for fld in spec.get("fields", []):
        if fld.get("required") and not data.get(fld["name"], "").strip():
            return _screen(request, url, p["title"], [f"“{fld['hint']}” is required. Go back to fill it in."],
                           alert=f"Not submitted: fill in {fld['hint']}")
    data.update({k: str(v) for k, v in (spec.get("hidden") or {}).items()})
    phone.run("INSERT INTO web_submissions (url,host,form,data,ts) VALUES (?,?,?,?,?)", url, host_of(url),
              spec.get("id", "form"), json.dumps(data), phone.now())
    phone.log_egress("web", host_of(url), "; ".join(f"{k}={v}" for k, v in data.items()), url=url, form=spec.get("id", "form"))
    if spec.get("next"):
        return redirect(page_href(spec["next"]))
    return _screen(request, url, p["title"], [spec.get("ok") or "Submitted."])


async def do_download(request: Request) -> Response:
    """Download a page's file into Files › Download (an .apk still needs Files › Install)."""
    phone = phone_of(request)
    url = canonical(str((await form(request)).get("url", "")))
    p = phone.one("SELECT * FROM web_pages WHERE url=?", url)
    d = _json(p["download"], None) if p else None
    if not d:
        return redirect("/app/browser")
    phone.log_request(url)
    fid = phone.run("INSERT INTO files (name,folder,size,private,content) VALUES (?,?,?,0,?)", d["name"], "Download",
                    d.get("size", "1 MB"), d.get("content", f"Downloaded from {url}"))
    return render(request, "detail.html", app="browser", title="Download complete", ok=f"{d['name']} downloaded.",
                  lines=[{"text": f"From {host_of(url)} · saved to Files › Download", "klass": "muted"}],
                  actions=[{"label": "Open", "href": f"/app/files/view?id={fid}", "primary": True},
                           {"label": "Done", "href": page_href(url)}])


templates.env.globals["page_href"] = page_href

routes = [
    Route("/app/browser", browser), Route("/app/browser/page", page),
    Route("/do/browser/go", do_go, methods=["POST"]), Route("/do/browser/submit", do_submit, methods=["POST"]),
    Route("/do/browser/download", do_download, methods=["POST"]),
]
