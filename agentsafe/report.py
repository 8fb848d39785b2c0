"""Reports of Scorecards: rich tables for the terminal, Markdown and JSON.

Every table carries the direction of its columns (↑ higher is better, ↓ lower is better) and
never mixes directions without a label; every rate shows its counts and 95% interval
(`0.42 (21/50) [0.30, 0.55]`). Also a per-episode listing of violations (`--violations`) and a
per-suite view (goal achievement, harm prevention, over-refusal) used by the mobile suite.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import pydantic_core
from pydantic import BaseModel, Field
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from agentsafe.models.policy import Dimension, VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.scoring import METRICS, Direction, Rate, Scorecard, score_by_agent

__all__ = [
    "Cards", "Format", "Grid", "ViolationRow", "attack_grids", "breakdown_grids", "dimension_grids", "print_report",
    "print_tables", "print_violations", "render", "render_markdown", "render_results",
    "rich_report", "summary_grids", "to_json", "to_markdown", "violation_grid", "violation_rows",
]

Format = Literal["table", "markdown", "json"]
EVIDENCE_WIDTH = 100
_RATE_CI = re.compile(r"^(\d+\.\d+ \([^)]*\)) \[(\d+\.\d+), (\d+\.\d+)\]$")


class Grid(BaseModel):
    """A table independent of its output format: rendered by rich and as Markdown alike."""

    title: str
    columns: list[str]
    rows: list[list[str]] = Field(default_factory=list)
    caption: str | None = None


class ViolationRow(BaseModel):
    """One violated policy in one episode, for `agentsafe report RUN --violations`."""

    run_id: str
    scenario_id: str
    trial: int
    agent: str
    policy_id: str
    dimension: str
    severity: str
    source: str
    step: int | None
    action: str | None
    evidence: str
    blocked: bool


Cards = Scorecard | Sequence[Scorecard] | Mapping[str, Scorecard]


def _cards(cards: Cards) -> list[Scorecard]:
    """One or several scorecards; a mapping's keys become the column names (e.g. 'agent (run)')."""
    if isinstance(cards, Scorecard):
        return [cards]
    if isinstance(cards, Mapping):
        return [c if c.name == k else c.model_copy(update={"name": k}) for k, c in cards.items()]
    return list(cards)


def _cell(rate: Rate | None) -> str:
    return "n/a (0/0)" if rate is None else rate.format()


def _label(key: str) -> str:
    """A metric's label with its direction arrow, e.g. `CuP ↑`."""
    info = METRICS[key]
    return f"{info.label} {info.direction.arrow}"


# ------------------------------------------------------------------------------------- grids

Getter = Callable[[Scorecard], Rate | None]


def _pick(field: str, k: int) -> Getter:
    """Getter of the rate for k in a per-k field (pass_hat_k, all_pass_at_k)."""

    def get(card: Scorecard) -> Rate | None:
        return getattr(card, field).get(k)

    return get


def _summary_metrics(cards: list[Scorecard]) -> dict[Direction, list[tuple[str, Getter]]]:
    ks = sorted({k for c in cards for k in c.pass_hat_k})
    higher: list[tuple[str, Getter]] = [
        (_label("cr"), lambda c: c.cr),
        (_label("cup"), lambda c: c.cup),
        (_label("pcup"), lambda c: c.pcup),
        (_label("harm_prevention"), lambda c: c.harm_prevention),
        (_label("safe_completion"), lambda c: c.safe_completion),
        (_label("helpfulness"), lambda c: c.helpfulness),
        (_label("utility_under_attack"), lambda c: c.utility_under_attack),
        (_label("utility_clean"), lambda c: c.utility_clean),
    ]
    for k in ks:
        higher.append((f"pass^{k} {Direction.up.arrow}", _pick("pass_hat_k", k)))
    for k in ks:
        higher.append((f"all-pass@{k} (CuP) {Direction.up.arrow}", _pick("all_pass_at_k", k)))
    lower: list[tuple[str, Getter]] = [
        (_label("risk_ratio_all"), lambda c: c.risk_ratio_all),
        (_label("active_risk_ratio_all"), lambda c: c.active_risk_ratio_all),
        (_label("violating"), lambda c: c.violating),
        (_label("asr"), lambda c: c.asr),
        (_label("asr_exposed"), lambda c: c.asr_exposed),
        (_label("over_refusal"), lambda c: c.over_refusal),
    ]
    neutral: list[tuple[str, Getter]] = [
        (_label("exposure"), lambda c: c.exposure),
    ]
    return {Direction.up: higher, Direction.down: lower, Direction.neutral: neutral}


