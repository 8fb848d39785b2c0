"""The `agentsafe` command line: list, check, run, report, runs, sandbox prune, serve."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentsafe.errors import AgentsafeError, ConfigError
from agentsafe.paths import RESULTS_DB, SCENARIOS_DIR

app = typer.Typer(
    help="agentsafe: test how safely LLM agents act in web, mobile and OS sandboxes.",
    no_args_is_help=True, pretty_exceptions_show_locals=False,
)
sandbox_app = typer.Typer(help="Manage sandbox resources (containers).", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
suite_app = typer.Typer(help="Describe scenario suites.", no_args_is_help=True)
app.add_typer(suite_app, name="suite")
console = Console()
err = Console(stderr=True)

PathsArg = Annotated[list[Path] | None, typer.Argument(help="Scenario files or directories.")]
BrowserOpt = Annotated[str | None, typer.Option(
    "--browser", help="Chromium build for web/mobile: headless-shell, chromium, playwright or a path "
    "(default: the lightest installed; env AGENTSAFE_CHROMIUM).")]
DbOpt = Annotated[Path, typer.Option("--db", help="SQLite results store.", envvar="AGENTSAFE_DB")]


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {e}")
    raise typer.Exit(2)


def _load(paths: list[Path] | None):
    from agentsafe.scenarios import load_scenarios

    try:
        return load_scenarios(paths or [SCENARIOS_DIR])
    except ConfigError as e:
        _fail(e)


def make_agent(spec: str, options: dict[str, Any]):
    """An agent from a spec: careful, reckless, idle, refuse, openai:MODEL, anthropic:MODEL, python:mod:Class."""
    try:
        from agentsafe.agents.loader import make_agent as load
    except ImportError:
        load = None
    if load is not None:
        return load(spec, **options)
    from agentsafe.agents.scripted import builtin_agent

    agent = builtin_agent(spec)
    if agent is None:
        raise AgentsafeError(f"unknown agent '{spec}' (built in: careful, reckless, idle, refuse)")
    return agent


@app.command("list")
def list_cmd(paths: PathsArg = None, kind: Annotated[str | None, typer.Option(help="os, web or mobile")] = None) -> None:
    """List scenarios with their sandbox, risk labels, policies and injections."""
    scenarios = [s for s in _load(paths) if kind is None or s.sandbox.kind == kind]
    t = Table(title=f"{len(scenarios)} scenarios")
    for col in ("id", "kind", "category", "risk", "safe behaviour", "origin", "policies",
                "injections", "twin"):
        t.add_column(col)
    for s in scenarios:
        t.add_row(s.id, s.sandbox.kind + (f"/{s.sandbox.app}" if s.sandbox.app else ""),
                  s.risk.category, s.risk.level, s.risk.safe_behaviour or "", s.risk.origin,
                  str(len(s.policies)),
                  str(len(s.injections)), s.risk.twin or "")
    console.print(t)


@app.command()
def check(
    paths: PathsArg = None,
    runtime: Annotated[str, typer.Option(help="local or docker")] = "local",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Scenarios checked at once.")] = 2,
    browser: BrowserOpt = None,
) -> None:
    """Prove each scenario: reference completes with zero violations, an idle agent fails the
    checks (unless risk.do_nothing_ok), the unsafe reference and every unsafe variant violate
    their policies, every injection reaches the agent; every failed step is shown."""
    from agentsafe.runner.run import resolve_all
    from agentsafe.selfcheck import check_scenarios

    _use_browser(browser)
    scenarios = _load(paths)
    try:
        policies = resolve_all(scenarios)
    except ConfigError as e:
        _fail(e)
    from agentsafe.labels import label_problems

    mislabelled = label_problems(scenarios, policies)
    for sid, problems in mislabelled.items():
        console.print(f"[red]FAIL[/] {sid} (risk labels)")
        for p in problems:
            console.print(f"    [red]-[/] {p}")
    failed: list = []

    def show(r) -> None:
        mark = "[green]ok[/]" if r.ok else "[red]FAIL[/]"
        console.print(f"{mark} {r.scenario_id} ({r.careful_steps} steps, {r.runs} runs, "
                      f"{r.seconds:.2f}s)", highlight=False)
        for f in r.findings:
            colour = "red" if f.level == "fail" else "yellow"
            console.print(f"    [{colour}]{'x' if f.level == 'fail' else '·'}[/] ", escape(f.line()),
                          sep="", highlight=False)
        if not r.ok:
            failed.append(r)

    results = anyio.run(lambda: check_scenarios(scenarios, policies, runtime=runtime, jobs=jobs, on_done=show))
    if failed:
        t = Table(title="What failed", show_lines=False)
        for col in ("scenario", "run", "step", "problem"):
            t.add_column(col, overflow="fold")
        for r in failed:
            for f in r.findings:
                if f.level == "fail":
                    t.add_row(r.scenario_id, f.run, "" if f.step is None else str(f.step),
                              escape(f.text))
        console.print(t)
    _print_matrix_check(scenarios, results)
    console.print(f"\n[bold]{len(results) - len(failed)}/{len(results)} scenarios pass the self-check[/]")
    if mislabelled:
        console.print(f"[bold red]{len(mislabelled)} scenario(s) have inconsistent risk labels[/]")
    if failed or mislabelled:
        raise typer.Exit(1)


def _print_matrix_check(scenarios, results) -> None:
    """Attack-matrix cases: reachable / achievable / solvable per matrix (AgentDojo's self-check)."""
    from agentsafe.selfcheck_matrix import summarise

    rows = summarise(scenarios, results)
    if not rows:
        return
    t = Table(title="Attack matrix self-check (security cases)")
    for col in ("matrix", "cases", "injection reachable", "goal achievable", "task solvable", "clean tasks"):
        t.add_column(col)
    for r in rows:
        t.add_row(r.matrix, str(r.cases), f"{r.reachable}/{r.cases}", f"{r.achievable}/{r.cases}",
                  f"{r.solvable}/{r.cases + r.clean}", str(r.clean))
    console.print(t)


def _use_browser(browser: str | None) -> None:
    """Pin the Chromium build for this process and its workers (checked before anything runs)."""
    if not browser:
        return
    import os

    from agentsafe.browser.launch import BROWSER_ENV, browser_candidates

    try:
        browser_candidates(browser)
    except AgentsafeError as e:
        _fail(e)
    os.environ[BROWSER_ENV] = browser


@app.command()
def run(
    paths: PathsArg = None,
    agent: Annotated[str, typer.Option(help="careful | reckless | idle | refuse | openai:MODEL | anthropic:MODEL | python:mod:Class")] = "careful",
    base_url: Annotated[str | None, typer.Option(help="The agent's API endpoint. openai:MODEL speaks the OpenAI Chat Completions protocol: give the root with /v1 (vLLM, Ollama, LM Studio: http://127.0.0.1:8000/v1). anthropic:MODEL speaks the Anthropic Messages protocol: give the root (a trailing /v1 is accepted).")] = None,
    turn_timeout: Annotated[float, typer.Option(help="Seconds the agent may take for one turn (one act() call, all its API retries included); a turn over the limit ends the episode as an agent error.")] = 300.0,
    agent_opt: Annotated[list[str] | None, typer.Option("--agent-opt", help="Agent option KEY=VALUE (JSON values allowed), e.g. vision=true. Repeatable.")] = None,
    runtime: Annotated[str, typer.Option(help="local or docker")] = "local",
    mode: Annotated[str, typer.Option(help="observe (benchmark) or guard (block violating calls)")] = "observe",
    trials: Annotated[int, typer.Option(help="Trials per scenario (for pass^k).")] = 1,
    max_episodes: Annotated[int, typer.Option(
        help="Episodes run at once (0: chosen from the cores, the browser build and free memory).")] = 0,
    kind: Annotated[str | None, typer.Option(help="Only scenarios of this sandbox kind.")] = None,
    sample: Annotated[int | None, typer.Option(help="Run a stratified sample of N scenarios "
                                               "(keeps category and dimension proportions).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample.")] = 0,
    resume: Annotated[str | None, typer.Option(help="Resume the run with this id.")] = None,
    run_id: Annotated[str | None, typer.Option(help="Id for a new run.")] = None,
    db: DbOpt = RESULTS_DB,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    report_format: Annotated[str, typer.Option("--format", help="table, markdown, json or none")] = "table",
    screenshots: Annotated[bool, typer.Option("--screenshots", help="Keep a screenshot of every web/mobile observation (stored once per distinct image; shown by the HTML report).")] = False,
    browser: BrowserOpt = None,
    executor: Annotated[str, typer.Option(help="local (this host) or ray (a Ray cluster, see docs/scale.md)")] = "local",
    ray_address: Annotated[str, typer.Option(help="Ray cluster: auto, HOST:PORT or ray://HOST:10001.", envvar="RAY_ADDRESS")] = "auto",
    ray_runtime_env: Annotated[str | None, typer.Option(help="Ray runtime_env as JSON (working_dir, py_modules, pip...).")] = None,
) -> None:
    """Run a suite against an agent; every finished episode is committed to the store."""
    from agentsafe.runner.run import execute_run, new_run_id
    from agentsafe.store import RunPlan, Store

    _use_browser(browser)
    if mode not in ("observe", "guard"):
        _fail(AgentsafeError("--mode must be observe or guard"))
    store = Store(db)
    options: dict[str, Any] = {"base_url": base_url} if base_url else {}
    for item in agent_opt or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            _fail(AgentsafeError(f"--agent-opt takes KEY=VALUE, got {item!r}"))
        if "key" in key.lower() or "token" in key.lower():
            _fail(AgentsafeError(f"--agent-opt {key}: pass credentials through the environment, never on the command line"))
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    if resume:
        plan = store.plan(resume)
        if plan is None:
            _fail(AgentsafeError(f"no run '{resume}' in {db}"))
        scenarios = [s for s in _load([Path(p) for p in plan.scenario_paths]) if s.id in set(plan.scenario_ids)]
        missing = set(plan.scenario_ids) - {s.id for s in scenarios}
        if missing:
            _fail(AgentsafeError(f"scenarios of run {resume} no longer exist: {sorted(missing)}"))
        stored = len(store.done_keys(resume))
        retry = store.count(resume) - stored
        console.print(f"resuming run [bold]{resume}[/]: {stored} episodes already stored"
                      + (f", {retry} infra-error episode(s) to retry" if retry else ""))
    else:
        scenarios = [s for s in _load(paths) if kind is None or s.sandbox.kind == kind]
        if sample is not None:
            from agentsafe.sampling import stratified_sample

            try:
                scenarios = stratified_sample(scenarios, sample, seed)
            except ValueError as e:
                _fail(AgentsafeError(str(e)))
        if not scenarios:
            _fail(AgentsafeError("no scenarios selected"))
        if max_episodes <= 0:
            from agentsafe.runner.limits import default_max_episodes

            max_episodes = default_max_episodes({s.sandbox.kind for s in scenarios})
        plan = RunPlan(
            run_id=run_id or new_run_id(agent), agent=agent,
            scenario_paths=[str(p) for p in (paths or [SCENARIOS_DIR])],
            scenario_ids=[s.id for s in scenarios], trials=trials, runtime=runtime, mode=mode,
            max_episodes=max_episodes, agent_options=options,
            settings={**({"screenshots": True} if screenshots else {}),
                      **({"turn_timeout": turn_timeout} if turn_timeout != 300.0 else {})},
        )
        if store.plan(plan.run_id) is not None:
            _fail(AgentsafeError(f"run id '{plan.run_id}' is already in {db}: choose another "
                                 f"--run-id, or continue it with --resume {plan.run_id}"))
        try:  # resolve the agent before the run row exists: a bad spec leaves nothing behind
            make_agent(plan.agent, plan.agent_options)
        except AgentsafeError as e:
            _fail(e)
        store.create_run(plan)
        _record_manifest(store, plan, scenarios)
        console.print(f"run [bold]{plan.run_id}[/]: {len(scenarios)} scenarios x {trials} trial(s), "
                      f"agent {agent}, runtime {runtime}, mode {mode}, {max_episodes} at once -> {db}")
    try:
        make_agent(plan.agent, plan.agent_options)  # fail fast on a bad spec
        shots = {"screenshots": True} if plan.settings.get("screenshots") else {}
        from agentsafe.runner.session import Timeouts

        if turn_timeout <= 0:
            _fail(AgentsafeError(f"--turn-timeout must be > 0 seconds, got {turn_timeout}"))
        timeouts = Timeouts(agent=float(plan.settings.get("turn_timeout", 300.0)))
        runner = _executor(executor, ray_address, ray_runtime_env)
        stats = anyio.run(lambda: execute_run(
            plan, store, scenarios, lambda: make_agent(plan.agent, plan.agent_options),
            progress=progress, console=console, timeouts=timeouts, executor=runner,
            sandbox_options={"web": shots, "mobile": shots} if shots else None,
        ))
    except AgentsafeError as e:
        _fail(e)
    _print_report([plan.run_id], store, report_format, violations=False)
    _fail_if_agent_never_ran(store, plan.run_id)
    if stats.agent_errors:
        err.print(f"[bold red]{stats.agent_errors} episode(s) ended in an agent error[/] (the agent "
                  "crashed or timed out): scored as task failures, never as safe; see the report "
                  "header for the causes")
    if stats.infra_errors:
        err.print(f"[yellow]{stats.infra_errors} episode(s) lost to infrastructure errors "
                  f"(not scored; `agentsafe run --resume {plan.run_id}` retries them)[/]")


def _fail_if_agent_never_ran(store, run_id: str) -> None:
    """Exit 1 naming the cause when every scored episode of a run is an agent error: such a run
    measured nothing about the agent (a wrong key, a dead endpoint, a crashing agent)."""
    from agentsafe.models.results import EpisodeStatus
    from agentsafe.scoring import error_cause

    scored = [r for r in store.episodes(run_id) if r.status != EpisodeStatus.infra_error]
    if scored and all(r.status == EpisodeStatus.agent_error for r in scored):
        causes = sorted({error_cause(r) for r in scored})
        err.print(f"[bold red]error:[/] all {len(scored)} episode(s) of run {run_id} ended in an "
                  f"agent error; nothing about the agent was measured. Cause: {'; '.join(causes[:3])}")
        raise typer.Exit(1)


def _executor(name: str, address: str, runtime_env: str | None):
    """The executor for `--executor` (local, or ray with its address and runtime_env)."""
    from agentsafe.runner.executors import make_executor

    if name != "ray":
        return make_executor(name)
    try:
        env = json.loads(runtime_env) if runtime_env else None
    except json.JSONDecodeError as e:
        raise AgentsafeError(f"--ray-runtime-env is not valid JSON: {e}") from None
    return make_executor("ray", address=address, runtime_env=env)


def _print_report(run_ids: list[str], store, fmt: str, violations: bool) -> None:
    from agentsafe.store import gc_paused

    if fmt == "none":
        return
    with gc_paused():  # tens of thousands of results alive: the cyclic GC would triple the time
        _report_body(run_ids, store, fmt, violations)


def _report_body(run_ids: list[str], store, fmt: str, violations: bool) -> None:
    from agentsafe import report as rep
    from agentsafe.scoring import score

    # only scoring reads the results unless violations are listed: load just what it reads
    results: dict[str, Any] = {
        rid: store.episodes(rid) if violations else store.scored(rid) for rid in run_ids}
    agents = []
    for rid in run_ids:
        plan = store.plan(rid)
        agents.append(plan.agent if plan else rid)
        if not results[rid]:
            _fail(AgentsafeError(f"run '{rid}' has no stored episodes"))
    cards = {
        (agent if agents.count(agent) == 1 else f"{agent} ({rid})"): score(results[rid])
        for rid, agent in zip(run_ids, agents)
    }
    if fmt == "json":
        rows = [r for rid in run_ids for r in rep.violation_rows(results[rid])] if violations else None
        print(rep.to_json(cards, violations=rows))
        return
    if fmt in ("markdown", "md"):
        rows = [r for rid in run_ids for r in rep.violation_rows(results[rid])] if violations else None
        print(rep.to_markdown(cards, violations=rows))
        return
    out = _report_console()
    rep.print_tables(cards, out)
    if violations:
        for rid in run_ids:
            rep.print_violations(results[rid], out)


def _report_console() -> Console:
    """The terminal console, or for a pipe or file a wide one ($COLUMNS, else 200 columns):
    rich would squeeze a report to 80 columns when it cannot ask a terminal."""
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=200)


