"""Load a bundle's run into a results store (for its HTML report on a leaderboard, or `report`)."""

from __future__ import annotations

import json

from agentsafe.bundle.model import EPISODES, EVENTS, META, BundleMeta
from agentsafe.store import RunPlan, Store


def import_bundle(files: dict[str, bytes], store: Store) -> str:
    """Insert the bundle's run, episodes, events and manifest; returns the run id."""
    meta = BundleMeta.model_validate_json(files[META])
    plan = RunPlan(run_id=meta.run_id, agent=meta.agent, scenario_paths=[],
                   scenario_ids=meta.scenario_ids, trials=meta.trials, runtime=meta.runtime,
                   mode=meta.mode, agent_options=meta.agent_options)
    store.create_run(plan)
    store.set_manifest(meta.run_id, meta.manifest)
    store.mark_run(meta.run_id, "finished")
    logs = {}
    for line in files[EVENTS].decode().splitlines():
        if line.strip():
            obj = json.loads(line)
            logs[(obj["scenario_id"], obj["trial"])] = obj["events"]
    ep_rows, ev_rows = [], []
    for line in files[EPISODES].decode().splitlines():
        if not line.strip():
            continue
        ep = json.loads(line)
        key = (meta.run_id, ep["scenario_id"], ep["trial"])
        n_viol = sum(v.get("status") == "violated" for v in ep.get("verdicts", []))
        checks = ep.get("checks", [])
        completed = bool(checks) and all(c.get("passed") for c in checks)
        ep_rows.append((*key, ep["status"], int(completed), n_viol, line, meta.exported))
        for i, ev in enumerate(logs.get((ep["scenario_id"], ep["trial"]), [])):
            ev_rows.append((*key, i, ev.get("step", 0), ev.get("kind", ""), json.dumps(ev)))
    store.insert_raw(ep_rows, ev_rows)
    return meta.run_id
