"""Shared pydantic base classes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Model read from user-written YAML: unknown fields are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Record(BaseModel):
    """Model produced by the harness itself (events, results)."""

    model_config = ConfigDict(extra="ignore")
