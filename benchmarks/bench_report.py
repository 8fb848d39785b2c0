"""The HTML report, bundle verification and replay at scale.

- report: `write_html_report` for 10,000 episodes (two runs of real OS results, events included,
  cloned into trials), beside the floor of reading the same rows from SQLite. Target: <= 10 s.
- usable: the report opened in Chromium; time from navigation to the episode list drawn
  (`window.agentsafeReady`) and to the first trajectory opened. Target: <= 3 s.
- verify: `verify_bundle` (no replay) of a 1,000-episode bundle, beside the floor of reading the
  bundle (gunzip + JSON-parse every line). Target: <= 10 s.
- replay: `verify --replay` of a real scripted run against the time that run took (ratio ~1).

Run: .venv/bin/python benchmarks/bench_report.py [--episodes 10000] [--bundle 1000]"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_REPORT_S = 10.0
TARGET_USABLE_S = 3.0
TARGET_VERIFY_S = 10.0
FILES = ["scenarios/os/errors/backup-fails.yaml", "scenarios/os/credentials/paste-aws-keys.yaml",
         "scenarios/os/injection/readme-exfiltrate-env.yaml",
         "scenarios/os/injection/readme-clean.yaml",
         "scenarios/os/credentials/debug-database-config.yaml",
         "scenarios/os/errors/which-report.yaml"]


def real_runs(store) -> float:
    """Play FILES with the careful and reckless agents; returns the careful run's wall time."""
    from agentsafe.agents.scripted import ReferenceAgent
    from agentsafe.manifest import build_manifest
    from agentsafe.runner.run import execute_run
    from agentsafe.scenarios import load_file
    from agentsafe.store import RunPlan

    scenarios = [s for f in FILES for s in load_file(ROOT / f)]
    took = 0.0
    for agent in ("careful", "reckless"):
        plan = RunPlan(run_id=agent, agent=agent, scenario_paths=[str(ROOT / "scenarios")],
                       scenario_ids=[s.id for s in scenarios])
        store.create_run(plan)
        store.set_manifest(agent, build_manifest([ROOT / "scenarios"], scenarios=scenarios))
        t0 = time.perf_counter()
        anyio.run(lambda plan=plan, agent=agent: execute_run(
            plan, store, scenarios, lambda: ReferenceAgent(unsafe=agent == "reckless"),
            progress=False))
        if agent == "careful":
            took = time.perf_counter() - t0
    return took


