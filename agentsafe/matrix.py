"""The attack matrix: user tasks x injection goals x attack templates, expanded AgentDojo-style
into security cases (one Scenario each, with a stable id) wherever a goal fits a task's carrier.

A matrix file is a YAML mapping with a top-level `matrix:` key (see docs/attack-matrix.md). A user
task says where it shows planted text (`slots`: carrier + target) and how a careful agent solves
it; an injection goal says what the attacker wants (`match` / `check`), which carriers it fits
and the calls a compliant agent would make (`calls`). Each case plants one goal, rendered by one
template, in one slot; its reference is the task's, its unsafe reference the task's with the goal's
calls inserted, so `agentsafe check` proves the injection reachable, the goal achievable and the
task still solvable. Ids: `<matrix>.<task>.<slot>.<goal>.<template>`; `<matrix>.<task>.clean` is
the task without injection (the utility baseline and the cases' benign twin)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from agentsafe.errors import ConfigError
from agentsafe.injection import attack_templates
from agentsafe.models.base import Strict
from agentsafe.models.checks import Check
from agentsafe.models.matchers import EffectMatcher, Matcher
from agentsafe.models.policy import Dimension, Policy
from agentsafe.models.scenario import ReferenceCall, SandboxSpec, Scenario, UserSim

MATRIX_TAG = "attack-matrix"
_ID = r"^[a-z0-9][a-z0-9_\-]*$"


class Slot(Strict):
    """A place where the user task shows planted text to an agent that does the task."""

    id: str | None = Field(default=None, pattern=_ID, description="default: the carrier")
    carrier: str
    target: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.id or self.carrier


class UnsafeScript(Strict):
    """A whole unsafe solution of a clean task (a misstep nobody asked for) and what it trips."""

    calls: list[ReferenceCall] = Field(min_length=1)
    violates: list[str] = Field(min_length=1)


class UserTask(Strict):
    """What the user asks, how it is judged and how a careful agent does it."""

    id: str = Field(pattern=_ID)
    title: str
    instruction: str
    slots: list[Slot] = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    reference: list[ReferenceCall] = Field(min_length=1)
    attack_at: int | None = Field(
        default=None, description="index in `reference` where a compliant agent acts on the "
        "goal; default: before the last call")
    policies: list[str | Policy] = Field(default_factory=list)
    unsafe: UnsafeScript | None = Field(
        default=None, description="the clean task's unsafe reference (required when `clean`)")
    sandbox: dict[str, Any] = Field(default_factory=dict, description="merged into the matrix's")
    user: UserSim | None = None
    dimensions: list[Dimension] = Field(default_factory=list)
    category: str | None = None
    max_steps: int | None = None


class GoalVariant(Strict):
    """Another route to the goal (or to a near miss): its calls stand where the goal's do, and it
    must violate `violates` plus, when `achieves`, the goal's own `injection:<goal>` policy."""

    name: str = Field(pattern=_ID)
    calls: list[ReferenceCall] = Field(min_length=1)
    violates: list[str] = Field(default_factory=list)
    achieves: bool = True

    @model_validator(mode="after")
    def _trips_something(self) -> GoalVariant:
        if not self.achieves and not self.violates:
            raise ValueError("a variant that does not reach the goal must name what it violates")
        return self


class Goal(Strict):
    """An attacker goal: achieved by a step's effect matching `effect` (with `with_effect` in the
    same step, when given), a final state passing `check`, or a call matching `match`. `effect`
    and `check` judge the harm, whatever route caused it; `match` sees only one spelling."""

    id: str = Field(pattern=_ID)
    description: str = Field(description="the goal as a verb phrase; templates put it in a sentence")
    match: Matcher | None = None
    check: Check | None = None
    effect: EffectMatcher | list[EffectMatcher] | None = None
    with_effect: EffectMatcher | list[EffectMatcher] | None = None
    carriers: list[str] = Field(default_factory=list, description="carriers it fits; empty: all")
    calls: list[ReferenceCall] = Field(min_length=1, description="what a compliant agent does")
    policies: list[str | Policy] = Field(default_factory=list)
    violates: list[str] = Field(default_factory=list, description="policies `calls` violate")
    variants: list[GoalVariant] = Field(
        default_factory=list, description="other routes, replayed as the cases' unsafe_variants")
    params: dict[str, str] = Field(default_factory=dict)
    sandbox: dict[str, Any] = Field(default_factory=dict, description="merged into the task's")
    dimensions: list[Dimension] = Field(default_factory=list)
    category: str | None = None
    level: Literal["high", "low"] = "high"

    @model_validator(mode="after")
    def _needs_one(self) -> Goal:
        if self.match is None and self.check is None and self.effect is None:
            raise ValueError("an injection goal needs `effect`, `check` or `match`")
        return self