@app.command()
def report(
    runs: Annotated[list[str], typer.Argument(help="Run ids (several are shown side by side).")],
    db: DbOpt = RESULTS_DB,
    fmt: Annotated[str, typer.Option("--format", help="table, markdown, json or html")] = "table",
    violations: Annotated[bool, typer.Option("--violations", help="List every violation.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File for --format html.")] = None,
) -> None:
    """Score stored runs: CR, CuP, Risk Ratio per dimension, attack and harm metrics
    (`--format html -o report.html`: one offline file with plots and a trajectory viewer)."""
    from agentsafe.manifest import mixed_manifest_note
    from agentsafe.store import Store

    store = Store(db)
    for rid in runs:
        if store.plan(rid) is None:
            _fail(AgentsafeError(f"no run '{rid}' in {db}"))
    note = mixed_manifest_note({rid: store.manifest_hash(rid) for rid in runs})
    if fmt == "html":
        from agentsafe.reports.html import write_html_report

        out = output or Path("report.html")
        try:
            write_html_report(store, runs, out)
        except AgentsafeError as e:
            _fail(e)
        err.print(f"wrote [bold]{out}[/] (open it in a browser; it works offline)")
    else:
        _print_report(runs, store, fmt, violations)
    for rid in runs:
        m = store.manifest(rid)
        err.print(f"run {rid}: suite {m.short if m else 'manifest not recorded'}")
    if note:
        err.print(f"[bold yellow]warning:[/] {note}")


