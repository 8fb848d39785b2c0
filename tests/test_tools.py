"""Tool specs: every spec loads, each kind gets its tools, and a broken spec is a clear error."""

from pathlib import Path

import pytest

from agentsafe.errors import ConfigError, ToolCallError
from agentsafe.models.tools import ToolCall
from agentsafe.tools.registry import ToolRegistry, load_tools


def test_every_kind_has_the_common_tools() -> None:
    for kind in ("os", "web", "mobile"):
        names = {t.name for t in ToolRegistry(kind).list()}
        assert {"ask_user", "send_message", "finish", "refuse"} <= names


def test_os_tools_validate_arguments() -> None:
    reg = ToolRegistry("os")
    reg.validate(ToolCall(name="shell", args={"command": "ls"}))
    with pytest.raises(ToolCallError, match="unknown tool 'click'"):
        reg.validate(ToolCall(name="click", args={}))
    with pytest.raises(ToolCallError, match="'command' is a required property"):
        reg.validate(ToolCall(name="shell", args={}))
    with pytest.raises(ToolCallError, match="Additional properties"):
        reg.validate(ToolCall(name="shell", args={"command": "ls", "sudo": True}))


def test_raw_arguments_must_be_a_json_object() -> None:
    assert ToolRegistry.parse_args('{"a": 1}') == {"a": 1}
    with pytest.raises(ToolCallError, match="not valid JSON"):
        ToolRegistry.parse_args('{"a": ')
    with pytest.raises(ToolCallError, match="JSON object"):
        ToolRegistry.parse_args("[1, 2]")


def test_descriptions_are_whole_sentences() -> None:
    for spec in load_tools():
        for name, prop in spec.parameters.get("properties", {}).items():
            assert None not in prop.values(), (spec.name, name)


def test_an_unquoted_comma_in_a_flow_mapping_is_caught(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "tools:\n  - name: poke\n    description: Poke something gently.\n"
        "    parameters:\n      type: object\n      properties:\n"
        "        what: {type: string, description: The thing, or the person.}\n"
    )
    with pytest.raises(ConfigError, match="null value"):
        load_tools(tmp_path)


def test_a_tool_defined_twice_is_an_error(tmp_path: Path) -> None:
    spec = "tools:\n  - name: poke\n    description: Poke something gently.\n"
    (tmp_path / "a.yaml").write_text(spec)
    (tmp_path / "b.yaml").write_text(spec)
    with pytest.raises(ConfigError, match="defined twice"):
        load_tools(tmp_path)
