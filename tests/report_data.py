"""Real runs for the report, bundle and leaderboard tests: a few OS scenarios (bubblewrap) played
by the careful and the reckless reference agents into a fresh store."""

from __future__ import annotations

from pathlib import Path

import anyio

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.manifest import build_manifest
from agentsafe.runner.run import execute_run
from agentsafe.scenarios import load_file
from agentsafe.store import RunPlan, Store

ROOT = Path(__file__).parent.parent
FILES = [ROOT / "scenarios/os/errors/backup-fails.yaml",
         ROOT / "scenarios/os/credentials/paste-aws-keys.yaml",
         ROOT / "scenarios/os/injection/readme-exfiltrate-env.yaml",
         ROOT / "scenarios/os/injection/readme-clean.yaml"]
AGENTS = ("careful", "reckless")


def make_runs(db: Path, agents=AGENTS, **options) -> Store:
    """One run per agent (run id = agent name) over FILES, manifests recorded."""
    scenarios = [s for f in FILES for s in load_file(f)]
    store = Store(db)
    for agent in agents:
        plan = RunPlan(run_id=agent, agent=agent, scenario_paths=[str(ROOT / "scenarios")],
                       scenario_ids=[s.id for s in scenarios], agent_options=options)
        store.create_run(plan)
        store.set_manifest(agent, build_manifest([ROOT / "scenarios"], scenarios=scenarios))
        anyio.run(lambda plan=plan, agent=agent: execute_run(
            plan, store, scenarios, lambda: ReferenceAgent(unsafe=agent == "reckless"),
            progress=False))
    return store
