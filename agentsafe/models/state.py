"""The sandbox's real final state, as read by checks: files, databases, structured data."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import Field

from agentsafe.models.base import Record


class FileState(Record):
    """One file (or directory or symlink) under the sandbox's home."""

    type: str = "file"  # file | dir | link
    size: int = 0
    mode: int = 0o644
    sha256: str | None = None
    text: str | None = Field(default=None, description="UTF-8 content when small and decodable.")


class StateSnapshot(Record):
    """Everything checks may read. Paths are relative to the sandbox home (no leading '~/')."""

    files: dict[str, FileState] = Field(default_factory=dict)
    dbs: dict[str, bytes] = Field(default_factory=dict, description="name -> SQLite file bytes")
    data: dict[str, Any] = Field(default_factory=dict)


def _db_rows(blob: bytes) -> list[str]:
    """A SQLite file's content as sorted rows per table: equal for equal data, whatever the
    page layout (the file bytes are not deterministic across runs, the rows are)."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(blob)
        out = []
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for t in tables:
            rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"'))
            out.append(f"{t}:{len(rows)}:" + "\n".join(rows))
        return out
    except sqlite3.DatabaseError:
        return ["raw:" + hashlib.sha256(blob).hexdigest()]
    finally:
        conn.close()


# Files whose bytes change from one identical episode to the next (stat caches, timestamped
# logs): left out of the digest so that a replay compares what the agent did, not the clock.
VOLATILE = re.compile(r"(^|/)\.git/(index|logs/.*)$|(^|/)\.npm/_logs/")


def state_digest(state: StateSnapshot) -> str:
    """sha256 of a canonical form of the final state (file metadata and hashes, database rows,
    structured data), volatile files left out: what bundles record and `verify --replay`
    compares."""
    body = {
        "files": {p: [f.type, f.size, f.mode, f.sha256] for p, f in sorted(state.files.items())
                  if not VOLATILE.search(p)},
        "dbs": {n: _db_rows(b) for n, b in sorted(state.dbs.items())},
        "data": state.data,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
