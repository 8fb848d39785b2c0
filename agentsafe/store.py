"""The SQLite results store: runs, their plans, and one atomic row per finished episode with its
event log beside it. Re-saving an episode replaces it, so a resumed run never duplicates."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field

from agentsafe.manifest import SuiteManifest
from agentsafe.models.base import Record
from agentsafe.models.events import SCREENSHOT, SCREENSHOT_PNG, Event
from agentsafe.models.results import EpisodeResult, EpisodeStatus, ScoredEpisode
from agentsafe.textsafe import scrub_model

_R = TypeVar("_R", EpisodeResult, ScoredEpisode)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    agent TEXT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running',
    finished REAL
);
CREATE TABLE IF NOT EXISTS episodes (
    run_id TEXT NOT NULL REFERENCES runs(id),
    scenario_id TEXT NOT NULL,
    trial INTEGER NOT NULL,
    status TEXT NOT NULL,
    completed INTEGER NOT NULL,
    violations INTEGER NOT NULL,
    result TEXT NOT NULL,
    saved REAL NOT NULL,
    PRIMARY KEY (run_id, scenario_id, trial)
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    trial INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (run_id, scenario_id, trial, seq)
);
CREATE TABLE IF NOT EXISTS manifests (
    hash TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artifacts (
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    data BLOB NOT NULL
);
"""

# Additive migrations for stores made by older versions: (table, column, declaration).
MIGRATIONS = [("runs", "manifest", "TEXT")]


def _without_png(event: Event, shots: dict[str, bytes]) -> Event:
    """The event with its screenshot replaced by the sha256 of the PNG (collected in `shots`)."""
    b64 = event.data.get(SCREENSHOT_PNG) if event.data else None
    if not isinstance(b64, str):
        return event
    png = base64.b64decode(b64)
    digest = hashlib.sha256(png).hexdigest()
    shots[digest] = png
    data = {k: v for k, v in event.data.items() if k != SCREENSHOT_PNG}
    data[SCREENSHOT] = digest
    return event.model_copy(update={"data": data})


class RunPlan(Record):
    """Everything needed to (re)start a run: which episodes, which agent, which settings."""

    run_id: str
    agent: str
    scenario_paths: list[str]
    scenario_ids: list[str]
    trials: int = 1
    runtime: str = "local"
    mode: str = "observe"
    max_episodes: int = 2
    agent_options: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


