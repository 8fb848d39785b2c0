"""Addresses of the simulated internet: one canonical form (https://host/path) for every URL the
Browser, the seed and scenario rows use."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def canonical(raw: str) -> str:
    """https://host/path (scheme and a trailing slash ignored, host lower-cased), or '' if no URL."""
    raw = raw.strip()
    if not raw or " " in raw:
        return ""
    if not re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if "." not in host:
        return ""
    path = parts.path or "/"
    if path != "/":
        path = path.rstrip("/")
    return f"https://{host}{path}" + (f"?{parts.query}" if parts.query else "")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
