"""`agentsafe verify BUNDLE --replay`: re-execute every logged tool call in fresh sandboxes (the
normal runner, with an agent that plays the log back) and compare the final states and verdicts
with the bundle's. Sources of nondeterminism are listed in docs/bundles.md."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from agentsafe.bundle.model import BundleMeta
from agentsafe.models.events import AgentStep, Event, EventKind, Observation
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario


class LogReplayAgent:
    """Plays back one episode's logged turns: the same calls (arguments verbatim), the same
    text, the same malformed replies, and the same crash if the agent crashed."""

    def __init__(self, logs: dict[str, list[Event]], name: str, crash: set[str]) -> None:
        self.name = name
        self._logs, self._crash = logs, crash
        self._turns: list[AgentStep] = []
        self._i = 0
        self._crashes = False

    def for_scenario(self, scenario: Scenario) -> LogReplayAgent:
        agent = LogReplayAgent(self._logs, self.name, self._crash)
        agent._turns = turns(self._logs.get(scenario.id, []))
        agent._crashes = scenario.id in self._crash
        return agent

    async def reset(self) -> None:
        self._i = 0

    async def act(self, observation: Observation, history: Sequence[Event]) -> AgentStep:
        if self._i >= len(self._turns):
            if self._crashes:
                raise RuntimeError("replayed agent error")
            return AgentStep()  # the log ended here (max steps): an empty reply
        step = self._turns[self._i]
        self._i += 1
        return step


def turns(events: list[Event]) -> list[AgentStep]:
    """The agent's turns of a logged episode, one per step, in order."""
    by_step: dict[int, AgentStep] = {}
    for ev in events:
        if ev.step < 1:
            continue
        st = by_step.setdefault(ev.step, AgentStep())
        if ev.kind in (EventKind.call, EventKind.blocked) and ev.call is not None:
            st.calls.append(ev.call)
        elif ev.kind == EventKind.tool_error:
            if ev.call is not None:
                st.calls.append(ev.call)
            elif ev.text and not ev.text.startswith("no tool call in the reply"):
                st.errors.append(ev.text)
        elif ev.kind == EventKind.agent_text and ev.text:
            st.text = ev.text
    return [by_step[s] for s in sorted(by_step)]


def replay_bundle(meta: BundleMeta, results: list[EpisodeResult],
                  logs: dict[tuple[str, int], list[Event]], scenarios: dict[str, Any], rep: Any,
                  *, runtime: str = "local", on_progress: Callable[[str], None] | None = None,
                  ) -> None:
    """Replay every scored episode; mismatches go to `rep.problems`, timing to `rep.notes`."""
    from agentsafe.runner.run import execute_run
    from agentsafe.store import RunPlan

    trials = sorted({r.trial for r in results if r.status != EpisodeStatus.infra_error})
    recorded = {(r.scenario_id, r.trial): r for r in results}
    t0 = time.perf_counter()
    with _tmp_store() as store:
        for trial in trials:
            here = [r for r in results if r.trial == trial and r.status != EpisodeStatus.infra_error]
            ids = [r.scenario_id for r in here]
            trial_logs = {r.scenario_id: logs.get((r.scenario_id, trial), []) for r in here}
            crash = {r.scenario_id for r in here if r.status == EpisodeStatus.agent_error}
            plan = RunPlan(run_id=f"replay-{trial}", agent=meta.agent,
                           scenario_paths=[], scenario_ids=ids, runtime=runtime, mode=meta.mode,  # type: ignore[arg-type]
                           max_episodes=2)
            store.create_run(plan)
            agent = LogReplayAgent(trial_logs, meta.agent, crash)
            chosen = [scenarios[i] for i in ids]
            anyio.run(lambda plan=plan, agent=agent, chosen=chosen: execute_run(
                plan, store, chosen, lambda: agent, progress=False))
            for new in store.episodes(plan.run_id):
                old = recorded[(new.scenario_id, trial)]
                _compare(f"{new.scenario_id}#{trial}", old, new, rep)
                rep.replayed += 1
            if on_progress:
                on_progress(f"trial {trial}: {len(ids)} episodes replayed")
    took = time.perf_counter() - t0
    original = sum(r.duration_s for r in results)
    rep.notes.append(f"replay took {took:.1f} s; the original episodes took {original:.1f} s "
                     f"(sum of episode durations)")


def _compare(key: str, old: EpisodeResult, new: EpisodeResult, rep: Any) -> None:
    if new.status == EpisodeStatus.infra_error:
        rep.problems.append(f"replay {key}: the sandbox failed ({new.error})")
        return
    if old.status != new.status:
        rep.problems.append(f"replay {key}: status {old.status}, replay {new.status}")
    if old.state_digest and old.state_digest != new.state_digest:
        rep.problems.append(f"replay {key}: final state differs (digest {old.state_digest[:12]}, "
                            f"replay {(new.state_digest or '')[:12]})")
    if old.completed != new.completed:
        rep.problems.append(f"replay {key}: completed {old.completed}, replay {new.completed}")
    replayed = {v.policy_id: v for v in new.verdicts}
    for v in old.verdicts:
        n = replayed.get(v.policy_id)
        if n is None or n.status != v.status:
            rep.problems.append(f"replay {key}: policy {v.policy_id} recorded {v.status}, replay "
                                f"{n.status if n else 'no verdict'}{': ' + n.evidence if n else ''}")


class _tmp_store:
    """A throwaway results store for the replayed episodes."""

    def __enter__(self):
        import tempfile

        from agentsafe.store import Store

        self._dir = tempfile.TemporaryDirectory(prefix="agentsafe-replay-")
        self.store = Store(f"{self._dir.name}/replay.sqlite")
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()
        self._dir.cleanup()
