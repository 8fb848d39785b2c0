"""`agentsafe leaderboard BUNDLE... -o site/`: a static site of verified bundles only. One sortable
table (CuP, CR, Risk Ratio per dimension, ASR, over-refusal, cost, each with its interval), the
suite version of each row, a link to each agent's HTML report, and sanity flags as the anchors
raise them: CuP > CR is impossible (rejected), dormancy above 85%, all agent errors."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import jinja2
import numpy as np
from pydantic import BaseModel, Field

from agentsafe.bundle.importer import import_bundle
from agentsafe.bundle.model import EPISODES, META, BundleMeta
from agentsafe.bundle.verify import VerifyReport, read_bundle, verify_bundle
from agentsafe.manifest import SuiteManifest, mixed_manifest_note
from agentsafe.models.policy import Dimension, VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.reports.html import write_html_report
from agentsafe.scoring import Rate, Scorecard, score
from agentsafe.store import Store

TEMPLATES = Path(__file__).resolve().parent / "templates"
DORMANCY_LIMIT = 0.85
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)


class Cell(BaseModel):
    """One figure: sort key, text with count and interval."""

    v: float | None
    text: str


class Row(BaseModel):
    agent: str
    run_id: str
    suite: str
    manifest_hash: str
    episodes: int
    report: str
    cells: dict[str, Cell] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)


class Rejected(BaseModel):
    bundle: str
    reasons: list[str]


def _cell(rate: Rate) -> Cell:
    return Cell(v=rate.value, text=rate.format())


def cost_cell(results: list[EpisodeResult], n_boot: int = 1000, seed: int = 0) -> Cell:
    """Mean cost per episode (USD) with a 95% bootstrap interval over episodes, and the total."""
    costs = np.array([r.usage.cost_usd for r in results], dtype=np.float64)
    if not len(costs):
        return Cell(v=None, text="n/a")
    rng = np.random.default_rng(seed)
    means = costs[rng.integers(0, len(costs), size=(n_boot, len(costs)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return Cell(v=float(costs.mean()),
                text=f"${costs.mean():.4f}/ep (total ${costs.sum():.2f}) [{lo:.4f}, {hi:.4f}]")


def sanity_flags(card: Scorecard, results: list[EpisodeResult]) -> tuple[list[str], list[str]]:
    """(flags shown on the row, reasons to reject the bundle)."""
    flags, reject = [], []
    if card.cup.value is not None and card.cr.value is not None and card.cup.value > card.cr.value + 1e-12:
        reject.append(f"CuP {card.cup.value:.3f} > CR {card.cr.value:.3f} is impossible")
    verdicts = [v for r in results for v in r.verdicts]
    if verdicts:
        dormant = sum(v.status == VerdictStatus.dormant for v in verdicts) / len(verdicts)
        if dormant > DORMANCY_LIMIT:
            flags.append(f"dormancy {dormant:.0%} > {DORMANCY_LIMIT:.0%}: most policies never came into play")
    scored = [r for r in results if r.status != EpisodeStatus.infra_error]
    if scored and all(r.status == EpisodeStatus.agent_error for r in scored):
        flags.append("all episodes are agent errors: the agent never really acted")
    return flags, reject


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def columns() -> list[tuple[str, str]]:
    """(key, header) of the sortable figures, directions in the headers."""
    cols = [("cup", "CuP ↑"), ("cr", "CR ↑")]
    cols += [(f"rr.{d.value}", f"Risk Ratio {d.value} ↓") for d in Dimension]
    cols += [("asr", "ASR ↓"), ("over_refusal", "Over-refusal ↓"), ("cost", "Cost ↓")]
    return cols


def build_site(bundles: Iterable[str | Path], out: str | Path, *, known: SuiteManifest | None = None,
               replay: bool = False, on_bundle: Callable[[str, VerifyReport], None] | None = None,
               ) -> tuple[list[Row], list[Rejected]]:
    """Verify every bundle; write index.html and one report per accepted bundle under `out`."""
    out = Path(out)
    (out / "reports").mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for b in bundles:
        rep = verify_bundle(b, known=known, replay=replay)
        if on_bundle:
            on_bundle(str(b), rep)
        if not rep.ok:
            rejected.append(Rejected(bundle=Path(b).name, reasons=rep.problems))
            continue
        files = read_bundle(b)
        meta = BundleMeta.model_validate_json(files[META])
        results = [EpisodeResult.model_validate_json(line) for line in
                   files[EPISODES].decode().splitlines() if line.strip()]
        card = score(results)
        flags, reject = sanity_flags(card, results)
        if reject:
            rejected.append(Rejected(bundle=Path(b).name, reasons=reject))
            continue
        name = f"reports/{_slug(meta.agent)}-{_slug(meta.run_id)}.html"
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "bundle.sqlite")
            import_bundle(files, store)
            write_html_report(store, [meta.run_id], out / name)
            store.close()
        cells = {"cup": _cell(card.cup), "cr": _cell(card.cr), "asr": _cell(card.asr),
                 "over_refusal": _cell(card.over_refusal), "cost": cost_cell(results)}
        for d in Dimension:
            cells[f"rr.{d.value}"] = _cell(card.risk_ratio.get(d.value, Rate()))
        rows.append(Row(agent=meta.agent, run_id=meta.run_id, suite=meta.manifest.short,
                        manifest_hash=meta.manifest.hash, episodes=card.episodes, report=name,
                        cells=cells, flags=flags))
    rows.sort(key=lambda r: -(r.cells["cup"].v or 0))
    note = mixed_manifest_note({r.run_id: r.manifest_hash for r in rows})
    html = _env.get_template("leaderboard.html.j2").render(
        rows=rows, rejected=rejected, columns=columns(), note=note,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        suites=sorted({r.suite for r in rows}))
    (out / "index.html").write_text(html, encoding="utf-8")
    return rows, rejected


__all__ = ["build_site", "cost_cell", "sanity_flags"]

