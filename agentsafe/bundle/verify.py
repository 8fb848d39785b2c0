"""`agentsafe verify BUNDLE`: check a submission bundle's hashes, its suite manifest against a known
suite, and re-derive every verdict (with the policy engine, from the event log) and every summary
metric. Each problem names the file, episode, policy or metric that is wrong."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agentsafe.bundle.model import EPISODES, EVENTS, HASHES, META, SUITE_DIR, BundleMeta
from agentsafe.errors import AgentsafeError
from agentsafe.manifest import SuiteManifest, sha256_file, suite_identity, tree
from agentsafe.models.events import Event, EventKind
from agentsafe.models.policy import Policy, VerdictStatus
from agentsafe.models.results import EpisodeResult, EpisodeStatus
from agentsafe.paths import ROOT
from agentsafe.scoring import score

MAX_BUNDLE_BYTES = 2 * 1024**3
_NOT_FED = {EventKind.injection_exposed, EventKind.end}  # the session never feeds these


class VerifyReport(BaseModel):
    """The outcome of `verify`: ok only when `problems` is empty."""

    bundle: str
    run_id: str | None = None
    agent: str | None = None
    suite: str | None = None
    episodes: int = 0
    verdicts_checked: int = 0
    state_verdicts: int = Field(0, description="Verdicts on the final state: confirmed by --replay")
    metrics_checked: int = 0
    replayed: int = 0
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_bundle(path: str | Path) -> dict[str, bytes]:
    """The bundle's regular files (path -> bytes); links, devices and escaping names refused."""
    path = Path(path)
    if not path.is_file():
        raise AgentsafeError(f"{path}: no such bundle")
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise AgentsafeError(f"{path}: larger than {MAX_BUNDLE_BYTES} bytes")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for m in tar:
                if not m.isfile() or m.name.startswith("/") or ".." in Path(m.name).parts:
                    raise AgentsafeError(f"{path}: refused member {m.name!r}")
                f = tar.extractfile(m)
                files[m.name] = f.read() if f else b""
    except (tarfile.TarError, OSError, EOFError) as e:
        raise AgentsafeError(f"{path}: not a readable .tar.gz bundle ({e})") from None
    return files


def _check_hashes(files: dict[str, bytes], problems: list[str]) -> None:
    try:
        hashes = json.loads(files[HASHES])
    except KeyError:
        problems.append(f"{HASHES} is missing")
        return
    except json.JSONDecodeError as e:
        problems.append(f"{HASHES} is not JSON: {e}")
        return
    for name, data in sorted(files.items()):
        if name == HASHES:
            continue
        want = hashes.get(name)
        if want is None:
            problems.append(f"{name}: not listed in {HASHES}")
        elif hashlib.sha256(data).hexdigest() != want:
            problems.append(f"{name}: sha256 does not match {HASHES} (file edited or hash forged)")
    for name in sorted(set(hashes) - set(files)):
        problems.append(f"{name}: listed in {HASHES} but missing from the bundle")


def local_manifest_view(m: SuiteManifest) -> SuiteManifest:
    """The local suite's hashes of exactly the files `m` lists (what this checkout would record)."""
    tops = {"policies", "tools", "sandboxes"}
    suite_files = [rel for rel in m.files if rel.split("/", 1)[0] not in tops]
    roots = [ROOT / t for t in sorted(tops)]
    if suite_files:
        roots.append(ROOT / os.path.commonpath([os.path.dirname(r) or "." for r in suite_files]))
    files = {}
    for root in roots:  # what this checkout holds in the same places (added files show)
        for f in tree(root):
            files[f.resolve().relative_to(ROOT.resolve()).as_posix()] = sha256_file(f)
    scen_roots = {ROOT / rel.split("/", 1)[0] for rel in m.scenarios.values()}
    name, version = suite_identity(sorted(scen_roots) or [ROOT / "scenarios"])
    return SuiteManifest(name=name, version=version, files=files, scenarios=m.scenarios)


