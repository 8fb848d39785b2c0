"""`agentsafe check`: prove every scenario is solvable, dangerous, injectable and not trivially won.

For each scenario: its policies resolve; the reference solution (the careful agent) completes
with zero violations; an idle agent that finishes at once fails the success checks (unless the
scenario declares `risk.do_nothing_ok`); the unsafe reference and every `unsafe_variants` entry
violate every policy they name; every injection is actually exposed to the careful agent (by
canary). Every failed step of every replayed script is reported with its error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from agentsafe.agents.scripted import ScriptedAgent
from agentsafe.errors import AgentsafeError
from agentsafe.models.events import EventKind
from agentsafe.models.policy import Policy, VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import ReferenceCall, Scenario
from agentsafe.runner.run import RunStats, Worker, run_one
from agentsafe.runner.session import Timeouts
from agentsafe.store import RunPlan

REFERENCE, IDLE, UNSAFE = "reference", "idle agent", "unsafe reference"


class Finding(BaseModel):
    """One thing the self-check found about one replayed script (`run`): a failure, or a note
    (a failed step shown for the author's information)."""

    run: str
    text: str
    step: int | None = None
    level: Literal["fail", "note"] = "fail"

    def line(self) -> str:
        where = f" · step {self.step}" if self.step is not None else ""
        return f"[{self.run}{where}] {self.text}"


class ScenarioCheck(BaseModel):
    scenario_id: str
    ok: bool
    findings: list[Finding] = Field(default_factory=list)
    careful_steps: int = 0
    runs: int = 0
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        """The failures, one line each."""
        return [f.line() for f in self.findings if f.level == "fail"]

    @property
    def notes(self) -> list[str]:
        return [f.line() for f in self.findings if f.level == "note"]


def variant_label(name: str) -> str:
    return f"variant {name}"


def _call_text(res_event) -> str:
    call = res_event.call
    if call is None:
        return "?"
    args = ", ".join(f"{k}={v!r}" for k, v in call.args.items())
    text = f"{call.name}({args})"
    return text if len(text) <= 120 else text[:119] + "…"


def failed_steps(run: str, res: EpisodeResult, level: Literal["fail", "note"] = "note") -> list[Finding]:
    """Every call of the script that failed (error result, malformed call, guard block), with its
    error, so an author sees why a script did not do what it should."""
    out = []
    for e in res.events:
        if e.kind == EventKind.result and e.result is not None and not e.result.ok:
            err = (e.result.error or e.result.output or "failed").strip().splitlines()[0]
            out.append(Finding(run=run, step=e.step, level=level,
                               text=f"{_call_text(e)} failed: {err}"))
        elif e.kind in (EventKind.tool_error, EventKind.blocked):
            out.append(Finding(run=run, step=e.step, level=level,
                               text=f"{e.kind.value}: {(e.text or '').strip()}"))
    return out


def _infra(run: str, res: EpisodeResult) -> list[Finding]:
    if res.status == EpisodeStatus.infra_error:
        err = res.error or ""
        return [Finding(run=run, text=err if err.startswith("scenario error")
                        else f"infrastructure error: {err}")]
    return []


def judge_careful(scenario: Scenario, res: EpisodeResult) -> list[Finding]:
    """The reference must finish (or refuse), pass every check, violate nothing, see every
    injection."""
    if bad := _infra(REFERENCE, res):
        return bad
    out: list[Finding] = []
    if res.status not in (EpisodeStatus.finished, EpisodeStatus.refused):
        out.append(Finding(run=REFERENCE, text=f"ended with status {res.status.value}, not "
                           "finished or refused" + (f" ({res.error})" if res.error else "")))
    for c in res.checks:
        if not c.passed:
            out.append(Finding(run=REFERENCE, text=f"fails check {c.name}: {c.detail}"))
    for v in res.verdicts:
        if v.status == VerdictStatus.violated:
            out.append(Finding(run=REFERENCE, step=v.step,
                               text=f"violates {v.policy_id}: {v.evidence}"))
    exposed = {e.data.get("injection") for e in res.events if e.kind == EventKind.injection_exposed}
    for inj in scenario.injections:
        if inj.id not in exposed:
            out.append(Finding(run=REFERENCE,
                               text=f"injection {inj.id} never reached the agent (no canary seen)"))
    # a malformed call is an authoring error; a failed step may be the scenario's point (an
    # error the agent must report), so it is shown as a note
    steps = failed_steps(REFERENCE, res)
    for f in steps:
        if f.text.startswith(EventKind.tool_error.value):
            f.level = "fail"
    return out + steps


def judge_idle(scenario: Scenario, res: EpisodeResult) -> list[Finding]:
    """An agent that does nothing must not complete the task, unless doing nothing is correct,
    and must break no policy: doing nothing is never a violation (a rule that demands the task's
    outcome is a success check, not a policy)."""
    if bad := _infra(IDLE, res):
        return bad
    out = [Finding(run=IDLE, text=(
        f"doing nothing violates {v.policy_id} ({v.evidence}): a policy must forbid a harm, "
        "not demand the task's outcome; move that condition to `checks:`"))
        for v in res.verdicts if v.status == VerdictStatus.violated]
    if scenario.risk.do_nothing_ok or not res.completed:
        return out
    names = ", ".join(c.name for c in res.checks)
    return out + [Finding(run=IDLE, text=(
        f"finishing at once passes every success check ({names}): make a check read the final "
        "state the task must change, or declare risk.do_nothing_ok: true if doing nothing is "
        "the correct outcome"))]


def judge_unsafe(run: str, violates: Sequence[str], res: EpisodeResult,
                 spares: Sequence[str] = ()) -> list[Finding]:
    """An unsafe script must violate every policy it names, and none it spares (a near miss
    that reached the goal after all is a wrong near miss); its failed steps say why not."""
    if bad := _infra(run, res):
        return bad
    violated = {v.policy_id for v in res.verdicts if v.status == VerdictStatus.violated}
    missing = [pid for pid in violates if pid not in violated]
    out = [Finding(run=run, text=f"does not violate {pid} (violated: "
                   f"{', '.join(sorted(violated)) or 'nothing'})") for pid in missing]
    out += [Finding(run=run, text=f"violates {pid}, which this near miss must spare: "
                    + next((v.evidence for v in res.verdicts if v.policy_id == pid), ""))
            for pid in spares if pid in violated]
    return out + failed_steps(run, res)


def scripts(scenario: Scenario) -> list[tuple[str, list[ReferenceCall], list[str], list[str]]]:
    """The unsafe scripts to replay: (run label, calls, policies each must violate, policies
    it must not violate)."""
    out = []
    if scenario.unsafe_reference:
        out.append((UNSAFE, scenario.unsafe_reference, scenario.unsafe_violates, []))
    for v in scenario.unsafe_variants:
        out.append((variant_label(v.name), v.calls, v.violates, v.spares))
    return out


async def check_one(worker: Worker, sc: Scenario, policies: list[Policy], plan: RunPlan,
                    timeouts: Timeouts, stats: RunStats) -> ScenarioCheck:
    """Replay the reference, the idle agent and every unsafe script of one scenario."""
    t0 = anyio.current_time()

    async def play(name: str, calls: Sequence[ReferenceCall]) -> EpisodeResult:
        return await run_one(worker, sc, policies, ScriptedAgent(calls, name=name), plan, 0,
                             timeouts, 1, stats)

    findings: list[Finding] = [
        Finding(run=label, text=f"the script has {len(calls)} calls but max_steps is "
                f"{sc.max_steps}: it is cut short")
        for label, calls, *_ in [(REFERENCE, sc.reference, []), *scripts(sc)]
        if len(calls) > sc.max_steps
    ]
    steps = runs = 0
    try:
        careful = await play("careful", sc.reference)
        runs += 1
        findings += judge_careful(sc, careful)
        steps = careful.steps
        if not sc.risk.do_nothing_ok:
            findings += judge_idle(sc, await play("idle", []))
            runs += 1
        for label, calls, violates, spares in scripts(sc):
            findings += judge_unsafe(label, violates, await play("reckless", calls), spares)
            runs += 1
    except AgentsafeError as e:
        findings.append(Finding(run="setup", text=str(e)))
    ok = not any(f.level == "fail" for f in findings)
    return ScenarioCheck(scenario_id=sc.id, ok=ok, findings=findings, careful_steps=steps,
                         runs=runs, seconds=anyio.current_time() - t0)


async def check_scenarios(
    scenarios: list[Scenario], policies: dict[str, list[Policy]], *, runtime: str = "local",
    jobs: int = 2, on_done=None, timeouts: Timeouts | None = None,
) -> list[ScenarioCheck]:
    """Self-check every scenario, `jobs` at a time; one ScenarioCheck each, in input order."""
    out: dict[str, ScenarioCheck] = {}
    send, receive = anyio.create_memory_object_stream[Scenario](len(scenarios) + 1)
    for sc in scenarios:
        send.send_nowait(sc)
    send.close()
    plan = RunPlan(run_id="check", agent="reference", scenario_paths=[], scenario_ids=[],
                   runtime=runtime)
    stats = RunStats()

    async def loop() -> None:
        worker = Worker(runtime, {})
        try:
            async with receive.clone() as rx:
                async for sc in rx:
                    out[sc.id] = await check_one(worker, sc, policies[sc.id], plan,
                                                 timeouts or Timeouts(), stats)
                    if on_done:
                        on_done(out[sc.id])
        finally:
            await worker.close()

    async with anyio.create_task_group() as tg:
        for _ in range(max(1, min(jobs, len(scenarios)))):
            tg.start_soon(loop)
    return [out[sc.id] for sc in scenarios]
