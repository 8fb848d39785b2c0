"""Submission bundles on real runs: export carries no credentials; verify passes an honest bundle,
fails every tamper naming what is wrong; --replay re-executes and matches; manifests in the store."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from agentsafe.bundle.export import bundle_files, export_run, write_tar
from agentsafe.bundle.model import EPISODES, EVENTS, HASHES, META, SUITE_DIR
from agentsafe.bundle.verify import read_bundle, verify_bundle
from agentsafe.manifest import build_manifest, mixed_manifest_note
from agentsafe.store import Store
from tests.report_data import make_runs

pytestmark = pytest.mark.bwrap
ENV_SECRET = "sk-live-ENVSECRET-0123456789"
OPT_SECRET = "sk-opt-OPTSECRET-9876543210"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    db = tmp_path_factory.mktemp("bundle") / "runs.sqlite"
    return make_runs(db, api_key=OPT_SECRET, base_url="http://bob:pw123456@llm.local:8080/v1?key=abc")


@pytest.fixture(scope="module")
def honest(store, tmp_path_factory) -> Path:
    return export_run(store, "reckless", tmp_path_factory.mktemp("b") / "r.agentsafe.tar.gz")


def _rehash(files: dict[str, bytes]) -> dict[str, bytes]:
    files = dict(files)
    files[HASHES] = json.dumps({k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())
                                if k != HASHES}).encode()
    return files


def _tampered(honest: Path, tmp_path: Path, edit, rehash: bool = True) -> list[str]:
    files = read_bundle(honest)
    edit(files)
    out = write_tar(_rehash(files) if rehash else files, tmp_path / "t.agentsafe.tar.gz")
    rep = verify_bundle(out)
    assert not rep.ok
    return rep.problems


def test_run_records_its_manifest_and_reports_flag_mixing(store) -> None:
    m = store.manifest("reckless")
    assert m is not None and m.hash == m.compute_hash() and m.name == "agentsafe-builtin"
    assert "os.errors.backup-fails" in m.scenarios
    assert mixed_manifest_note({"a": m.hash, "b": m.hash}) is None
    note = mixed_manifest_note({"a": m.hash, "b": "0" * 64})
    assert note and "different suite manifests" in note


def test_manifest_hash_follows_content(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    src = Path(__file__).parent.parent / "scenarios/os/errors/backup-fails.yaml"
    (suite / "s.yaml").write_text(src.read_text())
    a = build_manifest([suite])
    (suite / "s.yaml").write_text(src.read_text() + "\n# edited\n")
    b = build_manifest([suite])
    assert a.hash != b.hash and any("s.yaml: changed" in d for d in a.diff(b))


def test_old_store_gains_the_manifest_column(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    c = sqlite3.connect(db)
    c.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, agent TEXT NOT NULL, "
              "plan TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running', finished REAL)")
    c.execute("INSERT INTO runs VALUES ('old', 0, 'careful', '{}', 'finished', 1)")
    c.commit()
    c.close()
    s = Store(db)
    assert s.manifest_hash("old") is None
    assert "manifest" in {r[1] for r in s.raw_rows("PRAGMA table_info(runs)")}


def test_honest_bundle_verifies(honest: Path) -> None:
    rep = verify_bundle(honest)
    assert rep.ok, rep.problems
    assert rep.episodes == 4 and rep.verdicts_checked > 8 and rep.metrics_checked > 10


def test_export_never_contains_credentials(store, tmp_path: Path, monkeypatch) -> None:
    from agentsafe.models.events import Event, EventKind

    [ep] = [e for e in store.episodes("careful", with_events=True)
            if e.scenario_id == "os.errors.backup-fails"]
    ep.events.insert(1, Event(step=0, kind=EventKind.agent_text, text=f"my key is {ENV_SECRET}"))
    store.save_episode(ep)
    monkeypatch.setenv("MY_SERVICE_API_KEY", ENV_SECRET)
    out = export_run(store, "careful", tmp_path / "c.agentsafe.tar.gz")
    raw = gzip.decompress(out.read_bytes())
    for secret in (ENV_SECRET, OPT_SECRET, "pw123456", "key=abc"):
        assert secret.encode() not in raw, secret
    meta = json.loads(read_bundle(out)[META])
    assert meta["agent_options"] == {"base_url": "http://llm.local:8080/v1"}


def test_tamper_edited_event(honest: Path, tmp_path: Path) -> None:
    def edit(files):  # the failing backup is now reported as failing: the violation vanishes
        files[EVENTS] = files[EVENTS].replace(b"Backup complete.", b"Backup failed: read-only")
    assert any(p.startswith(f"{EVENTS}: sha256 does not match") for p in
               _tampered(honest, tmp_path, edit, rehash=False))
    problems = _tampered(honest, tmp_path, edit)
    assert any("os.errors.backup-fails#0: policy" in p and "re-derived satisfied" in p
               for p in problems), problems


def test_tamper_deleted_violation(honest: Path, tmp_path: Path) -> None:
    def edit(files):
        lines = files[EPISODES].decode().splitlines()
        for i, line in enumerate(lines):
            ep = json.loads(line)
            if ep["scenario_id"] == "os.errors.backup-fails":
                ep["verdicts"] = [v for v in ep["verdicts"] if v["status"] != "violated"]
                lines[i] = json.dumps(ep)
        files[EPISODES] = "\n".join(lines).encode()
    problems = _tampered(honest, tmp_path, edit)
    assert any("os.errors.backup-fails#0: verdict of policy" in p and "missing" in p
               for p in problems), problems


def test_tamper_edited_summary_metric(honest: Path, tmp_path: Path) -> None:
    def edit(files):
        meta = json.loads(files[META])
        meta["metrics"]["cup"]["value"] = 0.99
        files[META] = json.dumps(meta).encode()
    problems = _tampered(honest, tmp_path, edit)
    assert any(p.startswith("summary metric cup.value is 0.99") for p in problems), problems


def test_tamper_swapped_scenario_file(honest: Path, tmp_path: Path) -> None:
    def edit(files):
        name = next(n for n in files if n.startswith(SUITE_DIR) and "backup-fails" in n)
        files[name] = files[name].replace(b"max_steps", b"max_steps", 1) + b"\n# easier\n"
    problems = _tampered(honest, tmp_path, edit)
    assert any("backup-fails.yaml: scenario file swapped" in p for p in problems), problems


def test_tamper_forged_hashes(honest: Path, tmp_path: Path) -> None:
    def forge_file_hash(files):
        hashes = json.loads(files[HASHES])
        hashes[EPISODES] = "0" * 64
        files[HASHES] = json.dumps(hashes).encode()
    problems = _tampered(honest, tmp_path, forge_file_hash, rehash=False)
    assert any(p.startswith(f"{EPISODES}: sha256 does not match") for p in problems), problems

    def forge_manifest_hash(files):
        meta = json.loads(files[META])
        meta["manifest"]["files"]["policies/os.yaml"] = "f" * 64  # claim another suite...
        files[META] = json.dumps(meta).encode()  # ...without recomputing its hash
    problems = _tampered(honest, tmp_path, forge_manifest_hash)
    assert any("manifest hash" in p and "forged" in p for p in problems), problems


def test_replay_matches_the_log(store, tmp_path: Path) -> None:
    files = bundle_files(store, "reckless")
    out = write_tar(files, tmp_path / "r.agentsafe.tar.gz")
    rep = verify_bundle(out, replay=True)
    assert rep.ok, rep.problems
    assert rep.replayed == 4


def test_cli_export_verify_and_html_report(store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentsafe.cli import app

    cli = CliRunner()
    out = tmp_path / "cli.agentsafe.tar.gz"
    r = cli.invoke(app, ["export", "reckless", "--db", str(store.path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["verify", str(out)])
    assert r.exit_code == 0 and "verified" in r.output, r.output
    files = read_bundle(out)
    files[EVENTS] = files[EVENTS].replace(b"Backup complete.", b"Backup failed")
    write_tar(files, out)
    r = cli.invoke(app, ["verify", str(out)])
    assert r.exit_code == 1 and "NOT verified" in r.output and "events.jsonl" in r.output
    html = tmp_path / "r.html"
    r = cli.invoke(app, ["report", "careful", "reckless", "--db", str(store.path),
                         "--format", "html", "-o", str(html)])
    assert r.exit_code == 0, r.output
    text = html.read_text()
    assert "os.errors.backup-fails" in text and "vegaEmbed" in text
    r = cli.invoke(app, ["report", "nosuchrun", "--db", str(store.path)])
    assert r.exit_code == 2 and "no run 'nosuchrun'" in r.output


def test_html_report_shows_agent_errors_apart(store, tmp_path: Path) -> None:
    from agentsafe.models.results import EpisodeStatus
    from agentsafe.reports.html import render_html_report
    from agentsafe.store import RunPlan

    [ep] = [e for e in store.episodes("reckless", with_events=True)
            if e.scenario_id == "os.errors.backup-fails"]
    store.create_run(RunPlan(run_id="crashy", agent="crashy", scenario_paths=[],
                             scenario_ids=[ep.scenario_id]))
    store.save_episode(ep.model_copy(update={"run_id": "crashy", "agent": "crashy",
                                             "status": EpisodeStatus.agent_error,
                                             "error": "agent failed: RuntimeError: boom"}))
    page = render_html_report(store, ["crashy"])
    assert "1 of 1 episode(s) ended in an agent error" in page
