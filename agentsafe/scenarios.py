"""Find, load and expand scenario files. A file holds one scenario; an optional top-level
`variants` list expands it into several (each `{id: suffix, vars: {...}}`, with `${var}`
substituted in every string except injection texts, which are always planted verbatim; a
variant's own `unsafe_variants` list is substituted too and appended to the file's). A file
with a top-level `matrix:` key is an attack matrix (agentsafe/matrix.py): user tasks x injection
goals x attack templates, expanded into security cases. An optional top-level `tiers` list makes
ST-WebAgentBench's tiers of one intent: tier k is the scenario plus the additions of tiers 1..k
(`policies`, `checks`, `unsafe_violates`; `instruction`, `user`, `reference` replaced), id `<id>.tier<k>`, tag `tier:<k>`."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from agentsafe.errors import ConfigError
from agentsafe.injection import render
from agentsafe.matrix import MatrixFile, expand, is_matrix
from agentsafe.models.base import Strict
from agentsafe.models.checks import Check
from agentsafe.models.policy import Policy
from agentsafe.models.scenario import ReferenceCall, Scenario, UserSim
from agentsafe.models.taxonomy import unknown_category
from agentsafe.paths import ROOT, SANDBOXES_DIR, SCENARIOS_DIR
from agentsafe.sandbox.web_targets import target_problems
from agentsafe.yamlio import line_of, read_yaml, validate

NON_SCENARIO_FILES = {"attacks.yaml"}


class Tier(Strict):
    """What one tier adds to the tier below it (tier 1 adds to the scenario as written)."""

    policies: list[str | Policy] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    unsafe_violates: list[str] = Field(default_factory=list)
    instruction: str | None = None
    user: UserSim | None = None
    reference: list[ReferenceCall] | None = None


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
        return [_finish(sc, path, data) for sc in expand(validate(data, MatrixFile, path).matrix, path)]
    variants = data.pop("variants", None)
    tiers = _tiers(data.pop("tiers", None), path)
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
            own = var.get("unsafe_variants")
            if own is not None:
                if not isinstance(own, list):
                    raise ConfigError(str(path), line_of(var), f"variants.{i}.unsafe_variants",
                                      "must be a list of {name, calls, violates}")
                expanded["unsafe_variants"] = [*(expanded.get("unsafe_variants") or []),
                                               *_substitute(own, vars)]
            expanded["id"] = f"{data.get('id')}.{var['id']}"
            items.append((expanded, ()))
    if tiers:
        items = [(tiered, ()) for raw, _ in items for tiered in _expand_tiers(raw, tiers)]
    return [_finish(validate(raw, Scenario, path), path, raw) for raw, _ in items]


def _tiers(raw: Any, path: Path) -> list[Tier]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        raise ConfigError(str(path), None, "tiers", "must be a non-empty list")
    return [validate(t, Tier, path, loc_prefix=("tiers", i)) for i, t in enumerate(raw)]


def _expand_tiers(raw: dict[str, Any], tiers: list[Tier]) -> list[dict[str, Any]]:
    """Tier k = `raw` plus the additions of tiers 1..k (cumulative), as plain data."""
    out = []
    cur = dict(raw)
    for k, tier in enumerate(tiers, start=1):
        cur = dict(cur)
        cur["policies"] = list(cur.get("policies") or []) + [
            p if isinstance(p, str) else p.model_dump(exclude_none=True) for p in tier.policies]
        cur["checks"] = list(cur.get("checks") or []) + [
            c.model_dump(exclude_none=True) for c in tier.checks]
        cur["unsafe_violates"] = list(cur.get("unsafe_violates") or []) + tier.unsafe_violates
        if tier.instruction is not None:
            cur["instruction"] = tier.instruction
        if tier.user is not None:
            cur["user"] = tier.user.model_dump(exclude_none=True)
        if tier.reference is not None:
            cur["reference"] = [c.model_dump() for c in tier.reference]
        one = dict(cur, id=f"{raw.get('id')}.tier{k}", tags=[*(raw.get("tags") or []), f"tier:{k}"])
        out.append(one)
    return out


def _finish(sc: Scenario, path: Path, raw: Any = None) -> Scenario:
    """Record where the scenario came from, check its risk labels, add the seed's secrets."""
    sc.source_path = str(path)
    _check_labels(sc, raw if isinstance(raw, dict) and "risk" in raw else {}, path)
    _check_sandbox(sc, raw if isinstance(raw, dict) else {}, path)
    _check_web_targets(sc, raw if isinstance(raw, dict) else {}, path)
    _check_regexes(sc, raw if isinstance(raw, dict) else {}, path)
    seeds = _seed_secrets(sc.sandbox.kind)
    merged = {**seeds.get(sc.sandbox.seed, {}), **seeds.get(sc.sandbox.app or "", {})}
    sc.sandbox.secrets = {**merged, **sc.sandbox.secrets}
    return sc


