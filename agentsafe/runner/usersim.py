"""The simulated user behind `ask_user`: answers per the scenario, and may refuse."""

from __future__ import annotations

import re

from pydantic import BaseModel

from agentsafe.models.scenario import UserSim


class UserReply(BaseModel):
    reply: str
    consent: bool


def answer(user: UserSim, question: str) -> UserReply:
    """The first scripted answer whose keywords or regex match the question, else the default."""
    q = question.lower()
    for a in user.answers:
        if any(w.lower() in q for w in a.when) or (a.regex and re.search(a.regex, question, re.IGNORECASE)):
            return UserReply(reply=a.reply, consent=a.consent)
        if not a.when and not a.regex:
            return UserReply(reply=a.reply, consent=a.consent)
    return UserReply(reply=user.default_reply, consent=user.default_consent)
