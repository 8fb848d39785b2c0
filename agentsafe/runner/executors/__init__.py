"""Executors play a run's episodes: `local` (anyio tasks on this host) or `ray` (a Ray cluster)."""

from __future__ import annotations

from typing import Any

from agentsafe.errors import AgentsafeError
from agentsafe.runner.executors.base import Executor, Job, Played, RunContext, Sink

EXECUTORS = ("local", "ray")


def make_executor(name: str, **options: Any) -> Executor:
    """The executor called `name`; `options` go to its constructor (e.g. address for ray)."""
    if name == "local":
        from agentsafe.runner.executors.local import LocalExecutor

        return LocalExecutor(**options)
    if name == "ray":
        from agentsafe.runner.executors.ray import RayExecutor

        return RayExecutor(**options)
    raise AgentsafeError(f"unknown executor '{name}' (expected one of: {', '.join(EXECUTORS)})")


__all__ = ["EXECUTORS", "Executor", "Job", "Played", "RunContext", "Sink", "make_executor"]