@app.command()
def runs(db: DbOpt = RESULTS_DB) -> None:
    """List the runs in the store."""
    import datetime as dt

    from agentsafe.store import Store

    t = Table(title=str(db))
    for col in ("run", "agent", "created", "status", "episodes"):
        t.add_column(col)
    store = Store(db)
    for r in store.runs():
        # an MCP run is created as `mcp`; its episodes name the client (`mcp:claude-code`)
        names = sorted({a for (a,) in store.raw_rows(
            "SELECT DISTINCT json_extract(result, '$.agent') FROM episodes WHERE run_id = ?",
            r.id) if a} - {r.agent})
        t.add_row(r.id, ", ".join(names) if names else r.agent, dt.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M"),
                  r.status, f"{r.episodes}/{r.planned}")
    console.print(t)


@app.command()
def serve(
    scenario: Annotated[str, typer.Argument(help="A scenario YAML file, or a scenario id.")],
    transport: Annotated[str, typer.Option(help="stdio, or http (127.0.0.1, bearer token).")] = "stdio",
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1 (0: any free port).")] = 0,
    scenario_id: Annotated[str | None, typer.Option("--id", help="Scenario id within the file.")] = None,
    runtime: Annotated[str, typer.Option(help="local or docker")] = "local",
    mode: Annotated[str, typer.Option(help="observe or guard")] = "observe",
    db: DbOpt = RESULTS_DB,
) -> None:
    """Expose one episode of SCENARIO over MCP: any MCP client acts, the policy engine watches,
    finish/refuse ends the episode and its result is stored. Token: $AGENTSAFE_MCP_TOKEN or generated."""
    from agentsafe.mcp_server import serve as do_serve

    if transport not in ("stdio", "http") or mode not in ("observe", "guard"):
        _fail(AgentsafeError("--transport must be stdio or http, --mode observe or guard"))
    try:
        anyio.run(lambda: do_serve(scenario, transport=transport, port=port,  # type: ignore[arg-type]
                                   scenario_id=scenario_id, db=db, runtime=runtime, mode=mode))  # type: ignore[arg-type]
    except AgentsafeError as e:
        _fail(e)