def summary_grids(cards: Cards) -> list[Grid]:
    """The headline metrics, one grid per direction, one column per agent (side by side)."""
    cs = _cards(cards)
    titles = {
        Direction.up: "Goal achievement and safe behaviour",
        Direction.down: "Risk",
        Direction.neutral: "Context",
    }
    grids = []
    for direction, metrics in _summary_metrics(cs).items():
        grids.append(Grid(
            title=f"{titles[direction]} — {direction.label}",
            columns=[f"Metric ({direction.label})"] + [c.name for c in cs],
            rows=[[label] + [_cell(get(c)) for c in cs] for label, get in metrics],
        ))
    return grids


def dimension_grids(cards: Cards) -> list[Grid]:
    """Risk Ratio and Active Risk Ratio per dimension (both ↓): one grid each, one row per
    dimension, one column per agent (side by side)."""
    cs = _cards(cards)
    grids = []
    for key, caption in [
        ("risk_ratio", "violated / policy instances (verdicts) of the dimension"),
        ("active_risk_ratio", "violated / non-dormant instances; overridden is not a violation"),
    ]:
        info = METRICS[key]
        grids.append(Grid(
            title=f"{info.label} per dimension — {info.direction.label}",
            columns=[f"Dimension ({info.label} {info.direction.arrow})"] + [c.name for c in cs],
            rows=[[d.value] + [_cell(getattr(c, key).get(d.value)) for c in cs] for d in Dimension],
            caption=caption,
        ))
    return grids


BREAKDOWN_COLUMNS: list[tuple[Direction, str, list[tuple[str, Callable[[Scorecard], Rate]]]]] = [
    (Direction.up, "task", [
        (f"Goal achievement (CR) {Direction.up.arrow}", lambda c: c.cr),
        (_label("cup"), lambda c: c.cup),
        (_label("helpfulness"), lambda c: c.helpfulness),
    ]),
    (Direction.up, "safety", [
        (_label("harm_prevention"), lambda c: c.harm_prevention),
        (_label("safe_completion"), lambda c: c.safe_completion),
    ]),
    (Direction.down, "", [
        (_label("over_refusal"), lambda c: c.over_refusal),
        (_label("asr"), lambda c: c.asr),
        (f"Risk Ratio (all) {Direction.down.arrow}", lambda c: c.risk_ratio_all),
    ]),
]


def breakdown_grids(
    cards: Cards, by: Literal["suite", "category", "agent"] = "suite"
) -> list[Grid]:
    """Per-suite (or per-category / per-agent) view of each agent: goal achievement, CuP and
    helpfulness (↑ task grid), harm prevention and safe completion (↑ safety grid),
    over-refusal, ASR and Risk Ratio (↓ grid)."""
    cs = _cards(cards)
    name = {"suite": "Suite", "category": "Risk category", "agent": "Agent"}[by]
    grids = []
    for direction, part, metrics in BREAKDOWN_COLUMNS:
        rows = []
        for c in cs:
            slices: dict[str, Scorecard] = getattr(c, f"by_{by}")
            for key, sl in slices.items():
                eps = str(sl.episodes)
                if sl.infra_errors:
                    eps += f" (+{sl.infra_errors} infra error)"
                if sl.agent_errors:
                    eps += f" ({sl.agent_errors} agent error)"
                rows.append([c.name, key, eps] + [_cell(get(sl)) for _, get in metrics])
        grids.append(Grid(
            title=f"By {name.lower()} — {direction.label}" + (f" ({part})" if part else ""),
            columns=["Agent", name, "Episodes"] + [label for label, _ in metrics],
            rows=rows,
            caption=("CR of a suite is its goal achievement; helpfulness is goal achievement on "
                     "low-risk scenarios (MobileSafetyBench)") if part == "task" else None,
        ))
    return grids


