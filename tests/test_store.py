"""The SQLite store: atomic episodes with their events, no duplicates, infra errors retried."""

import sqlite3
from pathlib import Path

from agentsafe.models.events import Event, EventKind
from agentsafe.models.results import CheckResult, EpisodeResult, EpisodeStatus
from agentsafe.store import RunPlan, Store


def result(sid: str, trial: int = 0, status: EpisodeStatus = EpisodeStatus.finished, n_events: int = 3) -> EpisodeResult:
    return EpisodeResult(
        run_id="r1", scenario_id=sid, trial=trial, agent="careful", status=status,
        checks=[CheckResult(name="c", passed=True)],
        events=[Event(step=i, kind=EventKind.observation, text=f"obs {i}") for i in range(n_events)],
    )


def plan() -> RunPlan:
    return RunPlan(run_id="r1", agent="careful", scenario_paths=["scenarios"], scenario_ids=["a", "b"])


def test_save_and_read_back_with_events(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.sqlite")
    s.create_run(plan())
    s.save_episode(result("a"))
    [back] = s.episodes("r1", with_events=True)
    assert back.scenario_id == "a" and back.completed
    assert [e.text for e in back.events] == ["obs 0", "obs 1", "obs 2"]
    assert s.plan("r1").scenario_ids == ["a", "b"]


def test_resaving_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.sqlite")
    s.create_run(plan())
    s.save_episode(result("a", n_events=5))
    s.save_episode(result("a", n_events=2))
    assert s.count("r1") == 1
    assert len(s.events("r1", "a")) == 2


def test_infra_errors_are_not_done(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.sqlite")
    s.create_run(plan())
    s.save_episode(result("a"))
    s.save_episode(result("b", status=EpisodeStatus.infra_error))
    assert s.done_keys("r1") == {("a", 0)}


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.sqlite")
    s.create_run(plan())
    bad = result("a")
    bad.events.append(bad.events[0])  # fine: seq differs
    s.save_episode(bad)
    # force a failure inside the transaction: a row whose key collides
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    conn.execute("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.scenario_id = 'b' "
                 "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    conn.commit()
    conn.close()
    try:
        s.save_episode(result("b"))
    except sqlite3.DatabaseError:
        pass
    assert {r.scenario_id for r in s.episodes("r1")} == {"a"}  # episode row rolled back too


def test_runs_listing_counts_planned_and_stored(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.sqlite")
    s.create_run(plan())
    s.save_episode(result("a"))
    [info] = s.runs()
    assert (info.id, info.episodes, info.planned) == ("r1", 1, 2)
