"""The Ray executor: episodes played by actors on a Ray cluster, one actor per slot, placed by
custom resources (`agentsafe_os`, `agentsafe_web`, `agentsafe_mobile`, and `agentsafe_docker` for
the docker runtime). Results stream back to the driver, which commits each one; an actor or node
that dies is an infrastructure failure, its episode replayed on another actor and never scored."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
from collections import defaultdict, deque
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import anyio

from agentsafe.errors import AgentsafeError
from agentsafe.runner.executors.base import Job, Played, RunContext, Sink
from agentsafe.runner.executors.ray_actor import EpisodeActor, RunBundle, Sealed
from agentsafe.runner.session import infra_result

PREFIX = "agentsafe_"
# credentials forwarded to workers when set on the driver (plus the agent's api_key_env and
# the names listed in $AGENTSAFE_RAY_ENV, comma-separated)
FORWARDED_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")
PACKAGE_ROOT = Path(__file__).resolve().parents[3]


def resources_for(kind: str, runtime: str) -> dict[str, float]:
    """The custom resources one slot playing `kind` episodes on `runtime` takes on a node."""
    need = {PREFIX + kind: 1.0}
    if runtime == "docker":
        need[PREFIX + "docker"] = 1.0
    return need


def forwarded_env(agent_options: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The driver's credentials that workers need to build the agent."""
    env = os.environ if environ is None else environ
    names = set(FORWARDED_ENV)
    if isinstance(agent_options.get("api_key_env"), str):
        names.add(agent_options["api_key_env"])
    names |= {n.strip() for n in env.get("AGENTSAFE_RAY_ENV", "").split(",") if n.strip()}
    return {n: env[n] for n in sorted(names) if env.get(n)}


def agent_py_modules(spec: str) -> list[str]:
    """For `python:pkg.mod:Class`, the local directory of `pkg` when it is not installed in
    site-packages (so Ray ships it to the workers through runtime_env py_modules)."""
    if not spec.startswith("python:"):
        return []
    top = spec.removeprefix("python:").rpartition(":")[0].split(".")[0]
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return []
    if found is None or not found.origin or "site-packages" in found.origin:
        return []
    origin = Path(found.origin)
    path = origin.parent if origin.name == "__init__.py" else origin
    if path == PACKAGE_ROOT / "agentsafe" or PACKAGE_ROOT / "agentsafe" in path.parents:
        return []
    return [str(path)]


async def _result(ref: Any) -> Any:
    """The value of a Ray object ref, awaited through its concurrent future (works with a local
    driver and with Ray Client, `ray://`)."""
    return await asyncio.wrap_future(ref.future())


def _is_actor_death(e: BaseException) -> bool:
    import ray.exceptions as rex

    return isinstance(e, (rex.RayActorError, rex.WorkerCrashedError, rex.NodeDiedError,
                          rex.ObjectLostError, rex.OwnerDiedError))