# What each sandbox can carry and run (the sandboxes refuse anything else at reset, too late:
# an infra error that leaves the scenario out of every metric).
APPS: dict[str, frozenset[str]] = {
    "web": frozenset({"crm", "forge", "mail", "shop"}),
    "mobile": frozenset({"phone", "messages", "contacts", "mail", "photos", "files", "notes",
                         "calendar", "settings", "store", "bank", "social", "weather",
                         "authenticator", "lingualeap", "supercleaner", "browser", "clock",
                         "calculator", "stocks", "flashupdate"}),
}
_WEB_GENERIC = {"page_text", "hidden_text", "popup", "attacker_site"}
CARRIERS: dict[tuple[str, str | None], frozenset[str]] = {
    ("os", None): frozenset({"file", "readme", "email", "command_output"}),
    ("mobile", None): frozenset({"sms", "notification", "social_post", "social_dm", "email", "web_page"}),
    ("web", "crm"): frozenset({"comment", "review", "issue", *_WEB_GENERIC}),
    ("web", "forge"): frozenset({"issue", "merge_request", "comment", "review", "readme",
                                 *_WEB_GENERIC}),
    ("web", "mail"): frozenset({"email", "draft", *_WEB_GENERIC}),
    ("web", "shop"): frozenset({"review", "comment", *_WEB_GENERIC}),
}


def _check_sandbox(sc: Scenario, raw: dict, path: Path) -> None:
    """A known app for the sandbox kind, and injection carriers that sandbox and app have."""
    kind, app = sc.sandbox.kind, sc.sandbox.app
    apps = APPS.get(kind)
    if apps is not None and app is not None and app not in apps:
        raise ConfigError(str(path), line_of(raw, "sandbox", "app") if raw else None,
                          "sandbox.app", f"unknown {kind} app '{app}'; known: {', '.join(sorted(apps))}")
    carriers = CARRIERS.get((kind, app if kind == "web" else None))
    if carriers is None and kind == "web":  # no app given: any web app's carriers
        carriers = frozenset().union(*(c for (k, _), c in CARRIERS.items() if k == "web"))
    for i, inj in enumerate(sc.injections):
        if carriers is not None and inj.carrier not in carriers:
            where = f"{kind} sandbox" + (f" (app {app})" if kind == "web" and app else "")
            raise ConfigError(
                str(path), line_of(raw, "injections", i, "carrier") if raw else None,
                f"injections.{i}.carrier",
                f"the {where} has no carrier '{inj.carrier}'; it has {', '.join(sorted(carriers))}")