@suite_app.command("stats")
def suite_stats(
    paths: PathsArg = None,
    db: DbOpt = RESULTS_DB,
    run_baselines: Annotated[bool, typer.Option(
        "--run-baselines", help="First run the four baselines (careful, reckless, idle, "
        "refuse) on these scenarios, stored in --db; else their newest stored runs are read.")] = False,
    runtime: Annotated[str, typer.Option(help="local or docker (with --run-baselines)")] = "local",
    max_episodes: Annotated[int, typer.Option(help="Episodes at once (with --run-baselines).")] = 2,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Counts per kind, dimension, category, carrier, template and tier; policy instances per
    task; the share of scenarios on which the baselines' outcomes differ (from their newest
    stored runs) and the scenarios on which they do not."""
    from agentsafe import suite_stats as st
    from agentsafe.runner.run import execute_run, new_run_id, resolve_all
    from agentsafe.store import RunPlan, Store

    scenarios = _load(paths)
    try:
        policies = resolve_all(scenarios)
    except ConfigError as e:
        _fail(e)
    stats = st.compute(scenarios, policies)
    ids = [s.id for s in scenarios]
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    if run_baselines:
        for agent in st.BASELINES:
            plan = RunPlan(run_id=new_run_id(agent), agent=agent,
                           scenario_paths=[str(p) for p in (paths or [SCENARIOS_DIR])],
                           scenario_ids=ids, runtime=runtime, max_episodes=max_episodes)
            store.create_run(plan)
            _record_manifest(store, plan, scenarios)
            console.print(f"baseline [bold]{agent}[/]: {len(ids)} scenarios -> run {plan.run_id}")
            try:
                anyio.run(lambda plan=plan, agent=agent: execute_run(
                    plan, store, scenarios, lambda: st.baseline_agent(agent), progress=True,
                    console=console))
            except AgentsafeError as e:
                _fail(e)
    stats.separation = st.separation(store, ids)
    if fmt == "json":
        print(stats.model_dump_json(indent=2))
        return
    _print_stats(stats)


def _print_stats(stats) -> None:
    console.print(f"[bold]{stats.scenarios} scenarios[/], {stats.security_cases} with an injection "
                  "(attack-matrix security cases counted once each)")
    groups = [("kind", stats.by_kind), ("dimension", stats.by_dimension),
              ("category", stats.by_category), ("carrier", stats.by_carrier),
              ("attack template", stats.by_template), ("tier", stats.by_tier),
              ("risk level", stats.by_level), ("safe behaviour", stats.by_safe_behaviour)]
    for name, counts in groups:
        t = Table(title=f"Scenarios per {name}", title_justify="left")
        t.add_column(name)
        t.add_column("scenarios", justify="right")
        for c in counts:
            t.add_row(c.name, str(c.n))
        console.print(t)
    dens = stats.policies
    t = Table(title="Policy instances per task (library + inline; injection goals excluded)",
              title_justify="left")
    t.add_column("")
    for d in dens:
        t.add_column(d.kind, justify="right")
    t.add_row("tasks", *[str(d.tasks) for d in dens])
    t.add_row("instances", *[str(d.instances) for d in dens])
    t.add_row("[bold]per task[/]", *[f"[bold]{d.per_task:.2f}[/]" for d in dens])
    for field in ("by_dimension", "by_rule"):
        keys = sorted({k for d in dens for k in getattr(d, field)})
        t.add_section()
        for k in keys:
            t.add_row(k, *[str(getattr(d, field).get(k, 0)) for d in dens])
    console.print(t)
    sep = stats.separation
    if sep is None:
        return
    console.print(f"[bold]Baselines[/] ({', '.join(sep.agents)}; runs: "
                  f"{', '.join(f'{a}={r}' for a, r in sep.runs.items()) or 'none stored'})")
    if sep.missing:
        console.print("  not yet played: " + ", ".join(f"{a} {n}" for a, n in sep.missing.items())
                      + " scenario(s) (add --run-baselines)")
    share = "n/a" if sep.share is None else f"{sep.share:.1%}"
    console.print(f"  outcomes differ on {sep.differing}/{sep.compared} scenarios ({share})")
    if sep.not_differing:
        console.print(f"  [red]no difference on {len(sep.not_differing)}:[/] " + ", ".join(sep.not_differing))
    if sep.careful_not_above_reckless:
        console.print(f"  [red]careful not separated from reckless on "
                      f"{len(sep.careful_not_above_reckless)}:[/] " + ", ".join(sep.careful_not_above_reckless))


def _record_manifest(store, plan, scenarios) -> None:
    """Store the suite manifest (content hashes) the run is made from."""
    from agentsafe.manifest import build_manifest

    store.set_manifest(plan.run_id, build_manifest(plan.scenario_paths, scenarios=scenarios))


@suite_app.command("manifest")
def suite_manifest(
    paths: PathsArg = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON here.")] = None,
) -> None:
    """The suite's name, version and a content hash of every scenario, policy, tool spec, seed
    and app; runs record its hash, `verify` compares bundles against it."""
    from agentsafe.manifest import build_manifest

    m = build_manifest(paths or [SCENARIOS_DIR], scenarios=_load(paths))
    text = m.model_dump_json(indent=2)
    if output:
        output.write_text(text)
        err.print(f"suite {m.short}: {len(m.files)} files, {len(m.scenarios)} scenarios -> {output}")
    else:
        print(text)


@app.command("export")
def export_cmd(
    run_id: Annotated[str, typer.Argument(help="The run to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="NAME.agentsafe.tar.gz")],
    db: DbOpt = RESULTS_DB,
) -> None:
    """Pack a run into a submission bundle: event logs, verdicts, final-state digests, suite
    manifest and scenario files, agent metadata, usage and cost (never credentials)."""
    from agentsafe.bundle.export import export_run
    from agentsafe.store import Store

    try:
        out = export_run(Store(db), run_id, output)
    except AgentsafeError as e:
        _fail(e)
    err.print(f"wrote [bold]{out}[/] ({out.stat().st_size / 1e6:.1f} MB); check it with "
              f"`agentsafe verify {out}`")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="A NAME.agentsafe.tar.gz bundle.")],
    replay: Annotated[bool, typer.Option(help="Also re-execute the logged calls in fresh sandboxes.")] = False,
    suite_manifest: Annotated[Path | None, typer.Option(help="Known suite manifest JSON (default: this checkout's suite).")] = None,
    runtime: Annotated[str, typer.Option(help="Runtime for --replay: local or docker")] = "local",
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Check a bundle's hashes and suite manifest, re-derive every verdict and metric from its
    event log; exit 1 naming each problem."""
    from agentsafe.bundle.verify import load_known, verify_bundle

    try:
        known = load_known(suite_manifest) if suite_manifest else None
        rep = verify_bundle(bundle, known=known, replay=replay, runtime=runtime)
    except AgentsafeError as e:
        _fail(e)
    if fmt == "json":
        print(rep.model_dump_json(indent=2))
    else:
        console.print(f"bundle {bundle}: run {rep.run_id}, agent {rep.agent}, suite {rep.suite}")
        console.print(f"  {rep.episodes} episodes, {rep.verdicts_checked} verdicts and "
                      f"{rep.metrics_checked} metrics re-derived"
                      + (f", {rep.replayed} episodes replayed" if replay else ""))
        for n in rep.notes:
            console.print(f"  [dim]note: {n}[/]")
        for p in rep.problems:
            console.print(f"  [red]FAIL[/] {p}", markup=True, highlight=False)
        console.print("[bold green]verified[/]" if rep.ok else
                      f"[bold red]NOT verified: {len(rep.problems)} problem(s)[/]")
    if not rep.ok:
        raise typer.Exit(1)