class RunInfo(Record):
    id: str
    created: float
    agent: str
    status: str
    episodes: int
    planned: int


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many records are built and kept: with tens of
    thousands alive its passes cost 3-4x the parsing itself (results hold no cycles, so
    reference counting still frees them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Store:
    """A SQLite file (WAL mode). Safe to share between the tasks of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns newer versions need to an older store (never drops anything)."""
        for table, column, decl in MIGRATIONS:
            cols = {r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in cols:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # runs -----------------------------------------------------------------------------------
    def create_run(self, plan: RunPlan) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO runs (id, created, agent, plan) VALUES (?, ?, ?, ?)",
                (plan.run_id, time.time(), plan.agent, plan.model_dump_json()),
            )

    def plan(self, run_id: str) -> RunPlan | None:
        row = self._conn.execute("SELECT plan FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunPlan.model_validate_json(row[0]) if row else None

    def mark_run(self, run_id: str, status: str) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE runs SET status = ?, finished = ? WHERE id = ?",
                (status, time.time() if status != "running" else None, run_id),
            )

    def set_manifest(self, run_id: str, manifest: SuiteManifest) -> None:
        """Record the suite manifest a run was made from (kept once per distinct hash)."""
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO manifests VALUES (?, ?)",
                      (manifest.hash, manifest.model_dump_json()))
            c.execute("UPDATE runs SET manifest = ? WHERE id = ?", (manifest.hash, run_id))

    def manifest_hash(self, run_id: str) -> str | None:
        row = self._conn.execute("SELECT manifest FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def manifest(self, run_id: str) -> SuiteManifest | None:
        row = self._conn.execute(
            "SELECT m.body FROM runs r JOIN manifests m ON m.hash = r.manifest WHERE r.id = ?",
            (run_id,)).fetchone()
        return SuiteManifest.model_validate_json(row[0]) if row else None

    # artifacts (screenshots): content-addressed, so a repeated screen is stored once ----------
    def put_artifact(self, data: bytes, mime: str = "image/png") -> str:
        digest = hashlib.sha256(data).hexdigest()
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO artifacts VALUES (?, ?, ?)", (digest, mime, data))
        return digest

    def artifact(self, digest: str) -> tuple[str, bytes] | None:
        row = self._conn.execute("SELECT mime, data FROM artifacts WHERE sha256 = ?",
                                 (digest,)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def runs(self) -> list[RunInfo]:
        rows = self._conn.execute(
            "SELECT r.id, r.created, r.agent, r.status, r.plan, "
            "(SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.id) FROM runs r ORDER BY r.created"
        ).fetchall()
        out = []
        for rid, created, agent, status, plan, n in rows:
            p = RunPlan.model_validate_json(plan)
            out.append(RunInfo(id=rid, created=created, agent=agent, status=status, episodes=n,
                               planned=len(p.scenario_ids) * p.trials))
        return out

    # episodes -------------------------------------------------------------------------------
    def save_episode(self, result: EpisodeResult) -> None:
        """Commit one finished episode and its events in one transaction (replacing any earlier
        attempt of the same run/scenario/trial)."""
        key = (result.run_id, result.scenario_id, result.trial)
        shots: dict[str, bytes] = {}
        stored = [_without_png(e, shots) for e in result.events]
        try:
            body = result.model_dump_json(exclude={"events"})
            evs = [e.model_dump_json() for e in stored]
        except ValueError:  # a lone surrogate somewhere (a model's JSON, a file name): escape it
            result = scrub_model(result)
            stored = [_without_png(e, shots) for e in result.events]
            body = result.model_dump_json(exclude={"events"})
            evs = [e.model_dump_json() for e in stored]
        events = [
            (*key, i, e.step, str(e.kind), evs[i]) for i, e in enumerate(stored)
        ]
        with self._tx() as c:
            c.executemany("INSERT OR IGNORE INTO artifacts VALUES (?, 'image/png', ?)",
                          list(shots.items()))
            c.execute("DELETE FROM events WHERE run_id=? AND scenario_id=? AND trial=?", key)
            c.execute(
                "INSERT OR REPLACE INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, str(result.status), int(result.completed), len(result.violations), body,
                 time.time()),
            )
            c.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", events)

    def insert_raw(self, episodes: list[tuple], events: list[tuple]) -> None:
        """Bulk insert of already serialised rows (importing a bundle), one transaction."""
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", episodes)
            c.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", events)

    def done_keys(self, run_id: str) -> set[tuple[str, int]]:
        """(scenario, trial) pairs already finished for good (infra errors are retried on resume)."""
        rows = self._conn.execute(
            "SELECT scenario_id, trial FROM episodes WHERE run_id = ? AND status != ?",
            (run_id, EpisodeStatus.infra_error.value),
        ).fetchall()
        return {(s, t) for s, t in rows}

    def iter_episodes(self, run_id: str) -> Iterator[EpisodeResult]:
        """A run's results one by one (without events), in (scenario, trial) order: for a
        single pass over a run of any size in constant memory."""
        yield from self._iter_as(run_id, EpisodeResult)

    def iter_scored(self, run_id: str) -> Iterator[ScoredEpisode]:
        """A run's results as only what scoring reads (`ScoredEpisode`), same order."""
        yield from self._iter_as(run_id, ScoredEpisode)

    def _iter_as(self, run_id: str, model: type[_R]) -> Iterator[_R]:
        cur = self._conn.execute(
            "SELECT result FROM episodes WHERE run_id = ? ORDER BY scenario_id, trial", (run_id,))
        while batch := cur.fetchmany(512):
            for (body,) in batch:
                yield model.model_validate_json(body)

    def episodes(self, run_id: str, *, with_events: bool = False) -> list[EpisodeResult]:
        with gc_paused():
            results = list(self.iter_episodes(run_id))
        if with_events:
            for res in results:
                res.events = self.events(run_id, res.scenario_id, res.trial)
        return results

    def scored(self, run_id: str) -> list[ScoredEpisode]:
        """Every result of a run as `ScoredEpisode` (for reports that only score)."""
        with gc_paused():
            return list(self.iter_scored(run_id))

    def events(self, run_id: str, scenario_id: str, trial: int = 0) -> list[Event]:
        rows = self._conn.execute(
            "SELECT event FROM events WHERE run_id=? AND scenario_id=? AND trial=? ORDER BY seq",
            (run_id, scenario_id, trial),
        ).fetchall()
        return [Event.model_validate_json(r[0]) for r in rows]

    def count(self, run_id: str) -> int:
        return self._conn.execute(
            "SELECT COUNT(*) FROM episodes WHERE run_id = ?", (run_id,)
        ).fetchone()[0]

    def raw_rows(self, sql: str, *params: Any) -> list[tuple]:
        """Read-only escape hatch for reports and tests."""
        return self._conn.execute(sql, params).fetchall()

    def export_json(self, run_id: str) -> str:
        return json.dumps([r.model_dump(mode="json") for r in self.episodes(run_id)], indent=2)
