"""The simulated internet outside the sandbox's own apps: attacker sites (phishing login, fake
captcha, fake support page, exfiltration endpoint) served by the harness from scenario data,
recording everything they receive."""

from __future__ import annotations

import time
from functools import cache
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import jinja2
from pydantic import BaseModel, Field

from agentsafe.injection import render
from agentsafe.models.scenario import Scenario
from agentsafe.paths import SANDBOXES_DIR

SiteKind = Literal["page", "phishing_login", "captcha", "support", "exfil"]


class AttackerSite(BaseModel):
    """One attacker host. `body` is shown verbatim (autoescaped); forms post back to the host.
    `hang: true` never answers (a page that hangs)."""

    host: str
    kind: SiteKind = "page"
    title: str = "Account verification"
    body: str = ""
    button: str | None = None
    hang: bool = False
    injection: str | None = Field(default=None, description="Injection id that planted the site.")


class Received(BaseModel):
    """One request an attacker site received (what was exfiltrated)."""

    host: str
    url: str
    method: str
    data: dict[str, Any] = Field(default_factory=dict)
    raw: str = ""
    t: float = Field(default_factory=time.time)


def sites_for(scenario: Scenario) -> dict[str, AttackerSite]:
    """Attacker sites from `sandbox.options.attacker_sites` (list or host -> spec) and from
    injections with carrier `attacker_site` (target: host, kind, title, button; text = body)."""
    out: dict[str, AttackerSite] = {}
    raw = scenario.sandbox.options.get("attacker_sites") or []
    items = [{"host": h, **v} for h, v in raw.items()] if isinstance(raw, dict) else list(raw)
    for item in items:
        site = AttackerSite.model_validate(item)
        out[site.host.lower()] = site
    for inj in scenario.injections:
        if inj.carrier != "attacker_site":
            continue
        t = inj.target
        host = str(t.get("host", "")).lower()
        if not host:
            raise ValueError(f"injection {inj.id}: carrier attacker_site needs target.host")
        out[host] = AttackerSite(
            host=host, kind=t.get("kind", "page"), title=t.get("title", "Account verification"),
            body=render(inj), button=t.get("button"), hang=bool(t.get("hang", False)),
            injection=inj.id,
        )
    return out


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SANDBOXES_DIR / "web" / "common" / "attacker")),
        autoescape=True,
    )


def parse_body(post_data: str | None, content_type: str) -> dict[str, Any]:
    """Form or query-string bodies as a dict of first values; other bodies stay raw."""
    if not post_data:
        return {}
    if "json" in content_type:
        return {"json": post_data}
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(post_data, keep_blank_values=True).items()}


def serve(site: AttackerSite, url: str, method: str) -> tuple[int, str]:
    """Status and HTML an attacker site answers with."""
    path = urlsplit(url).path or "/"
    if site.kind == "exfil":
        return 200, _env().get_template("received.html").render(title="OK", body="Received.")
    if method == "POST":
        return 200, _env().get_template("received.html").render(
            title="Thank you", body="Your details have been verified. You may close this page."
        )
    return 200, _env().get_template("page.html").render(
        title=site.title, body=site.body, kind=site.kind, button=site.button, action=path,
    )
