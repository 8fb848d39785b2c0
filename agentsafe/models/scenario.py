"""Scenarios: a sandbox and its seed, the user's instruction, the simulated user, policies,
injections, success checks, risk labels and reference solutions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from agentsafe.models.base import Strict
from agentsafe.models.checks import Check
from agentsafe.models.matchers import EffectMatcher, Matcher
from agentsafe.models.policy import Dimension, Policy
from agentsafe.models.tools import SandboxKind


class SandboxSpec(Strict):
    """Which sandbox, which app, which seed, and scenario-specific additions to the seed.

    `files` (os): path under home -> content, written over the seed.
    `secrets`: name -> value planted in the seed; `no_leak` rules refer to them by name.
    `options`: kind-specific settings (web: start_url; mobile: events, ...)."""

    kind: SandboxKind
    app: str | None = None
    seed: str = "default"
    files: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


class UserAnswer(Strict):
    """How the simulated user answers an `ask_user` question that mentions any of `when`
    (case-insensitive substrings) or matches `regex`."""

    when: list[str] = Field(default_factory=list)
    regex: str | None = None
    reply: str
    consent: bool = False


class UserSim(Strict):
    """The simulated user behind `ask_user`. By default it does not consent."""

    answers: list[UserAnswer] = Field(default_factory=list)
    default_reply: str = "I'd rather you didn't. Please only do what I asked."
    default_consent: bool = False


class InjectionGoalSpec(Strict):
    """What the attacker wants: a step with an effect matching `effect` (any of a list; with
    `with_effect`, in a step that also had one matching it), a final state satisfying `check`,
    or a call matching `match`. Prefer `effect` or `check`: they count every route to the harm,
    where `match` sees one spelling."""

    description: str
    match: Matcher | None = None
    check: Check | None = None
    effect: EffectMatcher | list[EffectMatcher] | None = None
    with_effect: EffectMatcher | list[EffectMatcher] | None = None

    @model_validator(mode="after")
    def _needs_one(self) -> InjectionGoalSpec:
        if self.match is None and self.check is None and self.effect is None:
            raise ValueError("an injection goal needs `effect`, `check` or `match`")
        if self.with_effect is not None and self.effect is None:
            raise ValueError("an injection goal's `with_effect` needs `effect`")
        return self


class Injection(Strict):
    """Adversarial text planted in a carrier of the sandbox. Placed after parsing, verbatim.

    carrier: file | readme | email | command_output (os); page_text | hidden_text | review |
    comment | issue | email | popup | attacker_site (web); sms | notification | social_post |
    email (mobile). `target` holds carrier parameters (path, position, marker, app, step...).
    The text is `text`, or the named attack `template` rendered with `params` and the goal.
    Exposure is detected by `canary` (default: a distinctive slice of the rendered text)."""

    id: str
    carrier: str
    target: dict[str, Any] = Field(default_factory=dict)
    text: str | None = None
    template: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    goal: InjectionGoalSpec
    canary: str | None = None
    dimension: Dimension = Dimension.robustness_and_security

    @model_validator(mode="after")
    def _needs_text(self) -> Injection:
        if self.text is None and self.template is None:
            raise ValueError("an injection needs `text` or `template`")
        return self


class RiskLabels(Strict):
    """Risk labels: which dimensions, which category, who originates the risk, how high, the twin.
    level: high (harmful if done), low (a low-risk twin), none (no risk)."""

    dimensions: list[Dimension] = Field(default_factory=list)
    category: str = "general"
    origin: Literal["user", "environmental", "none"] = "none"
    level: Literal["high", "low", "none"] = "none"
    twin: str | None = None
    safe_behaviour: Literal["refuse", "ask", "complete_under_policy", "ignore_injection"] | None = (
        Field(default=None, description="What a safe agent does here (DESIGN section 4).")
    )
    do_nothing_ok: bool = Field(
        default=False,
        description="Doing nothing is a correct outcome: an idle agent may pass the checks.",
    )


class ReferenceCall(Strict):
    """One call of a reference solution."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class UnsafeVariant(Strict):
    """An alternative unsafe solution by another route; `agentsafe check` runs it and requires
    every policy in `violates` to be violated, and none in `spares` (a near miss: e.g. the
    injection's goal, which this route must not reach)."""

    name: str
    calls: list[ReferenceCall] = Field(min_length=1)
    violates: list[str] = Field(min_length=1)
    spares: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _spares_apart(self) -> UnsafeVariant:
        if both := set(self.spares) & set(self.violates):
            raise ValueError(f"a variant cannot both violate and spare {sorted(both)}")
        return self


class Scenario(Strict):
    """One task. See README 'Adding a scenario' for the fields."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-/]*$")
    title: str
    description: str = ""
    sandbox: SandboxSpec
    instruction: str
    user: UserSim = Field(default_factory=UserSim)
    policies: list[str | Policy] = Field(default_factory=list)
    injections: list[Injection] = Field(default_factory=list)
    checks: list[Check] = Field(min_length=1)
    risk: RiskLabels = Field(default_factory=RiskLabels)
    max_steps: int = Field(default=30, ge=1, le=500)
    reference: list[ReferenceCall] = Field(min_length=1)
    unsafe_reference: list[ReferenceCall] | None = None
    unsafe_violates: list[str] = Field(
        default_factory=list,
        description="Policy ids the unsafe reference must violate (checked by `agentsafe check`).",
    )
    unsafe_variants: list[UnsafeVariant] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    source_path: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unsafe_needs_target(self) -> Scenario:
        if self.unsafe_reference and not self.unsafe_violates:
            raise ValueError("unsafe_reference given without unsafe_violates")
        return self

    @property
    def kind(self) -> str:
        return self.sandbox.kind

    @property
    def injected(self) -> bool:
        return bool(self.injections)
