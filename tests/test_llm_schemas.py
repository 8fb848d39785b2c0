"""Schemas for OpenAI, Anthropic and MCP come from the same ToolSpecs; the system prompt and
observation rendering say what the model needs."""

from __future__ import annotations

import jsonschema
import mcp.types as mcp_types
import pytest

from agentsafe.agents.render import observation_text, policy_lines, result_text, system_prompt
from agentsafe.agents.schemas import anthropic_tools, mcp_tools, openai_tools, tools_for_kind
from agentsafe.errors import ToolCallError
from agentsafe.models.events import EpisodeBrief, Observation
from agentsafe.models.tools import ToolCall, ToolResult, ToolSpec
from agentsafe.tools.registry import ToolRegistry


def test_all_three_schemas_come_from_the_same_specs() -> None:
    specs = tools_for_kind("os")
    names = [s.name for s in specs]
    assert {"shell", "read_file", "ask_user", "finish", "refuse"} <= set(names)
    oa, an, mc = openai_tools(specs), anthropic_tools(specs), mcp_tools(specs)
    assert [t["function"]["name"] for t in oa] == names
    assert [t["name"] for t in an] == names
    assert [t.name for t in mc] == names
    for spec, o, a, m in zip(specs, oa, an, mc, strict=True):
        assert o["type"] == "function"
        assert o["function"]["parameters"] == a["input_schema"] == m.input_schema
        assert o["function"]["parameters"]["properties"].keys() == spec.parameters["properties"].keys()
        assert o["function"]["description"] == spec.description == a["description"] == m.description
        jsonschema.Draft202012Validator.check_schema(o["function"]["parameters"])
    # the generated schemas are copies: editing one never changes the spec
    oa[0]["function"]["parameters"]["properties"]["x"] = {}
    assert "x" not in specs[0].parameters["properties"]


def test_null_valued_keys_are_dropped_but_nullable_keywords_kept() -> None:
    spec = ToolSpec(name="t", description="A tool for testing.", parameters={
        "type": "object",
        "properties": {"q": {"type": "string", "description": "The question", "naming it.": None},
                       "n": {"type": ["integer", "null"], "default": None}},
    })
    (schema,) = openai_tools([spec])
    props = schema["function"]["parameters"]["properties"]
    assert props["q"] == {"type": "string", "description": "The question"}
    assert props["n"] == {"type": ["integer", "null"], "default": None}
    for tool in anthropic_tools(tools_for_kind("os")):
        assert "None" not in str({k: v for k, v in tool["input_schema"].items()})


def test_schemas_for_a_kind_exclude_other_kinds_tools() -> None:
    assert "shell" not in [t["name"] for t in anthropic_tools(tools_for_kind("web"))]
    assert "finish" in [t["name"] for t in anthropic_tools(tools_for_kind("web"))]


def test_mcp_annotations_follow_tags() -> None:
    by_name = {t.name: t for t in mcp_tools(tools_for_kind("os"))}
    assert by_name["read_file"].annotations.read_only_hint is True
    assert by_name["shell"].annotations.read_only_hint is False
    spec = ToolSpec(name="pay", description="Pay a bill irreversibly.", tags=["irreversible", "egress"])
    (tool,) = mcp_tools([spec])
    assert isinstance(tool, mcp_types.Tool)
    assert tool.annotations.destructive_hint and tool.annotations.open_world_hint
    assert tool.input_schema["type"] == "object"


def test_validation_against_the_same_schema_passes_and_fails() -> None:
    reg = ToolRegistry("os")
    reg.validate(ToolCall(name="read_file", args={"path": "notes.txt"}))
    with pytest.raises(ToolCallError, match="path"):
        reg.validate(ToolCall(name="read_file", args={}))
    with pytest.raises(ToolCallError, match="unknown tool 'rm_rf'"):
        reg.validate(ToolCall(name="rm_rf", args={}))


def brief(**kw: object) -> EpisodeBrief:
    base: dict[str, object] = {"scenario_id": "s", "instruction": "Tidy the notes folder.",
                               "tools": tools_for_kind("os"), "max_steps": 7}
    base.update(kw)
    return EpisodeBrief(**base)  # type: ignore[arg-type]


def test_system_prompt_orders_policies_by_precedence() -> None:
    text = system_prompt(brief(policies=[
        "[task] Keep the summary short.",
        "[organization] Never delete files without consent.",
        "[user] Do not email anyone.",
    ]))
    assert "Tidy the notes folder." in text
    org, user, task = (text.index(s) for s in ("[organization]", "[user]", "[task]"))
    assert org < user < task
    for needed in ("ask_user", "refuse", "finish", "at most 7 steps"):
        assert needed in text
    assert "no additional policies" in policy_lines([])


def test_observation_and_results_rendering() -> None:
    obs = Observation(step=3, brief=brief(), text="$ ls\nnotes.txt", url="http://shop.example.test/",
                      title="Shop", notices=["The user replied: no."],
                      last_results=[ToolResult(call_id="c1", ok=False, error="no such file")])
    text = observation_text(obs, include_results=True)
    for needed in ("step 3 of at most 7", "URL: http://shop.example.test/", "Title: Shop",
                   "Notice: The user replied: no.", "notes.txt", "Error: no such file"):
        assert needed in text
    assert result_text(ToolResult(call_id="c", output="hi", truncated=True)) == "hi\n[output truncated]"
    assert result_text(ToolResult(call_id="c")) == "(ok, no output)"
