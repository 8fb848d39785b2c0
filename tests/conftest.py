"""Shared pytest fixtures, and the rule that no test skips: a missing part fails, naming it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

_NO_SKIP = ("tests never skip here (a green run must have run every test): install or start "
            "what the skip names, e.g. `make setup`, `bash .ci/docker.sh`: ")


def _reason(longrepr: Any) -> str:
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    """A skipped test (skipif, pytest.skip) is reported as failed, with the skip's reason."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = _NO_SKIP + _reason(rep.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """A module skipped at import (pytest.importorskip) fails too."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped:
        rep.outcome = "failed"
        rep.longrepr = _NO_SKIP + _reason(rep.longrepr)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def bwrap_ready() -> None:
    """Fail (never skip) when bubblewrap is missing."""
    from agentsafe.runtime.local import bwrap_available

    assert bwrap_available(), "bubblewrap missing: make setup / .ci/run install it"


@pytest.fixture
def docker_ready() -> None:
    """Fail (never skip) when no Docker daemon answers or the OS image is not built."""
    from docker_ready import docker_missing

    assert (why := docker_missing()) is None, why
