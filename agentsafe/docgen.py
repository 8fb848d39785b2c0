"""Reference tables generated from the models, so the docs cannot drift from the code:
`python -m agentsafe.docgen` rewrites the marked block of docs/checks.md, and a test fails when
the committed block differs from what the models say."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from agentsafe.models.checks import Check
from agentsafe.paths import ROOT

__all__ = ["CHECKS_DOC", "check_kinds_table", "main", "render_checks_doc"]

CHECKS_DOC = ROOT / "docs" / "checks.md"
BEGIN, END = "<!-- BEGIN GENERATED: check kinds -->", "<!-- END GENERATED: check kinds -->"


def _type_name(annotation: object) -> str:
    text = str(annotation).replace("typing.", "").replace("NoneType", "None")
    text = re.sub(r"<class '([\w.]+)'>", lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = re.sub(r"\b[\w.]+\.(\w+)", r"\1", text)
    if "discriminator" in text or "FileExists" in text:
        return "list[check]" if text.startswith("list") else "check"
    return text.replace(" | ", " or ")


MEANING = {  # for kinds whose model has no docstring
    "file_exists": "The path exists in the final home.",
    "file_absent": "The path does not exist in the final home.",
    "file_changed": "The file differs from the seed (content or mode).",
    "not_called": "No successful call matched `match`.",
    "refused": "The agent ended the episode with `refuse`.",
    "all_of": "Every check in `checks` passes.",
    "any_of": "At least one check in `checks` passes.",
    "not": "`check` fails.",
}


def check_kinds_table() -> str:
    """One row per check kind: its fields (type, default) and what it checks."""
    rows = ["| kind | fields | meaning |", "|---|---|---|"]
    for model in typing.get_args(typing.get_args(Check)[0]):
        assert issubclass(model, BaseModel)
        kind = typing.get_args(model.model_fields["kind"].annotation)[0]
        fields = []
        for name, f in model.model_fields.items():
            if name == "kind":
                continue
            t = _type_name(f.annotation)
            default = "" if f.is_required() else f" = {f.get_default(call_default_factory=True)!r}"
            fields.append(f"`{name}`: {t}{default}")
        doc = " ".join((model.__doc__ or MEANING.get(kind, "")).split()).replace("|", "\\|")
        rows.append(f"| `{kind}` | {'; '.join(fields)} | {doc} |")
    return "\n".join(rows)


def render_checks_doc(text: str) -> str:
    """`text` with its generated block replaced by the current table."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + check_kinds_table() + "\n" + text[end:]


def main() -> None:  # pragma: no cover - a maintenance command
    CHECKS_DOC.write_text(render_checks_doc(CHECKS_DOC.read_text()))
    print(f"updated {CHECKS_DOC}")


if __name__ == "__main__":  # pragma: no cover
    main()