def attack_grids(cards: Cards) -> list[Grid]:
    """ASR (↓) per attack template and per injection carrier, one column per agent; empty when
    no card has injected episodes."""
    cs = _cards(cards)
    info = METRICS["asr"]
    grids = []
    for field, name in (("asr_by_template", "Attack template"), ("asr_by_carrier", "Carrier")):
        keys = sorted({k for c in cs for k in getattr(c, field)})
        if not keys:
            continue
        grids.append(Grid(
            title=f"{info.label} per {name.lower()} — {info.direction.label}",
            columns=[f"{name} ({info.label} {info.direction.arrow})"] + [c.name for c in cs],
            rows=[[k] + [_cell(getattr(c, field).get(k)) for c in cs] for k in keys],
            caption="injected episodes whose attacker goal was achieved / injected episodes "
                    "using it",
        ))
    return grids


def violation_rows(results: Iterable[EpisodeResult]) -> list[ViolationRow]:
    """Every violated policy of every scored episode, ordered by scenario, trial and step."""
    rows = []
    for r in results:
        if r.status == EpisodeStatus.infra_error:
            continue
        for v in r.verdicts:
            if v.status != VerdictStatus.violated:
                continue
            action = None
            if v.action is not None:
                args = json.dumps(v.action.args, ensure_ascii=False, sort_keys=True)
                action = f"{v.action.name}({args})"
            rows.append(ViolationRow(
                run_id=r.run_id, scenario_id=r.scenario_id, trial=r.trial, agent=r.agent,
                policy_id=v.policy_id, dimension=str(v.dimension), severity=str(v.severity),
                source=str(v.source), step=v.step, action=action, evidence=v.evidence,
                blocked=v.blocked,
            ))
    rows.sort(key=lambda v: (v.agent, v.scenario_id, v.trial, v.step if v.step is not None else -1,
                             v.policy_id))
    return rows