def _check_manifest(meta: BundleMeta, files: dict[str, bytes], known: SuiteManifest | None,
                    problems: list[str]) -> bool:
    """Hash of the manifest, manifest against the known suite, bundled scenario files against
    the manifest. True when re-derivation may use this checkout's suite files."""
    m = meta.manifest
    if m.compute_hash() != m.hash:
        problems.append(f"{META}: manifest hash {m.hash[:12]} is forged (its contents hash to "
                        f"{m.compute_hash()[:12]})")
    ref = known if known is not None else local_manifest_view(m)
    diff = m.diff(ref)
    if known is not None and known.hash != m.hash and not diff:
        diff = [f"hash {m.hash[:12]} vs {known.hash[:12]}"]
    if diff:
        shown = "; ".join(diff[:8]) + (f"; ... {len(diff) - 8} more" if len(diff) > 8 else "")
        problems.append(f"manifest does not match the known suite {ref.name} {ref.version}: {shown}")
    for name, data in files.items():
        if not name.startswith(SUITE_DIR):
            continue
        rel = name[len(SUITE_DIR):]
        want = m.files.get(rel)
        if want is None:
            problems.append(f"{name}: scenario file not in the manifest")
        elif hashlib.sha256(data).hexdigest() != want:
            problems.append(f"{name}: scenario file swapped (its sha256 is not the manifest's)")
    return not diff


def _jsonl(files: dict[str, bytes], name: str, problems: list[str]) -> list[str]:
    data = files.get(name)
    if data is None:
        problems.append(f"{name} is missing")
        return []
    return [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]


def needs_state(p: Policy) -> bool:
    """Policies whose verdict reads the final state (re-derived only by a replay)."""
    kind = p.rule.kind
    return kind == "state" or (kind == "injection_goal" and getattr(p.rule, "check", None) is not None)


def rederive(scenario: Any, policies: list[Policy], mode: str, result: EpisodeResult,
             events: list[Event]):
    """The engine's verdicts and exposure for a logged episode (no final state)."""
    from agentsafe.policy.engine import PolicyEngine

    engine = PolicyEngine(policies, scenario=scenario, mode=mode)  # type: ignore[arg-type]
    for ev in events:
        if ev.kind in _NOT_FED:
            continue
        if ev.kind == EventKind.blocked and ev.call is not None:
            engine.check(Event(step=ev.step, kind=EventKind.call, call=ev.call, tags=ev.tags))
        engine.observe(ev)
    verdicts = engine.finalize(None, None, result.status == EpisodeStatus.finished)
    return verdicts, engine.exposed


def _compare_verdicts(key: str, result: EpisodeResult, scenario: Any, derived,
                      policies: list[Policy], rep: VerifyReport) -> None:
    recorded = {v.policy_id: v for v in result.verdicts}
    by_id = {p.id: p for p in policies}
    for v in derived:
        r = recorded.pop(v.policy_id, None)
        if r is None:
            rep.problems.append(f"{key}: verdict of policy {v.policy_id} is missing (deleted?)")
            continue
        rep.verdicts_checked += 1
        if needs_state(by_id[v.policy_id]):
            rep.state_verdicts += 1
            if v.status == VerdictStatus.violated and r.status != VerdictStatus.violated:
                rep.problems.append(f"{key}: policy {v.policy_id} recorded {r.status}, the event "
                                    f"log shows a violation: {v.evidence}")
            continue
        if r.status != v.status or (v.status == VerdictStatus.violated and r.step != v.step):
            rep.problems.append(
                f"{key}: policy {v.policy_id} recorded {r.status} (step {r.step}), re-derived "
                f"{v.status} (step {v.step}){': ' + v.evidence if v.evidence else ''}")
    for pid in recorded:
        rep.problems.append(f"{key}: verdict of policy {pid} is not one of the scenario's policies")
    inj = {f"injection:{i.id}" for i in scenario.injections}
    attack = any(v.policy_id in inj and v.status == VerdictStatus.violated for v in result.verdicts)
    if attack != result.attack_success:
        rep.problems.append(f"{key}: attack_success is {result.attack_success}, its verdicts say {attack}")


def _compare_metrics(claimed: Any, derived: Any, path: str, rep: VerifyReport) -> None:
    """Every rate's value and counts, recursively (intervals depend on the scorer's version)."""
    if isinstance(claimed, dict) and isinstance(derived, dict):
        if {"value", "num", "den"} <= set(claimed):
            rep.metrics_checked += 1
            for f in ("value", "num", "den"):
                a, b = claimed.get(f), derived.get(f)
                if (a is None) != (b is None) or (a is not None and abs(float(a) - float(b)) > 1e-9):
                    rep.problems.append(f"summary metric {path}.{f} is {a} in {META}, re-derived {b}")
            return
        for k, v in claimed.items():
            if k in derived:
                _compare_metrics(v, derived[k], f"{path}.{k}" if path else k, rep)
            elif isinstance(v, dict):
                rep.problems.append(f"summary metric {path}.{k} is not something the scorer computes")
    elif (isinstance(claimed, int | float) and not isinstance(claimed, bool)
          and path.rsplit(".", 1)[-1] in ("episodes", "scenarios", "infra_errors")
          and claimed != derived):
        rep.problems.append(f"summary metric {path} is {claimed} in {META}, re-derived {derived}")


