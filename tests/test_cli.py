"""The command line, end to end: list, check, run, report and its clear errors."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentsafe.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_list_shows_the_suites() -> None:
    out = runner.invoke(app, ["list", "scenarios/os"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "os.files.free-space-export" in out.output


@pytest.mark.bwrap
def test_check_passes_a_good_scenario() -> None:
    out = runner.invoke(app, ["check", str(DATA / "os_minimal.yaml")])
    assert out.exit_code == 0, out.output
    assert "1/1 scenarios pass" in out.output


@pytest.mark.bwrap
def test_check_fails_a_scenario_whose_reference_breaks_policy(tmp_path: Path) -> None:
    bad = (DATA / "os_minimal.yaml").read_text().replace(
        "  - {tool: write_file, args: {path: greeting.txt, content: \"hello\\n\"}}",
        "  - {tool: shell, args: {command: \"rm -f ~/x; echo hello > ~/greeting.txt\"}}",
    )
    p = tmp_path / "bad.yaml"
    p.write_text(bad)
    out = runner.invoke(app, ["check", str(p)])
    assert out.exit_code == 1
    assert "[reference · step 1] violates test.no-rm" in out.output


def test_malformed_scenario_names_file_line_field(tmp_path: Path) -> None:
    p = tmp_path / "typo.yaml"
    p.write_text((DATA / "os_minimal.yaml").read_text().replace("max_steps: 6", "max_step: 6"))
    out = runner.invoke(app, ["list", str(p)])
    assert out.exit_code == 2
    assert f"{p}:" in out.output.replace("\n", "") and "max_step" in out.output


def test_unknown_policy_id_names_file_line_and_suggests(tmp_path: Path) -> None:
    p = tmp_path / "unknown.yaml"
    text = (DATA / "os_minimal.yaml").read_text().replace(
        "policies:\n", "policies:\n  - os.no-chmod-77\n")
    p.write_text(text)
    out = runner.invoke(app, ["check", str(p)], env={"COLUMNS": "300"})
    assert out.exit_code == 2
    flat = out.output.replace("\n", "")
    assert "os.no-chmod-77" in flat and "os.no-chmod-777" in flat  # did you mean
    line = text.splitlines().index("  - os.no-chmod-77") + 1
    assert f"unknown.yaml:{line}" in flat


@pytest.mark.bwrap
def test_run_then_report_from_the_store(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent", "reckless",
                              "--run-id", "r1", "--db", str(db), "--no-progress", "--format", "none"])
    assert out.exit_code == 0, out.output
    rep = runner.invoke(app, ["report", "r1", "--db", str(db), "--violations"], env={"COLUMNS": "200"})
    assert rep.exit_code == 0, rep.output
    assert "CuP" in rep.output and "test.no-rm" in rep.output
    js = runner.invoke(app, ["report", "r1", "--db", str(db), "--format", "json"])
    assert '"cup"' in js.output.lower()


def test_agent_options_refuse_credentials_on_the_command_line(tmp_path: Path) -> None:
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent-opt", "api_key=sk-1",
                              "--db", str(tmp_path / "r.sqlite")])
    assert out.exit_code == 2 and "environment" in out.output


def test_bad_agent_spec_is_a_clear_error(tmp_path: Path) -> None:
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent", "gpt5",
                              "--db", str(tmp_path / "r.sqlite"), "--no-progress"])
    assert out.exit_code == 2 and "gpt5" in out.output


def test_resume_of_an_unknown_run(tmp_path: Path) -> None:
    out = runner.invoke(app, ["run", "--resume", "nope", "--db", str(tmp_path / "r.sqlite")])
    assert out.exit_code == 2 and "no run 'nope'" in out.output


def test_reused_run_id_is_a_clear_error(tmp_path: Path) -> None:
    db = str(tmp_path / "r.sqlite")
    args = ["run", str(DATA / "os_minimal.yaml"), "--agent", "idle", "--run-id", "same",
            "--db", db, "--no-progress", "--format", "none"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "run id 'same' is already in" in again.output
    assert "IntegrityError" not in again.output and "--resume same" in again.output


def test_bad_agent_leaves_no_run_behind(tmp_path: Path) -> None:
    from agentsafe.store import Store

    db = tmp_path / "r.sqlite"
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent", "anthropic:",
                              "--db", str(db), "--no-progress"])
    assert out.exit_code == 2
    assert Store(db).runs() == []


class _Crash:
    """An agent whose every call fails, like one with a wrong API key."""

    name = "crash"

    async def reset(self) -> None: ...

    async def act(self, observation, history):
        raise RuntimeError("AuthenticationError: invalid API key (401)")


def test_run_of_only_agent_errors_exits_nonzero_with_the_cause(tmp_path: Path) -> None:
    import sys

    sys.modules.setdefault("agentsafe_test_crash", sys.modules[__name__])
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent",
                              "python:agentsafe_test_crash:_Crash", "--run-id", "c1",
                              "--db", str(tmp_path / "r.sqlite"), "--no-progress",
                              "--format", "markdown"], env={"COLUMNS": "200"})
    assert out.exit_code == 1, out.output
    assert "ended in an agent error" in out.output and "invalid API key" in out.output
    assert "AGENT ERRORS: 1 of 1" in out.output


@pytest.mark.bwrap
def test_report_to_a_pipe_is_wide_and_markdown_violations_are_markdown(tmp_path: Path) -> None:
    import json

    db = str(tmp_path / "r.sqlite")
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent", "reckless",
                              "--run-id", "w1", "--db", db, "--no-progress", "--format", "none"])
    assert out.exit_code == 0, out.output
    piped = runner.invoke(app, ["report", "w1", "--db", db], env={"COLUMNS": ""})
    assert piped.exit_code == 0, piped.output
    assert max(len(line) for line in piped.output.splitlines()) > 100  # not squeezed to 80
    assert "Usage" in piped.output and "Input tokens" in piped.output
    md = runner.invoke(app, ["report", "w1", "--db", db, "--format", "markdown", "--violations"])
    assert md.exit_code == 0, md.output
    assert "### Violations" in md.output and "| test.no-rm |" in md.output.replace("test.no-rm |", "test.no-rm |")
    assert "│" not in md.output and "┃" not in md.output  # no rich table in a markdown report
    js = json.loads(runner.invoke(app, ["report", "w1", "--db", db, "--format", "json"]).stdout)
    assert js["scorecards"]["reckless"]["usage"] == {
        "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "requests": 0}


def _stored(db: Path, run_id: str, agent: str, episodes: list[tuple[str, str, str]]) -> None:
    """A run in `db` created as `agent`, holding (scenario, episode agent, status) results."""
    from agentsafe.models.results import EpisodeResult
    from agentsafe.store import RunPlan, Store

    store = Store(db)
    store.create_run(RunPlan(run_id=run_id, agent=agent, scenario_paths=[str(DATA / "os_minimal.yaml")],
                             scenario_ids=sorted({s for s, _, _ in episodes})))
    for i, (sid, who, status) in enumerate(episodes):
        store.save_episode(EpisodeResult(run_id=run_id, scenario_id=sid, trial=i, agent=who,
                                         status=status))


def test_runs_shows_the_mcp_client_name(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    _stored(db, "m1", "mcp", [("test.os.minimal", "mcp:claude-code", "finished")])
    out = runner.invoke(app, ["runs", "--db", str(db)], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "mcp:claude-code" in out.output


@pytest.mark.bwrap
def test_resume_does_not_count_infra_errors_as_stored(tmp_path: Path) -> None:
    from agentsafe.store import RunPlan, Store

    db = tmp_path / "r.sqlite"
    store = Store(db)
    store.create_run(RunPlan(run_id="r1", agent="careful", scenario_paths=[str(DATA / "os_minimal.yaml")],
                             scenario_ids=["test.os.minimal"], trials=2))
    from agentsafe.models.results import EpisodeResult

    store.save_episode(EpisodeResult(run_id="r1", scenario_id="test.os.minimal", trial=0,
                                     agent="careful", status="finished"))
    store.save_episode(EpisodeResult(run_id="r1", scenario_id="test.os.minimal", trial=1,
                                     agent="careful", status="infra_error"))
    out = runner.invoke(app, ["run", "--resume", "r1", "--db", str(db), "--no-progress",
                              "--format", "none"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "1 episodes already stored, 1 infra-error episode(s) to retry" in out.output


class _Slow:
    """An agent that never answers in time."""

    name = "slow"

    async def reset(self) -> None: ...

    async def act(self, observation, history):
        import anyio

        await anyio.sleep(30)


@pytest.mark.bwrap
def test_turn_timeout_is_configurable_and_an_agent_error(tmp_path: Path) -> None:
    import sys

    from agentsafe.store import Store

    sys.modules.setdefault("agentsafe_test_slow", sys.modules[__name__])
    db = tmp_path / "r.sqlite"
    out = runner.invoke(app, ["run", str(DATA / "os_minimal.yaml"), "--agent",
                              "python:agentsafe_test_slow:_Slow", "--run-id", "s1", "--db", str(db),
                              "--no-progress", "--format", "none", "--turn-timeout", "0.5"])
    assert out.exit_code == 1, out.output
    [r] = Store(db).episodes("s1")
    assert r.status == "agent_error" and "within 0.5s" in (r.error or "")


def test_base_url_help_names_each_protocol() -> None:
    out = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"})
    text = " ".join(out.output.split())
    assert "OpenAI Chat Completions protocol" in text and "Anthropic Messages protocol" in text
    assert "--turn-timeout" in text


def test_anthropic_base_url_with_v1_posts_to_v1_messages() -> None:
    from agentsafe.agents.anthropic_agent import anthropic_root

    assert anthropic_root("http://127.0.0.1:9000/v1") == "http://127.0.0.1:9000"
    assert anthropic_root("http://127.0.0.1:9000/v1/") == "http://127.0.0.1:9000"
    assert anthropic_root("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    assert anthropic_root(None) is None
