"""Versioned suites: a manifest of content hashes (scenarios, policies, tool specs, seeds, apps)
whose own hash a run records, so results from different suite contents are never mixed silently."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from agentsafe.models.base import Record
from agentsafe.paths import POLICIES_DIR, ROOT, SANDBOXES_DIR, SCENARIOS_DIR, TOOLS_DIR

SUITE_FILE = "_suite.yaml"  # name and version of a suite, beside its scenarios (never a scenario)
_SKIP_PARTS = {"__pycache__", "node_modules", ".git", ".build", ".cache"}  # build products
_SKIP_SUFFIXES = {".pyc", ".tar", ".sqlite-wal", ".sqlite-shm"}


class SuiteManifest(Record):
    """What a suite is made of, by content: `hash` changes when any listed byte does."""

    name: str
    version: str
    files: dict[str, str] = Field(default_factory=dict, description="relative path -> sha256")
    scenarios: dict[str, str] = Field(default_factory=dict, description="scenario id -> file path")
    hash: str = ""

    def compute_hash(self) -> str:
        body = json.dumps({"name": self.name, "version": self.version, "files": self.files,
                           "scenarios": self.scenarios}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def short(self) -> str:
        return f"{self.name} {self.version} ({self.hash[:12]})"

    def diff(self, other: SuiteManifest) -> list[str]:
        """Human-readable differences (files added, removed or changed), for error messages."""
        out = []
        for path in sorted(set(self.files) | set(other.files)):
            a, b = self.files.get(path), other.files.get(path)
            if a != b:
                out.append(f"{path}: {'missing' if a is None else 'added' if b is None else 'changed'}")
        if (self.name, self.version) != (other.name, other.version):
            out.append(f"suite {self.name} {self.version} vs {other.name} {other.version}")
        return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rel(path: Path) -> str:
    p = path.resolve()
    try:
        return p.relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def tree(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not (_SKIP_PARTS & set(p.parts)) and p.suffix not in _SKIP_SUFFIXES:
            yield p


def suite_identity(paths: Iterable[Path]) -> tuple[str, str]:
    """Name and version from the nearest `_suite.yaml` at or above the first path (or the
    built-in suite's), else `custom 0`."""
    for p in list(paths)[:1] + [SCENARIOS_DIR]:
        p = Path(p).resolve()
        for d in [p, *p.parents] if p.is_dir() else list(p.parents):
            f = d / SUITE_FILE
            if f.is_file():
                import yaml  # here: a report reads manifests without parsing any YAML

                data = yaml.safe_load(f.read_text()) or {}
                return str(data.get("name", "custom")), str(data.get("version", "0"))
    return "custom", "0"


def build_manifest(scenario_paths: Iterable[str | Path], scenario_ids: Iterable[str] | None = None,
                   scenarios: list | None = None) -> SuiteManifest:
    """The manifest of the scenarios under `scenario_paths` (only `scenario_ids`, if given) and of
    everything they run on: the policy library, the tool specs and the sandboxes (seeds, apps).
    `scenarios` are the already loaded scenarios of those paths, when the caller has them."""
    from agentsafe.scenarios import load_scenarios

    paths = [Path(p) if Path(p).exists() else ROOT / p for p in scenario_paths] or [SCENARIOS_DIR]
    wanted = set(scenario_ids) if scenario_ids is not None else None
    if scenarios is None:  # loading is the slow part: callers that have them pass them
        scenarios = load_scenarios(paths)
    scenarios = [s for s in scenarios if wanted is None or s.id in wanted]
    files: dict[str, str] = {}
    for root in paths:  # the whole suite directory: scenarios, attack templates, _suite.yaml
        for f in tree(root):
            files[_rel(f)] = sha256_file(f)
    for root in (POLICIES_DIR, TOOLS_DIR, SANDBOXES_DIR):
        for f in tree(root):
            files[_rel(f)] = sha256_file(f)
    name, version = suite_identity(paths)
    m = SuiteManifest(name=name, version=version, files=dict(sorted(files.items())),
                      scenarios={s.id: _rel(Path(s.source_path)) for s in
                                 sorted(scenarios, key=lambda s: s.id) if s.source_path})
    m.hash = m.compute_hash()
    return m


def mixed_manifest_note(hashes: dict[str, str | None]) -> str | None:
    """A warning when runs compared side by side were made from different suite contents."""
    distinct = {h for h in hashes.values() if h}
    missing = [r for r, h in hashes.items() if not h]
    if len(distinct) > 1:
        parts = ", ".join(f"{r}={(h or 'none')[:12]}" for r, h in hashes.items())
        return f"runs come from different suite manifests ({parts}): results are not comparable"
    if distinct and missing:
        return f"runs {missing} have no suite manifest recorded: comparability unknown"
    return None
