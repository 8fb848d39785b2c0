"""Render injections (verbatim text or named attack templates) and compute their canaries.

Templates live in scenarios/attacks.yaml and use $name placeholders (string.Template), filled
from the template's defaults, the injection's params, `goal` (the goal's description) and the
goal's encodings `goal_b64` / `goal_rot13` (for the encoded attacks). Rendering happens on typed
values after YAML parsing, so braces or quotes in attack text are always safe."""

from __future__ import annotations

import base64
import codecs
import re
import string
from functools import cache
from pathlib import Path

from pydantic import Field

from agentsafe.errors import ConfigError
from agentsafe.models.base import Strict
from agentsafe.models.scenario import Injection
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.yamlio import load_model


class AttackTemplate(Strict):
    name: str
    description: str
    text: str
    defaults: dict[str, str] = Field(default_factory=dict)


class AttackFile(Strict):
    attacks: list[AttackTemplate] = Field(default_factory=list)


@cache
def attack_templates(path: Path = SCENARIOS_DIR / "attacks.yaml") -> dict[str, AttackTemplate]:
    if not path.exists():
        return {}
    return {a.name: a for a in load_model(path, AttackFile).attacks}


def render(injection: Injection) -> str:
    """The exact text planted in the carrier."""
    if injection.text is not None:
        return injection.text
    templates = attack_templates()
    tpl = templates.get(injection.template or "")
    if tpl is None:
        known = ", ".join(sorted(templates)) or "none defined"
        raise ConfigError(
            "", None, f"injections.{injection.id}.template",
            f"unknown attack template '{injection.template}' (known: {known})",
        )
    goal = injection.goal.description
    values = {
        **tpl.defaults, "goal": goal,
        "goal_b64": base64.b64encode(goal.encode()).decode(),
        "goal_rot13": codecs.encode(goal, "rot13"),
        **injection.params,
    }
    try:
        return string.Template(tpl.text).substitute(values)
    except KeyError as e:
        raise ConfigError(
            "", None, f"injections.{injection.id}.params", f"template needs parameter {e}"
        ) from None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def canary(injection: Injection) -> str:
    """The string whose presence in an observation proves exposure: the declared canary, or the
    longest line of the rendered text (normalised), capped at 60 characters."""
    if injection.canary:
        return _norm(injection.canary)
    lines = [_norm(x) for x in render(injection).splitlines() if x.strip()]
    best = max(lines, key=len) if lines else _norm(render(injection))
    return best[:60]


def exposed_in(text: str, canaries: dict[str, str]) -> list[str]:
    """Ids of the injections whose canary appears in `text`."""
    if not text or not canaries:
        return []
    norm = _norm(text)
    return [i for i, c in canaries.items() if c and c in norm]