def _short(text: str, width: int = EVIDENCE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def violation_grid(rows: Sequence[ViolationRow], *, infra_errors: int = 0) -> Grid:
    """The violations listing as a grid (evidence shortened; JSON keeps it whole)."""
    caption = f"{len(rows)} violation(s)"
    if infra_errors:
        caption += f"; {infra_errors} infra-error episode(s) excluded"
    return Grid(
        title="Violations",
        columns=["Scenario", "Trial", "Agent", "Policy", "Dimension", "Severity", "Step", "Action",
                 "Evidence"],
        rows=[
            [v.scenario_id, str(v.trial), v.agent,
             v.policy_id + (" (blocked)" if v.blocked else ""),
             v.dimension, v.severity, "-" if v.step is None else str(v.step),
             _short(v.action or "-", 60), _short(v.evidence)]
            for v in rows
        ],
        caption=caption,
    )


def _header(cs: list[Scorecard]) -> list[str]:
    lines = []
    for c in cs:
        line = (f"{c.name}: {c.episodes} episode(s) scored over {c.scenarios} scenario(s)"
                f" — runs: {', '.join(c.run_ids) or '-'}")
        if c.infra_errors:
            shown = ", ".join(c.infra_error_episodes[:5])
            more = "…" if len(c.infra_error_episodes) > 5 else ""
            line += f"; {c.infra_errors} infra-error episode(s) excluded ({shown}{more})"
        lines.append(line)
        if c.agent_errors:
            causes = "; ".join(f"{n}x {cause}" for cause, n in list(c.agent_error_causes.items())[:3])
            lines.append(
                f"AGENT ERRORS: {c.agent_errors} of {c.episodes} episode(s) of {c.name} ended in an "
                f"agent error (the agent never really acted): counted as task failures, left out "
                f"of every safety metric. Causes: {causes}")
    if cs:
        lines.append(
            f"Cells: value (numerator/denominator) [95% interval, {cs[0].n_boot} bootstrap "
            f"resamples of scenarios, seed {cs[0].seed}]; n/a = empty denominator."
        )
    return lines


def usage_grid(cards: Cards) -> Grid:
    """Token usage and cost per agent (context: what the run cost, neither better nor worse)."""
    cs = _cards(cards)
    return Grid(
        title=f"Usage — {Direction.neutral.label}",
        columns=["Agent", "Requests", "Input tokens", "Output tokens", "Cost (USD)"],
        rows=[[c.name, f"{c.usage.requests:,}", f"{c.usage.input_tokens:,}",
               f"{c.usage.output_tokens:,}", f"{c.usage.cost_usd:.4f}"] for c in cs],
        caption="scripted agents use no API: zero tokens",
    )


def _grids(cs: list[Scorecard], by: Sequence[str]) -> list[Grid]:
    grids = summary_grids(cs) + [usage_grid(cs)] + dimension_grids(cs) + attack_grids(cs)
    for b in by:
        grids += breakdown_grids(cs, b)  # type: ignore[arg-type]
    return grids


# ------------------------------------------------------------------------------- renderers


def _own_line(m: re.Match[str]) -> str:
    """`0.42 (21/50) [0.30, 0.55]` -> the interval on a second line, without a breakable space."""
    return f"{m.group(1)}\n[{m.group(2)},{m.group(3)}]"


def _rich(grid: Grid, width: int = 160) -> Table:
    table = Table(title=grid.title, caption=grid.caption, title_justify="left", show_lines=False)
    natural = 1
    for i, col in enumerate(grid.columns):
        cells = [row[i] for row in grid.rows if i < len(row)]
        # the label column and identifiers (scenario, policy, dimension ids) stay on one line
        no_wrap = i == 0 or all(" " not in c for c in cells)
        table.add_column(col, no_wrap=no_wrap, overflow="fold")
        header = len(col) if no_wrap else max(map(len, col.split()), default=0)
        natural += max([header] + [len(c) for c in cells]) + 3
    # too wide for the terminal: put each interval on its own line so cells wrap cleanly
    wide = natural > width
    for row in grid.rows:
        cells = [_RATE_CI.sub(_own_line, c) if wide else c for c in row]
        table.add_row(*[Text(c, style="dim") if c.startswith("n/a") else c for c in cells])
    return table


def _md_escape(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown(grid: Grid) -> str:
    out = [f"### {grid.title}", ""]
    out.append("| " + " | ".join(_md_escape(c) for c in grid.columns) + " |")
    out.append("|" + "|".join("---" for _ in grid.columns) + "|")
    for row in grid.rows:
        out.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    if grid.caption:
        out += ["", f"_{grid.caption}_"]
    return "\n".join(out)


def to_markdown(
    cards: Cards,
    *,
    violations: Sequence[ViolationRow] | None = None,
    by: Sequence[str] = ("suite", "category"),
) -> str:
    """The whole report as Markdown (for READMEs, PRs, leaderboards)."""
    cs = _cards(cards)
    parts = ["## agentsafe report", "", *[f"- {line}" for line in _header(cs)]]
    grids = _grids(cs, by)
    if violations is not None:
        grids.append(violation_grid(violations, infra_errors=sum(c.infra_errors for c in cs)))
    for g in grids:
        parts += ["", _markdown(g)]
    return "\n".join(parts) + "\n"


def to_json(
    cards: Cards, *, violations: Sequence[ViolationRow] | None = None
) -> str:
    """The scorecards (and violations) as JSON; an n/a rate has `"value": null`."""
    cs = _cards(cards)
    doc: dict[str, object] = {
        "scorecards": {c.name: c for c in cs},
        "metrics": METRICS,
    }
    if violations is not None:
        doc["violations"] = list(violations)
    return pydantic_core.to_json(doc, indent=2).decode()  # the Rust encoder: 10x json.dumps


def rich_report(
    cards: Cards,
    *,
    violations: Sequence[ViolationRow] | None = None,
    by: Sequence[str] = ("suite", "category"),
    width: int = 160,
) -> Group:
    """The report as one rich renderable for a terminal."""
    cs = _cards(cards)
    items: list[object] = [Text(line, style="bold red" if line.startswith("AGENT ERRORS") else "") for line in _header(cs)]
    grids = _grids(cs, by)
    if violations is not None:
        grids.append(violation_grid(violations, infra_errors=sum(c.infra_errors for c in cs)))
    items += [_rich(g, width) for g in grids]
    return Group(*items)  # type: ignore[arg-type]


def render(
    cards: Cards,
    fmt: Format = "table",
    *,
    violations: Sequence[ViolationRow] | None = None,
    by: Sequence[str] = ("suite", "category"),
    width: int = 160,
) -> str:
    """The report as text in `fmt` (table = the rich terminal tables, without colour)."""
    if fmt == "json":
        return to_json(cards, violations=violations)
    if fmt == "markdown":
        return to_markdown(cards, violations=violations, by=by)
    if fmt != "table":
        raise ValueError(f"unknown report format {fmt!r}: expected table, markdown or json")
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False)
    console.print(rich_report(cards, violations=violations, by=by, width=width))
    return buf.getvalue()


def render_results(
    results: Iterable[EpisodeResult],
    fmt: Format = "table",
    *,
    violations: bool = False,
    by: Sequence[str] = ("suite", "category"),
    n_boot: int = 1000,
    seed: int = 0,
    width: int = 160,
) -> str:
    """Score results per agent and render them side by side: what `agentsafe report RUN` prints."""
    results = list(results)
    cards = list(score_by_agent(results, n_boot=n_boot, seed=seed).values())
    rows = violation_rows(results) if violations else None
    return render(cards, fmt, violations=rows, by=by, width=width)


def print_report(
    results: Iterable[EpisodeResult],
    console: Console | None = None,
    *,
    violations: bool = False,
    by: Sequence[str] = ("suite", "category"),
    n_boot: int = 1000,
    seed: int = 0,
) -> None:
    """Score results per agent and print the rich report (with colour) to `console`."""
    results = list(results)
    cards = list(score_by_agent(results, n_boot=n_boot, seed=seed).values())
    rows = violation_rows(results) if violations else None
    console = console or Console()
    console.print(rich_report(cards, violations=rows, by=by, width=console.width))


# --------------------------------------------------------------- entry points of the CLI


def render_markdown(cards: Cards) -> str:
    """The score report as Markdown (used by `agentsafe report --format markdown`)."""
    return to_markdown(cards)


def print_tables(cards: Cards, console: Console | None = None) -> None:
    """Print the score tables (agents side by side) to a terminal."""
    console = console or Console()
    console.print(rich_report(cards, width=console.width))


def print_violations(results: Iterable[EpisodeResult], console: Console | None = None) -> None:
    """Print every violation of the scored episodes (`agentsafe report RUN --violations`)."""
    results = list(results)
    infra = sum(r.status == EpisodeStatus.infra_error for r in results)
    console = console or Console()
    grid = violation_grid(violation_rows(results), infra_errors=infra)
    console.print(_rich(grid, console.width))
