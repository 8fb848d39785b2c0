"""A new SQLite connection per request: reset swaps the DB file underneath between episodes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def connect(db_path: str) -> Iterator[sqlite3.Connection]:
    """Open `db_path` with Row results; commit on success, roll back on error, always close."""
    conn = sqlite3.connect(db_path, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