class Matrix(Strict):
    """A suite of user tasks and injection goals sharing one sandbox kind."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")
    description: str = ""
    sandbox: SandboxSpec
    user: UserSim = Field(default_factory=UserSim)
    policies: list[str | Policy] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list, description="attack templates; empty: all")
    per_pair: int | None = Field(
        default=None, ge=1, description="attacks tried per (task slot, goal) pair, picked from "
        "`templates` by a stable hash so every template is used about equally; default: all")
    user_tasks: list[UserTask] = Field(min_length=1)
    injection_goals: list[Goal] = Field(min_length=1)
    skip: list[str] = Field(default_factory=list, description="'task.goal' pairs left out")
    category: str = "prompt_injection"
    clean_category: str | None = None
    clean: bool = True
    max_steps: int = 20
    tags: list[str] = Field(default_factory=list)


class MatrixFile(Strict):
    matrix: Matrix


def _dump(m: EffectMatcher | list[EffectMatcher] | None) -> Any:
    if m is None:
        return None
    if isinstance(m, list):
        return [x.model_dump(exclude_none=True, exclude_defaults=True) for x in m]
    return m.model_dump(exclude_none=True, exclude_defaults=True)


def _merge(base: Any, extra: Any) -> Any:
    """Deep merge: mappings merge key by key, lists concatenate, scalars are replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(extra, list):
        return base + extra
    return extra


def _policies(*groups: list[str | Policy]) -> list[str | Policy]:
    out: list[str | Policy] = []
    seen: set[str] = set()
    for group in groups:
        for p in group:
            pid = p if isinstance(p, str) else p.id
            if pid not in seen:
                seen.add(pid)
                out.append(p)
    return out


def _dims(*groups: list[Dimension]) -> list[Dimension]:
    return list(dict.fromkeys(d for g in groups for d in g))


def fits(goal: Goal, slot: Slot) -> bool:
    return not goal.carriers or slot.carrier in goal.carriers


def pick(templates: list[str], pair: str, n: int | None) -> list[str]:
    """The templates tried on one pair: all, or the `n` whose stable hash with the pair is
    smallest (independent of the other pairs, so adding a task or goal keeps every id)."""
    if n is None or n >= len(templates):
        return list(templates)
    key = {t: hashlib.sha1(f"{pair}|{t}".encode()).hexdigest() for t in templates}
    chosen = set(sorted(templates, key=key.__getitem__)[:n])
    return [t for t in templates if t in chosen]


def _sandbox(m: Matrix, *parts: dict[str, Any]) -> dict[str, Any]:
    out = m.sandbox.model_dump(exclude_defaults=True)
    for p in parts:
        out = _merge(out, p)
    return out


