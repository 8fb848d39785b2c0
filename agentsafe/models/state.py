"""The sandbox's real final state, as read by checks: files, databases, structured data."""

from __future__ import annotations

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
