"""Helpers for the apps' seed generators (apps/*/make_seed.py): SQL literals, INSERT rows, and
writing seed.sql — or, with --check, failing when the committed seed.sql is not what the
generator produces (seed.sql is derived: it must never drift from its generator)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def q(value: Any) -> str:
    """A value as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def row(table: str, cols: Sequence[str], vals: Sequence[Any]) -> str:
    """One INSERT statement."""
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(q(v) for v in vals)});"


def write_seed(generator: str, lines: Sequence[str]) -> None:
    """Write seed.sql beside the generator; with --check, exit 1 if it differs instead."""
    target = Path(generator).resolve().with_name("seed.sql")
    text = "\n".join(lines) + "\n"
    if "--check" in sys.argv:
        if not target.exists() or target.read_text() != text:
            sys.exit(f"{target} is out of date: run {Path(generator).name} to regenerate it")
        return
    target.write_text(text)
