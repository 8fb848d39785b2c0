"""Generated reference docs match the models (regenerate with `python -m agentsafe.docgen`)."""

import typing

from agentsafe.docgen import CHECKS_DOC, check_kinds_table, render_checks_doc
from agentsafe.models.checks import Check


def test_check_kinds_doc_is_current() -> None:
    text = CHECKS_DOC.read_text()
    assert render_checks_doc(text) == text, "docs/checks.md is stale: python -m agentsafe.docgen"


def test_every_check_kind_has_a_row_with_a_meaning() -> None:
    table = check_kinds_table()
    for model in typing.get_args(typing.get_args(Check)[0]):
        kind = typing.get_args(model.model_fields["kind"].annotation)[0]
        [row] = [r for r in table.splitlines() if r.startswith(f"| `{kind}` |")]
        assert not row.endswith("|  |"), f"{kind}: no meaning"
