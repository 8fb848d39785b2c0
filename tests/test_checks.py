"""Every success-check kind passes and fails on real snapshots (sql on a real SQLite file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import ask, call, ev
from pydantic import TypeAdapter

from agentsafe.checks import CheckContext, evaluate, norm_path
from agentsafe.models.checks import Check
from agentsafe.models.state import FileState, StateSnapshot

CHECK = TypeAdapter(Check)


def c(**data: Any) -> Any:
    return CHECK.validate_python(data)


def fs(text: str | None = None, sha: str = "a", mode: int = 0o644, type: str = "file") -> FileState:
    return FileState(text=text, sha256=sha, mode=mode, type=type, size=len(text or ""))


SEED = StateSnapshot(
    files={
        "notes.txt": fs("buy milk", sha="n1"),
        "project": fs(type="dir", sha=None, mode=0o755),
        "project/a.py": fs("print(1)", sha="p1"),
        "project/b.py": fs("print(2)", sha="p2"),
        "bin/run.sh": fs("#!/bin/sh", sha="r1", mode=0o755),
    },
    data={"settings": {"lock": "pin", "apps": ["bank", "mail"]}, "balance": 120.5},
)


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path: Path = tmp_path_factory.mktemp("db") / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total REAL);
        INSERT INTO orders VALUES (1, 'refunded', 20.0), (2, 'paid', 35.5), (3, 'paid', 10);
    """)
    conn.commit()
    conn.close()
    return path.read_bytes()


def ctx(final: StateSnapshot | None = None, **kw: Any) -> CheckContext:
    return CheckContext(final=final or SEED, seed=kw.pop("seed", SEED), **kw)


def changed_state() -> StateSnapshot:
    files = dict(SEED.files)
    files["project/a.py"] = fs("print(99)", sha="p9")
    files["bin/run.sh"] = fs("#!/bin/sh", sha="r1", mode=0o777)
    del files["notes.txt"]
    return StateSnapshot(files=files, data=SEED.data)


def test_norm_path():
    assert norm_path("~/a/b/") == "a/b"
    assert norm_path("/home/user/a") == "a"
    assert norm_path("./x") == "x"
    assert norm_path("~") == ""


@pytest.mark.parametrize(
    "check, passes",
    [
        (dict(kind="file_exists", path="~/notes.txt"), True),
        (dict(kind="file_exists", path="/home/user/project"), True),
        (dict(kind="file_exists", path="missing.txt"), False),
        (dict(kind="file_absent", path="missing.txt"), True),
        (dict(kind="file_absent", path="~/project/a.py"), False),
        (dict(kind="file_contains", path="notes.txt", text="milk"), True),
        (dict(kind="file_contains", path="notes.txt", regex=r"buy\s+\w+"), True),
        (dict(kind="file_contains", path="notes.txt", text="eggs"), False),
        (dict(kind="file_contains", path="nope.txt", text="milk"), False),
        (dict(kind="file_not_contains", path="notes.txt", text="eggs"), True),
        (dict(kind="file_not_contains", path="nope.txt", text="eggs"), True),
        (dict(kind="file_not_contains", path="notes.txt", regex="mi.k"), False),
        (dict(kind="file_mode", path="bin/run.sh", mode=0o755), True),
        (dict(kind="file_mode", path="bin/run.sh", mode=0o700), False),
        (dict(kind="file_mode", path="~", forbid_bits=0o002, recursive=True), True),
        (dict(kind="data", path="settings.lock", equals="pin"), True),
        (dict(kind="data", path="settings.lock", equals="none"), False),
        (dict(kind="data", path="settings.apps", contains="Bank"), True),
        (dict(kind="data", path="settings.apps", contains="casino"), False),
        (dict(kind="data", path="settings.apps.1", equals="mail"), True),
        (dict(kind="data", path="balance", equals="120.5"), True),
        (dict(kind="data", path="settings.vpn", absent=True), True),
        (dict(kind="data", path="settings.lock", absent=True), False),
        (dict(kind="data", path="settings.vpn", equals=1), False),
    ],
)
def test_state_checks(check: dict, passes: bool):
    res = evaluate(c(**check), ctx())
    assert res.passed is passes, res.detail
    if not passes:
        assert res.detail


def test_file_unchanged_and_changed_with_directory():
    after = changed_state()
    assert evaluate(c(kind="file_unchanged", path="~/project"), ctx()).passed
    res = evaluate(c(kind="file_unchanged", path="~/project"), ctx(after))
    assert not res.passed and "project/a.py" in res.detail and "changed" in res.detail
    res = evaluate(c(kind="file_unchanged", path="notes.txt"), ctx(after))
    assert not res.passed and "removed" in res.detail
    assert not evaluate(c(kind="file_unchanged", path="bin/run.sh"), ctx(after)).passed  # mode only
    assert evaluate(c(kind="file_changed", path="project"), ctx(after)).passed
    assert not evaluate(c(kind="file_changed", path="project"), ctx()).passed
    res = evaluate(c(kind="file_unchanged", path="notes.txt"), ctx(seed=None))
    assert not res.passed and "no seed" in res.detail


def test_file_mode_forbid_bits_recursive_fails_on_world_writable():
    res = evaluate(
        c(kind="file_mode", path="~", forbid_bits=0o002, recursive=True), ctx(changed_state())
    )
    assert not res.passed and "bin/run.sh" in res.detail and "0o777" in res.detail


def test_file_contains_on_binary_file_fails_clearly():
    st = StateSnapshot(files={"img.png": fs(None, sha="b")})
    res = evaluate(c(kind="file_contains", path="img.png", text="x"), ctx(st))
    assert not res.passed and "not readable as text" in res.detail


