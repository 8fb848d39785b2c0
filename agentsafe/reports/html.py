"""`agentsafe report RUN... --format html`: one self-contained HTML file (no network, assets
inlined) with the scorecards, Vega-Lite plots and a trajectory viewer.

Trajectories are embedded gzip-compressed, one `<script type="application/json">` per episode,
and decoded only when opened, so a 10,000-episode report opens at once. Event and result JSON is
copied from the store verbatim (never re-parsed), and unknown event kinds render generically."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, Field

from agentsafe.errors import AgentsafeError
from agentsafe.manifest import mixed_manifest_note
from agentsafe.models.results import EpisodeResult
from agentsafe.reports import charts
from agentsafe.reports.vendor import scripts as vendor_scripts
from agentsafe.scoring import METRICS, Rate, Scorecard, default_suite, score
from agentsafe.store import Store, gc_paused

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                          autoescape=jinja2.select_autoescape(["html", "j2"]),
                          trim_blocks=True, lstrip_blocks=True)


class RunHeader(BaseModel):
    """One run's line in the report header."""

    run_id: str
    agent: str
    label: str
    episodes: int
    manifest: str | None = None
    manifest_hash: str | None = None


class ScenarioInfo(BaseModel):
    """What the viewer shows of a scenario beyond the log: policy texts and injection canaries."""

    title: str = ""
    policies: dict[str, str] = Field(default_factory=dict, description="id -> description")
    injections: list[dict[str, Any]] = Field(default_factory=list)


def js_json(value: Any) -> str:
    """JSON safe inside a <script> element (no `</script>`, no `<!--`)."""
    return _safe(json.dumps(value, separators=(",", ":"), default=str))


def _safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _pack(text: str) -> str:
    """gzip + base64: decoded in the browser by DecompressionStream when the episode opens."""
    return base64.b64encode(gzip.compress(text.encode(), compresslevel=1, mtime=0)).decode()


def rate_rows(cards: Mapping[str, Scorecard]) -> list[dict[str, Any]]:
    """Every scalar Rate of the scorecards (new metrics appear on their own), labelled with its
    direction; per-dimension dicts are shown in their own table."""
    first = next(iter(cards.values()))
    rows = []
    for name, value in first:
        if not isinstance(value, Rate):
            continue
        info = METRICS.get(name)
        rows.append({
            "key": name,
            "label": info.label if info else name.replace("_", " "),
            "direction": info.direction.label if info else "",
            "arrow": info.direction.arrow if info else "",
            "formula": info.formula if info else "",
            "cells": [getattr(c, name).format() for c in cards.values()],
        })
    return rows


def dim_rows(cards: Mapping[str, Scorecard]) -> list[dict[str, Any]]:
    first = next(iter(cards.values()))
    return [{"dimension": d,
             "rr": [c.risk_ratio.get(d, Rate()).format() for c in cards.values()],
             "arr": [c.active_risk_ratio.get(d, Rate()).format() for c in cards.values()]}
            for d in first.risk_ratio]


def _scenario_infos(store: Store, run_ids: Iterable[str], wanted: set[str]) -> dict[str, ScenarioInfo]:
    """Policy texts and injections of the runs' scenarios, when their files are still here
    (a report of a store from elsewhere simply shows less)."""
    from agentsafe.errors import ConfigError
    from agentsafe.injection import canary
    from agentsafe.paths import ROOT
    from agentsafe.policy.library import load_library, resolve
    from agentsafe.scenarios import load_file

    files: set[Path] = set()
    for rid in run_ids:
        m = store.manifest(rid)
        if m is not None:
            files |= {ROOT / p if not Path(p).is_absolute() else Path(p)
                      for sid, p in m.scenarios.items() if sid in wanted}
    out: dict[str, ScenarioInfo] = {}
    if not files:
        return out
    try:
        lib = load_library()
    except ConfigError:
        return out
    for f in sorted(files):
        if not f.is_file():
            continue
        try:
            scenarios = load_file(f)
        except (ConfigError, OSError):
            continue
        for sc in scenarios:
            if sc.id not in wanted:
                continue
            try:
                pols = {p.id: p.description for p in resolve(sc, lib)}
            except ConfigError:
                pols = {}
            injections = []
            for inj in sc.injections:
                try:
                    can = canary(inj)
                except Exception:  # noqa: BLE001 - an unrenderable injection has no highlight
                    can = ""
                injections.append({"id": inj.id, "carrier": inj.carrier,
                                   "template": inj.template or "inline", "canary": can,
                                   "goal": inj.goal.description})
            out[sc.id] = ScenarioInfo(title=sc.title, policies=pols, injections=injections)
    return out


def _asr_rates(results: list[EpisodeResult], infos: Mapping[str, ScenarioInfo], label: str,
               field: str) -> dict[tuple[str, str], Rate]:
    groups: dict[str, list[EpisodeResult]] = defaultdict(list)
    for r in results:
        info = infos.get(r.scenario_id)
        if r.injected and info is not None:
            for g in {inj[field] for inj in info.injections}:
                groups[g].append(r)
    return {(label, g): score(rs, n_boot=300, ks=[1]).asr for g, rs in sorted(groups.items())}


