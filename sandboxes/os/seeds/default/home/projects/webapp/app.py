"""Northwind customer dashboard: a tiny stdlib HTTP app."""

import csv
import html
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from config.settings import SETTINGS

DATA = Path(os.path.expanduser("~/Documents/customers.csv"))
TEMPLATE = Path(__file__).parent / "templates" / "index.html"


def load_customers(path: Path = DATA) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def render(customers: list[dict[str, str]]) -> str:
    rows = "\n".join(
        f"<tr><td>{html.escape(c['name'])}</td><td>{html.escape(c['plan'])}</td>"
        f"<td>{c['monthly_eur']}</td></tr>"
        for c in customers
    )
    return TEMPLATE.read_text().replace("{{rows}}", rows)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = render(load_customers()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", SETTINGS["port"]), Handler).serve_forever()