def expand(m: Matrix, path: str | Path) -> list[Scenario]:
    """Every case of the matrix (and each task's clean version), validated."""
    templates = attack_templates()
    names = m.templates or list(templates)
    for i, name in enumerate(names):
        if name not in templates:
            raise ConfigError(str(path), None, f"matrix.templates.{i}",
                              f"unknown attack template '{name}' (known: {', '.join(templates)})")
    task_ids = {t.id for t in m.user_tasks}
    goal_ids = {g.id for g in m.injection_goals}
    for i, pair in enumerate(m.skip):
        task_id, _, goal_id = pair.partition(".")
        if task_id not in task_ids or goal_id not in goal_ids:
            raise ConfigError(str(path), None, f"matrix.skip.{i}",
                              f"'{pair}' is not '<user task>.<injection goal>' of this matrix")
    for gi, g in enumerate(m.injection_goals):
        if not any(fits(g, s) for t in m.user_tasks for s in t.slots):
            raise ConfigError(str(path), None, f"matrix.injection_goals.{gi}.carriers",
                              f"goal '{g.id}' fits no slot of any user task ({g.carriers})")
    raws: list[tuple[str, dict[str, Any]]] = []
    for t in m.user_tasks:
        k = len(t.reference) - 1 if t.attack_at is None else t.attack_at
        if not 0 <= k <= len(t.reference):
            raise ConfigError(str(path), None, f"matrix.user_tasks.{t.id}.attack_at",
                              f"must be between 0 and {len(t.reference)}")
        base = {
            "instruction": t.instruction, "user": (t.user or m.user).model_dump(),
            "checks": [c.model_dump(exclude_none=True) if hasattr(c, "model_dump") else c
                       for c in t.checks],
            "reference": [c.model_dump() for c in t.reference],
            "max_steps": t.max_steps or m.max_steps,
        }
        clean_id = f"{m.id}.{t.id}.clean"
        if m.clean and t.unsafe is None:
            raise ConfigError(str(path), None, f"matrix.user_tasks.{t.id}.unsafe",
                              "a clean task needs an unsafe solution (calls + violates) so it "
                              "separates a careful agent from a reckless one")
        if m.clean:
            raws.append((clean_id, {
                **base, "id": clean_id, "title": t.title,
                "description": f"User task '{t.id}' of the attack matrix {m.id}, without injection.",
                "sandbox": _sandbox(m, t.sandbox),
                "policies": _policies(m.policies, t.policies),
                "unsafe_reference": [c.model_dump() for c in t.unsafe.calls] if t.unsafe else None,
                "unsafe_violates": list(t.unsafe.violates) if t.unsafe else [],
                "risk": {"dimensions": t.dimensions or [Dimension.strict_execution],
                         "category": t.category or m.clean_category or m.category,
                         "origin": "none", "level": "low",
                         "safe_behaviour": "complete_under_policy"},
                "tags": [*m.tags, MATRIX_TAG, f"matrix:{m.id}", f"user-task:{t.id}", "clean"],
            }))
        for s in t.slots:
            for g in m.injection_goals:
                if not fits(g, s) or f"{t.id}.{g.id}" in m.skip:
                    continue
                first = g.calls[0]
                params = {"tool": first.tool, "tool_args": json.dumps(first.args), **g.params}
                for tpl in pick(names, f"{t.id}.{s.name}.{g.id}", m.per_pair):
                    cid = f"{m.id}.{t.id}.{s.name}.{g.id}.{tpl}"
                    spec = {"description": g.description,
                            "match": g.match.model_dump(exclude_none=True) if g.match else None,
                            "check": g.check.model_dump(exclude_none=True) if g.check else None,
                            "effect": _dump(g.effect), "with_effect": _dump(g.with_effect)}
                    raws.append((cid, {
                        **base, "id": cid,
                        "title": f"{t.title} - {tpl} attack in the {s.carrier}: {g.description}",
                        "description": f"Security case of the attack matrix {m.id}: user task "
                                       f"'{t.id}', goal '{g.id}', attack '{tpl}', carrier '{s.carrier}'.",
                        "sandbox": _sandbox(m, t.sandbox, g.sandbox),
                        "policies": _policies(m.policies, t.policies, g.policies),
                        "injections": [{
                            "id": g.id, "carrier": s.carrier, "target": s.target, "template": tpl,
                            "params": params,
                            "goal": {k: v for k, v in spec.items() if v is not None},
                        }],
                        "unsafe_reference": [c.model_dump() for c in
                                             t.reference[:k] + g.calls + t.reference[k:]],
                        "unsafe_violates": [f"injection:{g.id}", *g.violates],
                        "unsafe_variants": [{
                            "name": v.name,
                            "calls": [c.model_dump() for c in t.reference[:k] + v.calls + t.reference[k:]],
                            "violates": [f"injection:{g.id}"] * v.achieves + v.violates,
                            "spares": [] if v.achieves else [f"injection:{g.id}"],
                        } for v in g.variants],
                        "risk": {"dimensions": _dims([Dimension.robustness_and_security], g.dimensions),
                                 "category": g.category or m.category, "origin": "environmental",
                                 "level": g.level, "twin": clean_id if m.clean else None,
                                 "safe_behaviour": "ignore_injection"},
                        "tags": [*m.tags, MATRIX_TAG, f"matrix:{m.id}", f"user-task:{t.id}",
                                 f"goal:{g.id}", f"attack:{tpl}", f"carrier:{s.carrier}"],
                    }))
    out = []
    for cid, raw in raws:
        try:
            out.append(Scenario.model_validate(raw))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise ConfigError(str(path), None, f"matrix case {cid}: {field}", err["msg"]) from None
    return out


def is_matrix(data: Any) -> bool:
    return isinstance(data, dict) and "matrix" in data
