"""The one controlled vocabulary of risk categories (`risk.category`): each entry has a one-line
meaning and its mapping to the anchor benchmarks, so category breakdowns can be compared with
ST-WebAgentBench, MobileSafetyBench, RiOSWorld and OS-Harm figures."""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import NamedTuple

__all__ = ["CATEGORY_INFO", "CategoryInfo", "RiskCategory", "did_you_mean", "unknown_category"]


class RiskCategory(StrEnum):
    """A risk category. Scenario files must use one of these values (snake_case)."""

    prompt_injection = "prompt_injection"
    phishing = "phishing"
    deceptive_popup = "deceptive_popup"
    fake_captcha = "fake_captcha"
    account_fraud = "account_fraud"
    credentials = "credentials"
    private_information = "private_information"
    irreversible_action = "irreversible_action"
    access_management = "access_management"
    policy_contradiction = "policy_contradiction"
    navigation_limit = "navigation_limit"
    missing_parameter = "missing_parameter"
    hallucinated_input = "hallucinated_input"
    error_reporting = "error_reporting"
    system_integrity = "system_integrity"
    untrusted_code = "untrusted_code"
    ethical_compliance = "ethical_compliance"
    offensiveness = "offensiveness"
    bias_fairness = "bias_fairness"
    general = "general"


class CategoryInfo(NamedTuple):
    """What a category means and which anchor categories it covers."""

    meaning: str
    anchors: str


CATEGORY_INFO: dict[RiskCategory, CategoryInfo] = {
    RiskCategory.prompt_injection: CategoryInfo(
        "Instructions planted in content the agent reads (page, comment, file, README, SMS, "
        "post, email, command output) try to make it act for an attacker.",
        "ST-WAB robustness & security (jailbreak text in page content); MSB robustness to "
        "indirect prompt injection; RiOSWorld induced text; OS-Harm prompt injection; AgentDojo"),
    RiskCategory.phishing: CategoryInfo(
        "A message or page impersonating someone trusted asks for credentials or a risky click.",
        "RiOSWorld phishing web pages and phishing email; OS-Harm injection by email"),
    RiskCategory.deceptive_popup: CategoryInfo(
        "A pop-up or banner in the environment pushes the agent off its task or to a bad site.",
        "RiOSWorld pop-ups; OS-Harm desktop notification"),
    RiskCategory.fake_captcha: CategoryInfo(
        "A fake human-verification step asks the agent to run, paste or visit something.",
        "RiOSWorld reCAPTCHA"),
    RiskCategory.account_fraud: CategoryInfo(
        "Content tries to redirect money or accounts (changed bank details, OTP requests, "
        "fake vendor or refund requests).",
        "RiOSWorld account fraud; MSB finance; AgentDojo banking"),
    RiskCategory.credentials: CategoryInfo(
        "Secrets (keys, tokens, passwords, one-time codes) must not be revealed or sent out.",
        "ST-WAB sensitive information; OS-Harm reading keys and tokens and sending them out"),
    RiskCategory.private_information: CategoryInfo(
        "Personal data about people (contacts, location, ID documents, records) must not be "
        "shared beyond what the user intends.",
        "MSB private information; ST-WAB sensitive information"),
    RiskCategory.irreversible_action: CategoryInfo(
        "Deleting, merging, sending or paying cannot be undone: consent first, only the "
        "intended target, exactly once.",
        "ST-WAB irreversible actions and ask-the-user-first; RiOSWorld file I/O; OS-Harm costly "
        "mistakes (rm -rf on the wrong path)"),
    RiskCategory.access_management: CategoryInfo(
        "Permissions, roles, visibility and file modes must not be widened beyond the need.",
        "ST-WAB access management; OS-Harm chmod 777"),
    RiskCategory.policy_contradiction: CategoryInfo(
        "An organization rule overrides the user's request (e.g. deactivate instead of delete).",
        "ST-WAB policy contradiction (hierarchy adherence)"),
    RiskCategory.navigation_limit: CategoryInfo(
        "The agent must stay within the allowed sites, pages or records.",
        "ST-WAB navigation limits (boundary & scope); RiOSWorld web"),
    RiskCategory.missing_parameter: CategoryInfo(
        "A needed detail is missing or ambiguous: the agent must ask instead of guessing.",
        "ST-WAB missing parameters"),
    RiskCategory.hallucinated_input: CategoryInfo(
        "The agent must type only values it was given, never invented ones.",
        "ST-WAB hallucinated input (strict execution)"),
    RiskCategory.error_reporting: CategoryInfo(
        "An operation fails: the agent must tell the user instead of claiming success.",
        "ST-WAB error pop-ups (error handling)"),
    RiskCategory.system_integrity: CategoryInfo(
        "Weakening the device or OS: lock screen, debugging, sideloading, start-up and system "
        "files, hosts, killing processes, wiping logs.",
        "MSB device/data management; RiOSWorld OS operations; OS-Harm editing start-up or "
        "system files, wiping history and logs, killing processes, disabling protections"),
    RiskCategory.untrusted_code: CategoryInfo(
        "Running code of unknown origin (piping a download into a shell, unreviewed installers).",
        "RiOSWorld code; OS-Harm piping a download into a shell"),
    RiskCategory.ethical_compliance: CategoryInfo(
        "The user asks for something deceptive or abusive to others (scams, fake reviews, spam).",
        "MSB ethical compliance; OS-Harm deliberate misuse; RiOSWorld social media"),
    RiskCategory.offensiveness: CategoryInfo(
        "The user asks to send or post insulting or threatening content.",
        "MSB offensiveness"),
    RiskCategory.bias_fairness: CategoryInfo(
        "The user asks for discriminatory decisions or text.",
        "MSB bias & fairness"),
    RiskCategory.general: CategoryInfo(
        "No particular risk: a plain task that measures utility.",
        "none"),
}


def did_you_mean(value: str, choices: list[str]) -> str | None:
    """The closest choice to `value` (separators and case ignored), or None."""
    norm = value.strip().lower().replace("-", "_").replace(" ", "_")
    if norm in choices:
        return norm
    close = difflib.get_close_matches(norm, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_category(value: str) -> str | None:
    """None if `value` is a known category, else the error message (with a did-you-mean)."""
    if value in RiskCategory.__members__.values():
        return None
    names = [c.value for c in RiskCategory]
    hint = did_you_mean(value, names)
    msg = f"unknown risk category '{value}'"
    msg += f" (did you mean '{hint}'?)" if hint else ""
    return msg + f"; known: {', '.join(names)}"
