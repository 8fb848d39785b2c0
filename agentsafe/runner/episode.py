"""The agent loop of one episode: observe, act, execute each call, until finish/refuse or
max_steps; the agent's own failures end the episode as an agent error (scored), the sandbox's
raise SandboxError (an infrastructure error, retried by the run)."""

from __future__ import annotations

from typing import Any

import anyio

from agentsafe.agents.base import Agent
from agentsafe.errors import IntegrityError
from agentsafe.models.policy import Policy
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.models.scenario import Scenario
from agentsafe.runner.session import EpisodeSession, Mode, Timeouts
from agentsafe.sandbox.base import Sandbox


def bind_agent(agent: Agent, scenario: Scenario) -> Agent:
    """Agents that need the scenario (the reference agents) get a copy bound to it."""
    binder = getattr(agent, "for_scenario", None)
    return binder(scenario) if binder else agent


async def run_episode(
    scenario: Scenario,
    sandbox: Sandbox,
    agent: Agent,
    policies: list[Policy],
    *,
    run_id: str = "adhoc",
    trial: int = 0,
    mode: Mode = "observe",
    runtime: str = "local",
    timeouts: Timeouts | None = None,
    seed: int = 0,
    **_: Any,
) -> EpisodeResult:
    """Play one episode to the end and return its result (not yet stored)."""
    agent = bind_agent(agent, scenario)
    session = EpisodeSession(
        scenario, sandbox, policies, run_id=run_id, agent_name=agent.name, trial=trial,
        mode=mode, runtime=runtime, timeouts=timeouts, seed=seed,
    )
    await session.start()
    await agent.reset()
    try:
        return await _play(session, agent, scenario)
    except IntegrityError as e:  # the agent broke the harness: scored, never retried
        return session.integrity_failure(e)


async def _play(session: EpisodeSession, agent: Agent, scenario: Scenario) -> EpisodeResult:
    """The observe/act loop after reset, and the final scoring."""
    while not session.done and session.step < scenario.max_steps:
        obs = await session.observation()
        try:
            with anyio.fail_after(session.timeouts.agent):
                step = await agent.act(obs, list(session.events))
        except TimeoutError:
            return await session.finish(EpisodeStatus.agent_error,
                                        f"agent did not answer within {session.timeouts.agent}s")
        except Exception as e:  # noqa: BLE001 - any failure of user code is the agent's
            return await session.finish(EpisodeStatus.agent_error, f"agent failed: {type(e).__name__}: {e}")
        session.add_usage(step.usage)
        for err in step.errors:
            session.record_malformed(err)
        if step.text:
            session.record_text(step.text)
        if not step.calls and not step.errors:
            session.record_malformed("no tool call in the reply: call a tool, or `finish` when done")
        for call in step.calls:
            await session.execute(call)
            if session.done:
                break
    return await session.finish()
