"""Find, load and expand scenario files. A file holds one scenario; an optional top-level
`variants` list expands it into several (each `{id: suffix, vars: {...}}`, with `${var}`
substituted in every string except injection texts, which are always planted verbatim). A file
with a top-level `matrix:` key is an attack matrix (agentsafe/matrix.py): user tasks x injection
goals x attack templates, expanded into security cases."""

from __future__ import annotations

import string
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from agentsafe.errors import ConfigError
from agentsafe.matrix import MatrixFile, expand, is_matrix
from agentsafe.models.scenario import Scenario
from agentsafe.paths import ROOT, SANDBOXES_DIR, SCENARIOS_DIR
from agentsafe.yamlio import line_of, read_yaml, validate

NON_SCENARIO_FILES = {"attacks.yaml"}


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every scenario YAML under the given files or directories, sorted, de-duplicated."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists() and not p.is_absolute() and (ROOT / p).exists():
            p = ROOT / p
        if p.is_dir():
            out.extend(
                f for f in sorted(p.rglob("*.yaml"))
                if f.name not in NON_SCENARIO_FILES and not f.name.startswith("_")
            )
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError(str(p), None, None, "no such scenario file or directory")
    seen: set[Path] = set()
    return [f for f in out if not (f.resolve() in seen or seen.add(f.resolve()))]


@cache
def _seed_secrets(kind: str) -> dict[str, dict[str, str]]:
    path = SANDBOXES_DIR / kind / "secrets.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {str(k): {str(n): str(v) for n, v in (vals or {}).items()} for k, vals in data.items()}


def _substitute(value: Any, vars: dict[str, str], path: tuple = ()) -> Any:
    if isinstance(value, str):
        if len(path) >= 3 and path[0] == "injections" and path[2] in ("text", "canary"):
            return value
        return string.Template(value).safe_substitute(vars)
    if isinstance(value, dict):
        return {k: _substitute(v, vars, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, vars, path + (i,)) for i, v in enumerate(value)]
    return value


def load_file(path: str | Path) -> list[Scenario]:
    """The scenario(s) in one file; errors name the file, the line and the field."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), 1, None, "a scenario file must be a mapping")
    if is_matrix(data):
        return [_finish(sc, path) for sc in expand(validate(data, MatrixFile, path).matrix, path)]
    variants = data.pop("variants", None)
    items: list[tuple[Any, tuple]] = []
    if variants is None:
        items.append((data, ()))
    else:
        if not isinstance(variants, list) or not variants:
            raise ConfigError(str(path), line_of(data), "variants", "must be a non-empty list")
        for i, var in enumerate(variants):
            if not isinstance(var, dict) or "id" not in var:
                raise ConfigError(str(path), None, f"variants.{i}", "each variant needs an `id`")
            vars = {str(k): str(v) for k, v in (var.get("vars") or {}).items()}
            expanded = _substitute(dict(data), vars)
            expanded["id"] = f"{data.get('id')}.{var['id']}"
            items.append((expanded, ()))
    return [_finish(validate(raw, Scenario, path), path) for raw, _ in items]


def _finish(sc: Scenario, path: Path) -> Scenario:
    """Record where the scenario came from and add the seed's planted secrets."""
    sc.source_path = str(path)
    seeds = _seed_secrets(sc.sandbox.kind)
    merged = {**seeds.get(sc.sandbox.seed, {}), **seeds.get(sc.sandbox.app or "", {})}
    sc.sandbox.secrets = {**merged, **sc.sandbox.secrets}
    return sc


def load_scenarios(paths: Iterable[str | Path] = (SCENARIOS_DIR,)) -> list[Scenario]:
    """Every scenario under `paths`; two scenarios with one id is a ConfigError."""
    by_id: dict[str, Scenario] = {}
    for f in scenario_files(paths):
        for sc in load_file(f):
            if sc.id in by_id:
                raise ConfigError(
                    str(f), None, "id", f"duplicate scenario id '{sc.id}' (also in {by_id[sc.id].source_path})"
                )
            by_id[sc.id] = sc
    return list(by_id.values())
