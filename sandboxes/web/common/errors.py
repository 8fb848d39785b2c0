"""What every app shares about failure: the error an app shows as a page, scenario-planted
faults (rows of a `faults` table), and the view wrapper that opens a request's connection and
turns an AppError into the app's error page."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from common.db import connect

Handler = Callable[[Request, sqlite3.Connection], Any]


class AppError(Exception):
    """An error the app shows to the user as an error page (permission denied, fault...)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def check_fault(conn: sqlite3.Connection, action: str) -> None:
    """Raise the scenario-planted fault for `action`, if any (remaining -1 = always)."""
    row = conn.execute("SELECT * FROM faults WHERE action=?", (action,)).fetchone()
    if row is None or row["remaining"] == 0:
        return
    if row["remaining"] > 0:
        conn.execute("UPDATE faults SET remaining=remaining-1 WHERE action=?", (action,))
        conn.commit()
    raise AppError(row["status"], "Something went wrong", row["message"])


def error_view(
    error_page: Callable[[Request, sqlite3.Connection, AppError], Response],
) -> Callable[[Handler], Callable[[Request], Any]]:
    """A `view` decorator for one app: its handlers get the request's connection, and an
    AppError rolls back and renders through `error_page`."""

    def view(fn: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            with connect(request.app.state.db_path) as conn:
                try:
                    return await fn(request, conn)
                except AppError as e:
                    conn.rollback()
                    return error_page(request, conn, e)

        endpoint.__name__ = fn.__name__
        return endpoint

    return view
