"""`agentsafe export RUN -o NAME.agentsafe.tar.gz`: pack a run's event logs, verdicts, final-state
digests, suite manifest and scenario files, agent metadata, usage and cost into one archive with
a hash of every file. Credentials never enter it: option names that look like credentials are
dropped, and the value of every credential-named environment variable is redacted everywhere."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from agentsafe.bundle.model import (
    EPISODES,
    EVENTS,
    HASHES,
    META,
    SECRET_NAME,
    SUITE_DIR,
    BundleMeta,
)
from agentsafe.errors import AgentsafeError
from agentsafe.manifest import build_manifest
from agentsafe.models.events import Usage
from agentsafe.models.results import EpisodeResult
from agentsafe.paths import ROOT
from agentsafe.scoring import score
from agentsafe.store import Store

REDACTED = "[redacted]"


def _secret_values() -> list[str]:
    """Values of credential-named environment variables (long enough to be real secrets)."""
    return sorted({v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 8},
                  key=len, reverse=True)


def _clean_options(options: dict) -> dict:
    out = {}
    for k, v in options.items():
        if SECRET_NAME.search(k):
            continue
        if isinstance(v, str) and "://" in v:  # a URL may carry user:password@ or ?key=
            parts = urlsplit(v)
            v = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
            if parts.port:
                v = v.replace(parts.hostname or "", f"{parts.hostname}:{parts.port}", 1)
        out[k] = v
    return out


def _redact(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return text


def bundle_files(store: Store, run_id: str) -> dict[str, bytes]:
    """Every file of the bundle of `run_id` (path -> bytes), hashes included."""
    plan = store.plan(run_id)
    if plan is None:
        raise AgentsafeError(f"no run '{run_id}' in {store.path}")
    rows = store.raw_rows("SELECT scenario_id, trial, result FROM episodes WHERE run_id = ? "
                          "ORDER BY scenario_id, trial", run_id)
    if not rows:
        raise AgentsafeError(f"run '{run_id}' has no stored episodes")
    manifest = store.manifest(run_id)
    if manifest is None:  # a run from before manifests: describe the suite as it is now
        manifest = build_manifest(plan.scenario_paths, plan.scenario_ids)
    results = [EpisodeResult.model_validate_json(r[2]) for r in rows]
    secrets = _secret_values()
    usage = Usage()
    for r in results:
        usage = usage.add(r.usage)
    row_times = store.raw_rows("SELECT created FROM runs WHERE id = ?", run_id)
    meta = BundleMeta(
        run_id=run_id, agent=plan.agent, created=row_times[0][0], exported=time.time(),
        runtime=plan.runtime, mode=plan.mode, trials=plan.trials, scenario_ids=plan.scenario_ids,
        agent_options=_clean_options(plan.agent_options), manifest=manifest, usage=usage,
        episodes=len(results), metrics=score(results).model_dump(mode="json"),
    )
    events = store.raw_rows("SELECT scenario_id, trial, event FROM events WHERE run_id = ? "
                            "ORDER BY scenario_id, trial, seq", run_id)
    by_key: dict[tuple[str, int], list[str]] = {}
    for sid, trial, ev in events:
        by_key.setdefault((sid, trial), []).append(ev)
    ev_lines = [
        '{"scenario_id":' + json.dumps(sid) + ',"trial":' + str(trial) + ',"events":['
        + ",".join(by_key.get((sid, trial), [])) + "]}"
        for sid, trial, _ in rows
    ]
    files: dict[str, bytes] = {
        META: meta.model_dump_json(indent=1).encode(),
        EPISODES: "\n".join(raw for _, _, raw in rows).encode(),
        EVENTS: "\n".join(ev_lines).encode(),
    }
    used = {manifest.scenarios[s] for s in {r.scenario_id for r in results} if s in manifest.scenarios}
    for rel in sorted(used):
        path = ROOT / rel if not Path(rel).is_absolute() else Path(rel)
        if path.is_file():
            files[SUITE_DIR + rel.lstrip("/")] = path.read_bytes()
    if secrets:
        files = {k: _redact(v.decode("utf-8", "replace"), secrets).encode() for k, v in files.items()}
    files[HASHES] = json.dumps(
        {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())}, indent=1).encode()
    return files


def write_tar(files: dict[str, bytes], out: str | Path) -> Path:
    """A gzip tarball with fixed times and owners (the same files give the same bytes)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return out


def export_run(store: Store, run_id: str, out: str | Path) -> Path:
    return write_tar(bundle_files(store, run_id), out)
