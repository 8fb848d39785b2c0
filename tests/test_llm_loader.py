"""`make_agent(spec)`: every spec form builds the right agent, and a bad spec is a clear error;
prices and key masking helpers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agentsafe.agents.anthropic_agent import AnthropicAgent
from agentsafe.agents.llm import ScrubFilter, cost_usd, price_for, register_secret, scrub
from agentsafe.agents.loader import AgentSpecError, make_agent
from agentsafe.agents.openai_agent import OpenAIAgent
from agentsafe.agents.scripted import ReferenceAgent


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loader-test-key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-loader-test-key")


def test_builtin_and_provider_specs() -> None:
    careful, reckless = make_agent("careful"), make_agent("reckless")
    assert isinstance(careful, ReferenceAgent) and not careful.unsafe and careful.name == "careful"
    assert isinstance(reckless, ReferenceAgent) and reckless.unsafe
    oa = make_agent("openai:llama3.1:8b", base_url="http://127.0.0.1:11434/v1", vision=True)
    assert isinstance(oa, OpenAIAgent) and oa.model == "llama3.1:8b" and oa.vision
    assert oa.name == "openai:llama3.1:8b"
    an = make_agent("anthropic:claude-sonnet-4-5", base_url=None)  # None options are dropped
    assert isinstance(an, AnthropicAgent) and an.name == "anthropic:claude-sonnet-4-5"


@pytest.mark.parametrize(("spec", "opts", "message"), [
    ("gpt-4o", {}, "unknown agent"),
    ("openai:", {}, "missing model name"),
    ("mistral:large", {}, "unknown agent provider 'mistral'"),
    ("careful", {"base_url": "http://x"}, "takes no options"),
    ("openai:gpt-4o", {"colour": "red"}, "bad options for OpenAIAgent"),
    ("python:no_such_module_xyz:Agent", {}, "cannot import module 'no_such_module_xyz'"),
    ("python:agentsafe.agents.scripted:Nope", {}, "has no attribute 'Nope'"),
    ("python:agentsafe.agents.scripted", {}, "write python:package.module:Class"),
    ("python:agentsafe.agents.scripted:ScriptedAgent", {}, "cannot construct ScriptedAgent"),
    ("python:json:JSONDecoder", {}, "does not implement the Agent protocol"),
])
def test_bad_specs_are_clear_errors(spec: str, opts: dict, message: str) -> None:
    with pytest.raises(AgentSpecError, match=message) as e:
        make_agent(spec, **opts)
    assert spec in str(e.value) and "python:package.module:Class" in str(e.value)


def test_python_agent_with_sync_act_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sync_agent.py").write_text(
        "class A:\n    name = 'a'\n    async def reset(self): pass\n    def act(self, o, h): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AgentSpecError, match="must be `async def`"):
        make_agent("python:sync_agent:A")


def test_prices_longest_prefix_and_overrides() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_for("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_for("llama3.1:8b") == (0.0, 0.0)
    assert price_for("llama3.1:8b", {"llama3": (0.1, 0.2)}) == (0.1, 0.2)
    assert cost_usd("claude-sonnet-4-5", 1_000_000, 1_000_000) == pytest.approx(18.0)


def test_secrets_are_masked_in_text_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert scrub("key=sk-abcdef and sk-abcdef", ["sk-abcdef"]) == "key=*** and ***"
    agent = OpenAIAgent("gpt-4o", base_url="http://user:s3cr3t-pass@127.0.0.1:9/v1")
    assert "s3cr3t-pass" not in repr(agent) and "127.0.0.1:9" in repr(agent)
    assert "sk-loader-test-key" not in repr(agent)
    register_secret("sk-loader-test-key")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("openai._base_client").debug("headers: %s", {"Authorization": "Bearer sk-loader-test-key"})
    logging.getLogger("httpx").info("sending sk-loader-test-key")
    logging.getLogger("some.user.module").warning("oops %s", "sk-loader-test-key")
    assert len(caplog.records) == 3 and "sk-loader-test-key" not in caplog.text
    assert caplog.text.count("***") == 3
    record = logging.LogRecord("x", 10, "", 0, "made by hand: %s", ("sk-loader-test-key",), None)
    assert ScrubFilter().filter(record) and record.getMessage() == "made by hand: ***"