def _ks(results: list[EpisodeResult], most: int = 10) -> list[int]:
    """pass^k and all-pass@k for k = 1..min(trials, 10): a page, not a table of hundreds."""
    trials = Counter((r.agent, r.scenario_id) for r in results)
    return list(range(1, min(max(trials.values(), default=1), most) + 1))


def _index_row(i: int, r: EpisodeResult, label: str) -> dict[str, Any]:
    vdims = sorted({str(v.dimension) for v in r.violations})
    return {
        "i": i, "run": r.run_id, "agent": label, "scenario": r.scenario_id, "trial": r.trial,
        "suite": default_suite(r), "category": r.risk.category, "level": r.risk.level,
        "dims": sorted({str(d) for d in r.risk.dimensions} | set(vdims)), "vdims": vdims,
        "status": str(r.status), "completed": r.completed, "violations": len(r.violations),
        "injected": r.injected, "exposed": r.exposed, "attack": r.attack_success,
        "steps": r.steps, "cost": round(r.usage.cost_usd, 6),
    }


def build_context(store: Store, run_ids: list[str], *, served: bool = False) -> dict[str, Any]:
    """Everything the template needs, read from the store in a few queries. `served`: for
    `agentsafe view`, where trajectories and screenshots are fetched from the server instead."""
    headers: list[RunHeader] = []
    cards: dict[str, Scorecard] = {}
    index: list[dict[str, Any]] = []
    trajectories: list[str] = []
    all_results: dict[str, list[EpisodeResult]] = {}
    agents = []
    for rid in run_ids:
        plan = store.plan(rid)
        if plan is None:
            raise AgentsafeError(f"no run '{rid}' in {store.path}")
        agents.append(plan.agent)
    shots: set[str] = set()
    for rid, agent in zip(run_ids, agents, strict=True):
        label = agent if agents.count(agent) == 1 else f"{agent} ({rid})"
        rows = store.raw_rows("SELECT scenario_id, trial, result FROM episodes WHERE run_id = ? "
                              "ORDER BY scenario_id, trial", rid)
        if not rows:
            raise AgentsafeError(f"run '{rid}' has no stored episodes")
        results = [EpisodeResult.model_validate_json(raw) for _, _, raw in rows]
        all_results[label] = results
        events = [] if served else store.raw_rows(
            "SELECT scenario_id, trial, event FROM events WHERE run_id = ? "
            "ORDER BY scenario_id, trial, seq", rid)
        by_key = {k: [e for _, _, e in g]
                  for k, g in itertools.groupby(events, key=lambda row: (row[0], row[1]))}
        for (sid, trial, raw), res in zip(rows, results, strict=True):
            evs = by_key.get((sid, trial), [])
            for e in evs:
                if '"screenshot"' in e:
                    sha = json.loads(e).get("data", {}).get("screenshot")
                    if isinstance(sha, str):
                        shots.add(sha)
            index.append(_index_row(len(index), res, label))
            if not served:
                trajectories.append('{"r":' + raw + ',"e":[' + ",".join(evs) + "]}")
        m = store.manifest(rid)
        headers.append(RunHeader(run_id=rid, agent=agent, label=label, episodes=len(results),
                                 manifest=m.short if m else None,
                                 manifest_hash=m.hash if m else None))
        cards[label] = score(results, ks=_ks(results))
    with ThreadPoolExecutor(max_workers=2) as pool:  # zlib releases the GIL
        trajectories = list(pool.map(_pack, trajectories, chunksize=256))
    wanted = {row["scenario"] for row in index}
    infos = _scenario_infos(store, run_ids, wanted)
    figures = [charts.cup_cr_chart(cards), charts.risk_ratio_chart(cards),
               charts.category_chart(cards)]
    for field, title in (("template", "ASR per attack template"), ("carrier", "ASR per carrier")):
        rates: dict[tuple[str, str], Rate] = {}
        for label, results in all_results.items():
            rates.update(_asr_rates(results, infos, label, field))
        if rates:
            figures.append(charts.asr_chart(title, rates, field))
    images = {}
    for sha in sorted(shots):
        art = store.artifact(sha)
        if art is not None:
            images[sha] = f"data:{art[0]};base64," + base64.b64encode(art[1]).decode()
    note = mixed_manifest_note({h.run_id: h.manifest_hash for h in headers})
    return {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": headers, "labels": list(cards), "rate_rows": rate_rows(cards),
        "dim_rows": dim_rows(cards), "cards": cards, "manifest_note": note,
        "figures_json": js_json(figures),
        "index_json": js_json(index),
        "scenarios_json": js_json({k: v.model_dump() for k, v in infos.items()}),
        "images": {k: _safe(v) for k, v in images.items()},
        "trajectories": trajectories,
        "served": served,
        "vendor": [_safe_script(s) for s in vendor_scripts()],
    }


def _safe_script(js: str) -> str:
    """Inline JS must not close its own <script> element."""
    return js.replace("</script", "<\\/script")


def render_html_report(store: Store, run_ids: list[str], *, served: bool = False) -> str:
    with gc_paused():
        ctx = build_context(store, run_ids, served=served)
        return _env.get_template("report.html.j2").render(**ctx)


def write_html_report(store: Store, run_ids: list[str], out: str | Path) -> Path:
    """Write the report; returns its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html_report(store, run_ids), encoding="utf-8")
    return out