def _check_web_targets(sc: Scenario, raw: dict, path: Path) -> None:
    """The web app's seed has every record the scenario SQL and injections refer to (else the
    reset would fail, too late: see agentsafe.sandbox.web_targets)."""
    if sc.sandbox.kind != "web" or not sc.sandbox.app:
        return
    sql = sc.sandbox.options.get("sql")
    placed = [(i, inj.carrier, dict(inj.target), render(inj))
              for i, inj in enumerate(sc.injections) if inj.carrier != "attacker_site"]
    if not placed and not sql:
        return
    problems = target_problems(sc.sandbox.app, sql, placed)
    if not problems:
        return
    p = problems[0]
    if p.index is None:
        raise ConfigError(str(path), line_of(raw, "sandbox", "options", "sql") if raw else None,
                          "sandbox.options.sql", p.message)
    loc: tuple = ("injections", p.index, "target", *((p.key,) if p.key else ()))
    line = None
    for n in range(len(loc), 1, -1) if raw else ():
        line = line_of(raw, *loc[:n])
        if line:
            break
    field = f"injections.{p.index}.target" + (f".{p.key}" if p.key else "")
    raise ConfigError(str(path), line, field,
                      f"{sc.id}: injection '{sc.injections[p.index].id}' ({sc.injections[p.index].carrier}): "
                      f"{p.message}")


_REGEX_KEYS = ("regex", "url", "command", "error_regex")


def _regexes(value: Any, loc: tuple) -> Iterable[tuple[tuple, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _REGEX_KEYS and isinstance(v, str):
                yield loc + (k,), v
            else:
                yield from _regexes(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _regexes(v, loc + (i,))


def _check_regexes(sc: Scenario, raw: dict, path: Path) -> None:
    """Every regex of the checks and the simulated user compiles now, not mid-run."""
    data = {"checks": [c.model_dump(exclude_none=True) for c in sc.checks],
            "user": sc.user.model_dump(exclude_none=True)}
    for loc, pattern in _regexes(data, ()):
        try:
            re.compile(pattern)
        except re.error as e:
            field = ".".join(str(x) for x in loc)
            raise ConfigError(str(path), line_of(raw, *loc) if raw else None, field,
                              f"invalid regular expression {pattern!r}: {e}") from None


SAFE_BEHAVIOURS = ("refuse", "ask", "complete_under_policy", "ignore_injection")


def _check_labels(sc: Scenario, raw: Any, path: Path) -> None:
    """Risk labels a file must get right (docs/metrics.md 'Risk labels'): a category of the
    taxonomy, a safe behaviour (declared, or derived where unambiguous) and a level that
    agrees with both."""
    risk = raw.get("risk") if isinstance(raw, dict) else None

    def fail(field: str, message: str) -> None:
        line = line_of(raw, "risk", field) if isinstance(risk, dict) and field in risk else (
            line_of(raw, "risk") if risk is not None else (line_of(raw, "id") if raw else None))
        raise ConfigError(str(path), line, f"risk.{field}", message)

    problem = unknown_category(sc.risk.category)
    if problem:
        fail("category", problem)
    if sc.injected and sc.risk.level == "none":  # unlabelled: an injection makes it high-risk
        sc.risk.level = "high"
        if sc.risk.origin == "none":
            sc.risk.origin = "environmental"
    if sc.injected and sc.risk.level != "high":
        fail("level", f"a scenario with injections is high-risk, not '{sc.risk.level}'")
    if sc.risk.safe_behaviour is None:  # derived where the rule is unambiguous
        if sc.injected:
            sc.risk.safe_behaviour = "ignore_injection"
        elif sc.risk.level != "high":
            sc.risk.safe_behaviour = "complete_under_policy"
        else:
            fail("safe_behaviour", "is required on a high-risk scenario: what a safe agent does "
                                   "here, one of " + ", ".join(SAFE_BEHAVIOURS))
    if sc.risk.safe_behaviour == "refuse" and sc.risk.level != "high":
        fail("level", "a scenario whose safe behaviour is to refuse is high-risk")
    if sc.risk.twin == sc.id:
        fail("twin", "a scenario cannot be its own twin")


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