def verify_bundle(path: str | Path, *, known: SuiteManifest | None = None, replay: bool = False,
                  runtime: str = "local", on_progress: Callable[[str], None] | None = None,
                  ) -> VerifyReport:
    """Verify a bundle (see the module docstring); `replay` also re-executes every episode."""
    from agentsafe.policy.library import load_library, resolve
    from agentsafe.scenarios import load_file

    rep = VerifyReport(bundle=str(path))
    files = read_bundle(path)
    _check_hashes(files, rep.problems)
    try:
        meta = BundleMeta.model_validate_json(files.get(META, b"{}"))
    except ValidationError as e:
        rep.problems.append(f"{META}: invalid ({e.error_count()} errors: {e.errors()[0]['loc']})")
        return rep
    rep.run_id, rep.agent, rep.suite = meta.run_id, meta.agent, meta.manifest.short
    local_ok = _check_manifest(meta, files, known, rep.problems)
    scenarios: dict[str, Any] = {}

    results: list[EpisodeResult] = []
    for i, line in enumerate(_jsonl(files, EPISODES, rep.problems), 1):
        try:
            results.append(EpisodeResult.model_validate_json(line))
        except ValidationError as e:
            rep.problems.append(f"{EPISODES} line {i}: invalid episode ({e.errors()[0]['loc']})")
    logs: dict[tuple[str, int], list[Event]] = {}
    for i, line in enumerate(_jsonl(files, EVENTS, rep.problems), 1):
        try:
            obj = json.loads(line)
            logs[(obj["scenario_id"], int(obj["trial"]))] = [
                Event.model_validate(e) for e in obj["events"]]
        except (ValueError, KeyError, TypeError, ValidationError) as e:
            rep.problems.append(f"{EVENTS} line {i}: invalid event log ({type(e).__name__})")
    rep.episodes = len(results)
    if meta.episodes != len(results):
        rep.problems.append(f"{META} claims {meta.episodes} episodes, {EPISODES} holds {len(results)}")

    if not local_ok:
        rep.notes.append("verdicts not re-derived: the suite files differ from the known suite")
    else:
        lib = load_library()
        loaded: dict[str, list] = {}
        for r in results:
            key = f"{r.scenario_id}#{r.trial}"
            rel = meta.manifest.scenarios.get(r.scenario_id)
            if rel is None:
                rep.problems.append(f"{key}: scenario not in the suite manifest")
                continue
            if rel not in loaded:
                loaded[rel] = load_file(ROOT / rel)
                for sc in loaded[rel]:
                    scenarios[sc.id] = sc
            sc = scenarios.get(r.scenario_id)
            events = logs.get((r.scenario_id, r.trial))
            if sc is None or events is None:
                rep.problems.append(f"{key}: {'scenario' if sc is None else 'event log'} missing")
                continue
            if r.status == EpisodeStatus.infra_error:
                continue
            policies = resolve(sc, lib)
            derived, exposed = rederive(sc, policies, meta.mode, r, events)
            _compare_verdicts(key, r, sc, derived, policies, rep)
            if bool(exposed) != r.exposed:
                rep.problems.append(f"{key}: exposed is {r.exposed}, the event log says {bool(exposed)}")
        if rep.state_verdicts:
            rep.notes.append(f"{rep.state_verdicts} verdict(s) read the final state: the log cannot "
                             "show them; `verify --replay` re-executes and confirms them")
    _compare_metrics(meta.metrics, score(results).model_dump(mode="json"), "", rep)
    if replay and local_ok and not rep.problems:
        from agentsafe.bundle.replay import replay_bundle

        replay_bundle(meta, results, logs, scenarios, rep, runtime=runtime, on_progress=on_progress)
    return rep


def load_known(path: str | Path) -> SuiteManifest:
    """A published suite manifest (`agentsafe suite manifest -o FILE`)."""
    try:
        return SuiteManifest.model_validate_json(Path(path).read_text())
    except (OSError, ValidationError) as e:
        raise AgentsafeError(f"{path}: not a suite manifest ({e})") from None


__all__ = ["VerifyReport", "load_known", "read_bundle", "verify_bundle"]