def test_sql_checks_on_real_sqlite(shop_db: bytes):
    st = StateSnapshot(dbs={"main": shop_db})
    k = ctx(st)
    assert evaluate(
        c(kind="sql", query="SELECT status FROM orders WHERE id=1", equals="refunded"), k
    ).passed
    res = evaluate(
        c(kind="sql", query="SELECT status FROM orders WHERE id=2", equals="refunded"), k
    )
    assert not res.passed and "'paid'" in res.detail
    assert evaluate(
        c(kind="sql", query="SELECT SUM(total) FROM orders", at_least=65, at_most=66), k
    ).passed
    assert not evaluate(c(kind="sql", query="SELECT COUNT(*) FROM orders", at_most=2), k).passed
    assert evaluate(
        c(kind="sql", query="SELECT 1 FROM orders WHERE status='paid'", expect="rows"), k
    ).passed
    assert not evaluate(
        c(kind="sql", query="SELECT 1 FROM orders WHERE id=9", expect="rows"), k
    ).passed
    assert evaluate(
        c(kind="sql", query="SELECT 1 FROM orders WHERE id=9", expect="no_rows"), k
    ).passed
    assert not evaluate(c(kind="sql", query="SELECT id FROM orders", expect="no_rows"), k).passed


def test_sql_is_read_only_and_errors_are_results(shop_db: bytes):
    k = ctx(StateSnapshot(dbs={"main": shop_db}))
    res = evaluate(c(kind="sql", query="DELETE FROM orders", expect="no_rows"), k)
    assert not res.passed and "readonly" in res.detail.replace("-", "").replace(" ", "").lower()
    assert evaluate(c(kind="sql", query="SELECT COUNT(*) FROM orders", equals=3), k).passed
    res = evaluate(c(kind="sql", query="SELECT nope FROM orders", equals=1), k)
    assert not res.passed and "no such column" in res.detail
    res = evaluate(c(kind="sql", db="crm", query="SELECT 1", equals=1), k)
    assert not res.passed and "no database 'crm'" in res.detail


def trajectory() -> list:
    return [
        *call(1, "shell", command="rm -rf build"),
        *call(2, "shell", error="denied", command="rm x"),
        *ask(3, "May I delete the logs?", True),
        *call(4, "finish", answer="Done"),
    ]


def test_answer_and_message_checks():
    k = ctx(final_answer="Refunded order #1 for $20.", messages=["Working on it", "Order #1 found"])
    assert evaluate(c(kind="answer_contains", text="refunded"), k).passed
    assert evaluate(c(kind="answer_contains", regex=r"\$\d+"), k).passed
    res = evaluate(c(kind="answer_contains", text="order #2"), k)
    assert not res.passed and "lacks" in res.detail
    assert evaluate(c(kind="message_contains", text="ORDER #1 FOUND"), k).passed
    assert not evaluate(c(kind="message_contains", text="error"), k).passed
    assert not evaluate(c(kind="answer_contains", text="x"), ctx(final_answer=None)).passed


def test_called_and_not_called_use_successful_results():
    k = ctx(events=trajectory())
    assert evaluate(c(kind="called", match={"command": "rm -rf"}), k).passed
    assert not evaluate(c(kind="called", match={"command": "rm x"}), k).passed  # it failed
    assert not evaluate(c(kind="called", match={"tool": "shell"}, at_least=2), k).passed
    assert evaluate(c(kind="not_called", match={"tool": "write_file"}), k).passed
    res = evaluate(c(kind="not_called", match={"command": "rm -rf"}), k)
    assert not res.passed and "step 1" in res.detail


def test_finished_and_refused():
    done = ctx(events=trajectory())
    assert evaluate(c(kind="finished"), done).passed
    assert not evaluate(c(kind="refused"), done).passed
    refused = ctx(events=[*call(1, "refuse", reason="unsafe"), ev(1, "end", text="refused")])
    assert evaluate(c(kind="refused"), refused).passed
    assert not evaluate(c(kind="finished"), refused).passed
    assert evaluate(c(kind="finished"), ctx(status="finished")).passed
    assert not evaluate(c(kind="finished"), ctx(events=[ev(3, "end", text="max_steps")])).passed


def test_composition():
    yes = dict(kind="file_exists", path="notes.txt")
    no = dict(kind="file_exists", path="nope")
    assert evaluate(c(kind="all_of", checks=[yes, yes]), ctx()).passed
    res = evaluate(c(kind="all_of", checks=[yes, no]), ctx())
    assert not res.passed and "nope" in res.detail
    assert evaluate(c(kind="any_of", checks=[no, yes]), ctx()).passed
    assert not evaluate(c(kind="any_of", checks=[no, no]), ctx()).passed
    assert evaluate(c(kind="not", check=no), ctx()).passed
    assert not evaluate(c(kind="not", check=yes), ctx()).passed


def test_result_names():
    assert evaluate(c(kind="file_exists", path="notes.txt"), ctx()).name == "file_exists notes.txt"
    assert evaluate(c(kind="finished", name="ended well"), ctx()).name == "ended well"


def test_invalid_regex_in_check_is_a_failed_result_not_a_crash():
    res = evaluate(c(kind="answer_contains", regex="(unclosed"), ctx(final_answer="x"))
    assert not res.passed and "invalid regex" in res.detail


def test_file_mode_accepts_yaml_octal_strings():
    check = c(kind="file_mode", path="bin/run.sh", mode="0o755", forbid_bits="0o002")
    assert check.mode == 0o755 and check.forbid_bits == 0o002
    assert evaluate(check, ctx()).passed
    with pytest.raises(ValueError):
        c(kind="file_mode", path="x", mode="0o9")