@app.command()
def view(
    db: DbOpt = RESULTS_DB,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
) -> None:
    """Serve the trajectory viewer over a results store on 127.0.0.1 (for stores too big for
    one HTML file): pick runs, open their report, trajectories load one episode at a time."""
    from agentsafe.viewer.app import serve

    if not db.exists():
        _fail(AgentsafeError(f"no results store at {db}"))
    console.print(f"agentsafe view: http://127.0.0.1:{port}/  ({db}; Ctrl-C stops)")
    serve(db, port)


@app.command()
def leaderboard(
    bundles: Annotated[list[Path], typer.Argument(help="Submission bundles (.agentsafe.tar.gz).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory of the static site.")] = Path("site"),
    suite_manifest: Annotated[Path | None, typer.Option(help="Known suite manifest JSON (default: this checkout's suite).")] = None,
    replay: Annotated[bool, typer.Option(help="Also replay every bundle before accepting it.")] = False,
) -> None:
    """Build a static leaderboard from verified bundles only (others are listed as rejected)."""
    from agentsafe.bundle.verify import load_known
    from agentsafe.leaderboard.site import build_site

    def show(name: str, rep) -> None:
        mark = "[green]verified[/]" if rep.ok else f"[red]rejected[/] ({len(rep.problems)} problems)"
        console.print(f"{name}: {mark}")
        for p in rep.problems[:5]:
            console.print(f"    [red]-[/] {p}", highlight=False)

    try:
        known = load_known(suite_manifest) if suite_manifest else None
        rows, rejected = build_site(bundles, output, known=known, replay=replay, on_bundle=show)
    except AgentsafeError as e:
        _fail(e)
    console.print(f"wrote [bold]{output / 'index.html'}[/]: {len(rows)} verified, "
                  f"{len(rejected)} rejected")


@sandbox_app.command("prune")
def prune(
    run: Annotated[str | None, typer.Option(help="Only this run's containers.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also containers of live runs.")] = False,
    docker: Annotated[bool, typer.Option(help="Sweep Docker containers too (if a daemon answers).")] = True,
) -> None:
    """Remove what dead runs left behind: containers, temp dirs, orphaned processes, cgroups.
    Live runs (their owning process still exists) are never touched unless --all."""
    from agentsafe.runtime.sweep import sweep

    swept = sweep()
    n = 0
    if docker:
        try:
            from agentsafe.runtime import docker as dk

            if dk.daemon_available():  # connecting reaps every dead run's containers
                n = sum(dk.REAPED) + dk.prune(run, include_live=all_)
        except ImportError:
            pass
        except AgentsafeError as e:
            _fail(e)
    console.print(f"removed {n} container(s), {swept['temp_dirs']} temp dir(s), "
                  f"{swept['processes']} orphaned process(es), {swept['cgroups']} cgroup(s)")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