def clone(store, src: str, dst: str, n: int) -> None:
    """A run `dst` of n episodes: the real episodes of `src` repeated as further trials."""
    from agentsafe.store import RunPlan

    plan = store.plan(src)
    rows = store.raw_rows("SELECT scenario_id, trial, result FROM episodes WHERE run_id=?", src)
    evs = store.raw_rows("SELECT scenario_id, trial, seq, step, kind, event FROM events "
                         "WHERE run_id=?", src)
    trials = -(-n // len(rows))
    store.create_run(RunPlan(**{**plan.model_dump(), "run_id": dst, "trials": trials}))
    m = store.manifest(src)
    if m is not None:
        store.set_manifest(dst, m)
    ep_rows, ev_rows, count = [], [], 0
    by_key: dict[str, list] = {}
    for sid, _, seq, step, kind, ev in evs:
        by_key.setdefault(sid, []).append((seq, step, kind, ev))
    for t in range(trials):
        for sid, _, raw in rows:
            if count >= n:
                break
            body = json.loads(raw)
            body.update(run_id=dst, trial=t)
            bad = sum(v["status"] == "violated" for v in body["verdicts"])
            done = bool(body["checks"]) and all(c["passed"] for c in body["checks"])
            ep_rows.append((dst, sid, t, body["status"], int(done), bad, json.dumps(body), 0.0))
            ev_rows += [(dst, sid, t, seq, step, kind, ev) for seq, step, kind, ev in by_key[sid]]
            count += 1
    store.insert_raw(ep_rows, ev_rows)


def time_usable(html: Path) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    from agentsafe.browser.launch import launch_options

    with sync_playwright() as pw:
        b = pw.chromium.launch(**launch_options())
        page = b.new_page()
        t0 = time.perf_counter()
        page.goto(html.as_uri(), wait_until="commit", timeout=120000)
        page.wait_for_function("window.agentsafeReady === true", timeout=120000, polling=20)
        ready = time.perf_counter() - t0
        t1 = time.perf_counter()
        page.click("#ep-table tbody tr >> nth=0")
        page.wait_for_selector("#panes .pane", timeout=60000)
        opened = time.perf_counter() - t1
        b.close()
    return ready, opened


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=10000)
    ap.add_argument("--bundle", type=int, default=1000)
    args = ap.parse_args()
    from agentsafe.bundle.export import export_run
    from agentsafe.bundle.verify import read_bundle, verify_bundle
    from agentsafe.reports.html import write_html_report
    from agentsafe.reports.vendor import fetch
    from agentsafe.store import Store

    fetch(quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        store = Store(tmp_p / "bench.sqlite")
        run_s = real_runs(store)
        half = args.episodes // 2
        clone(store, "careful", "big-careful", half)
        clone(store, "reckless", "big-reckless", args.episodes - half)
        clone(store, "reckless", "bundle", args.bundle)

        t0 = time.perf_counter()
        for rid in ("big-careful", "big-reckless"):
            store.raw_rows("SELECT result FROM episodes WHERE run_id=?", rid)
            store.raw_rows("SELECT event FROM events WHERE run_id=?", rid)
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        html = write_html_report(store, ["big-careful", "big-reckless"], tmp_p / "big.html")
        report_s = time.perf_counter() - t0
        size = html.stat().st_size / 1e6
        print(f"report  {args.episodes} episodes: {report_s:.2f} s ({size:.1f} MB); floor "
              f"(read the rows) {floor:.2f} s; ratio {report_s / floor:.1f}x; target <= "
              f"{TARGET_REPORT_S:.0f} s: {'ok' if report_s <= TARGET_REPORT_S else 'MISSED'}")
        ready, opened = time_usable(html)
        print(f"usable  Chromium: list drawn {ready:.2f} s after navigation, first trajectory "
              f"opened in {opened * 1000:.0f} ms; target <= {TARGET_USABLE_S:.0f} s: "
              f"{'ok' if ready + opened <= TARGET_USABLE_S else 'MISSED'}")

        bundle = export_run(store, "bundle", tmp_p / "b.agentsafe.tar.gz")
        t0 = time.perf_counter()
        files = read_bundle(bundle)
        for name in ("episodes.jsonl", "events.jsonl"):
            [json.loads(line) for line in files[name].splitlines() if line.strip()]
        vfloor = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = verify_bundle(bundle)
        verify_s = time.perf_counter() - t0
        print(f"verify  {args.bundle} episodes: {verify_s:.2f} s ({'verified' if rep.ok else rep.problems[:2]}); "
              f"floor (gunzip + parse) {vfloor:.2f} s; ratio {verify_s / vfloor:.1f}x; target <= "
              f"{TARGET_VERIFY_S:.0f} s: {'ok' if verify_s <= TARGET_VERIFY_S else 'MISSED'}")

        small = export_run(store, "careful", tmp_p / "c.agentsafe.tar.gz")
        t0 = time.perf_counter()
        verify_bundle(small)
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = verify_bundle(small, replay=True)
        replay_s = time.perf_counter() - t0 - base
        print(f"replay  {rep.replayed} episodes: re-execution {replay_s:.2f} s (verify --replay "
              f"minus verify) vs the original scripted run {run_s:.2f} s; ratio "
              f"{replay_s / run_s:.2f}x ({'matched' if rep.ok else rep.problems[:2]})")
        store.close()


if __name__ == "__main__":
    main()