class RayExecutor:
    """Plays episodes on a Ray cluster at `address` ("auto", "HOST:PORT" or "ray://HOST:10001")."""

    name = "ray"

    def __init__(self, address: str | None = "auto", *, runtime_env: dict[str, Any] | None = None,
                 placement_timeout: float = 120.0, node_retries: int = 2) -> None:
        self.address = address or "auto"
        self.runtime_env = dict(runtime_env or {})
        self.placement_timeout = placement_timeout
        self.node_retries = node_retries  # replays of an episode whose actor or node died
        self.nodes: dict[str, str] = {}  # node label -> its agentsafe resources, for reports

    # connection ---------------------------------------------------------------------------
    def _connect(self, spec: str) -> bool:
        """Connect to the cluster (unless this process already is); True if we must disconnect."""
        try:
            import ray
        except ImportError:
            raise AgentsafeError("the ray executor needs Ray: pip install 'agentsafe[ray]'") from None
        if ray.is_initialized():
            return False
        env = dict(self.runtime_env)
        extra = agent_py_modules(spec)
        if extra:
            env["py_modules"] = list(env.get("py_modules", [])) + extra
        try:
            ray.init(address=self.address, runtime_env=env or None, namespace="agentsafe",
                     log_to_driver=False, logging_level="WARNING", configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise AgentsafeError(f"cannot connect to the Ray cluster at {self.address!r}: {e}") from None
        return True

    def _check_capacity(self, needs: dict[str, dict[str, float]], counts: dict[str, int]) -> dict[str, int]:
        """Slots per kind the cluster can hold; a clear error when no node can run a kind."""
        import ray

        have = ray.cluster_resources()
        slots, missing = {}, []
        for kind, need in needs.items():
            cap = min((have.get(r, 0.0) / q for r, q in need.items()), default=0.0)
            if cap < 1:
                missing.append(f"{counts[kind]} {kind} episode(s) need a node with "
                               + " and ".join(f"resource {r}" for r in need))
            slots[kind] = math.floor(cap)
        if missing:
            offered = sorted(r for r in have if r.startswith(PREFIX)) or ["none"]
            raise AgentsafeError(
                "no node of the Ray cluster can run " + "; ".join(missing)
                + f" (agentsafe resources offered: {', '.join(offered)}). Start such a node with "
                "e.g. ray start --address=HEAD:6379 --resources='{\"agentsafe_os\": 2}'")
        for node in ray.nodes():
            if node.get("Alive"):
                res = {k: v for k, v in node.get("Resources", {}).items() if k.startswith(PREFIX)}
                self.nodes[node["NodeID"][:8]] = ", ".join(f"{k}={v:g}" for k, v in sorted(res.items()))
        return slots

    # the run ------------------------------------------------------------------------------
    async def play(self, ctx: RunContext, jobs: Iterable[Job], sink: Sink) -> None:
        import ray

        plan = ctx.plan
        queues: dict[str, deque[Job]] = defaultdict(deque)
        scenarios = {}
        for job in jobs:
            queues[job.scenario.sandbox.kind].append(job)
            scenarios[job.scenario.id] = job.scenario
        if not queues:
            return
        owned = self._connect(plan.agent)
        try:
            needs = {k: resources_for(k, plan.runtime) for k in queues}
            slots = self._check_capacity(needs, {k: len(q) for k, q in queues.items()})
            bundle = ray.put(RunBundle(
                plan=plan, scenarios=scenarios,
                policies={sid: ctx.policies[sid] for sid in scenarios}, timeouts=ctx.timeouts,
                retries=ctx.retries, sandbox_options=ctx.sandbox_options))
            sealed = ray.put(Sealed(forwarded_env(plan.agent_options)))
            await self._run(ctx, queues, needs, slots, bundle, sealed, sink)
        finally:
            if owned:
                ray.shutdown()

    async def _run(self, ctx: RunContext, queues: dict[str, deque[Job]],
                   needs: dict[str, dict[str, float]], slots: dict[str, int], bundle: Any,
                   sealed: Any, sink: Sink) -> None:
        import ray

        actor_cls = ray.remote(EpisodeActor)
        limit = anyio.Semaphore(max(1, ctx.plan.max_episodes))
        in_flight: dict[str, int] = defaultdict(int)
        deaths: dict[tuple[str, int], int] = defaultdict(int)  # (scenario, trial) -> lost attempts
        alive_slots: dict[str, int] = defaultdict(int)

        async def give_up(kind: str, why: str) -> None:
            while queues[kind] and alive_slots[kind] == 0 and in_flight[kind] == 0:
                job = queues[kind].popleft()
                res = infra_result(job.scenario, run_id=ctx.plan.run_id, agent_name=ctx.plan.agent,
                                   trial=job.trial, runtime=ctx.plan.runtime, error=why)
                await sink.finished(Played(job, res, "none"))

        async def new_actor(kind: str) -> tuple[Any, str] | None:
            """A constructed actor and its node; None when no node places it in time, or when
            nothing is left to play while waiting (after a node died, its slots wait here)."""
            actor = actor_cls.options(num_cpus=0, resources=needs[kind], max_restarts=0,
                                      max_concurrency=4).remote(bundle, sealed)
            ready = asyncio.wrap_future(actor.ready.remote().future())
            deadline = anyio.current_time() + self.placement_timeout
            try:
                while anyio.current_time() < deadline and (queues[kind] or in_flight[kind]):
                    with anyio.move_on_after(0.5):
                        return actor, await asyncio.shield(ready)
            except Exception as e:  # noqa: BLE001 - its node died, or it cannot build the agent
                ray.kill(actor)
                if _is_actor_death(e) and "creation task" not in str(e):
                    return None
                raise AgentsafeError(f"a Ray worker could not start a {kind} slot: {e}") from None
            ray.kill(actor)
            ready.cancel()
            return None

        async def slot(kind: str) -> None:
            actor, node = None, ""
            alive_slots[kind] += 1
            try:
                while queues[kind] or in_flight[kind]:
                    if not queues[kind]:
                        await anyio.sleep(0.05)  # another slot's episode may come back for a replay
                        continue
                    if actor is None:
                        made = await new_actor(kind)
                        if made is None:  # no node can host this slot any more
                            return
                        actor, node = made
                    if not queues[kind]:
                        continue
                    job = queues[kind].popleft()
                    in_flight[kind] += 1
                    try:
                        async with limit:
                            sink.started(job, node)
                            try:
                                result, attempts, node = await _result(actor.play.remote(job.scenario.id, job.trial))
                            except Exception as e:  # noqa: BLE001 - the actor, its process or node died
                                ray.kill(actor)
                                actor = None
                                key = (job.scenario.id, job.trial)
                                deaths[key] += 1
                                if deaths[key] <= self.node_retries:
                                    queues[kind].appendleft(job)
                                    sink.stopped(job)
                                    continue
                                result = infra_result(
                                    job.scenario, run_id=ctx.plan.run_id, agent_name=ctx.plan.agent,
                                    trial=job.trial, runtime=ctx.plan.runtime,
                                    error=f"Ray worker lost {deaths[key]} times: {type(e).__name__}: {e}")
                                attempts = 1
                            await sink.finished(Played(job, result, node, attempts))
                    finally:
                        in_flight[kind] -= 1
            finally:
                alive_slots[kind] -= 1
                if actor is not None:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(30), \
                            suppress(Exception):  # closing is best effort
                        await _result(actor.close.remote())
                    ray.kill(actor)
                with anyio.CancelScope(shield=True):
                    await give_up(kind, f"no node of the Ray cluster could host a {kind} slot within "
                                        f"{self.placement_timeout:g}s (nodes offering "
                                        f"{', '.join(needs[kind])} died or left)")

        async with anyio.create_task_group() as tg:
            for kind, n in slots.items():
                for _ in range(max(1, min(n, len(queues[kind]), ctx.plan.max_episodes))):
                    tg.start_soon(slot, kind)

