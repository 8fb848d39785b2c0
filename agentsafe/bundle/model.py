"""What a submission bundle holds: its layout and the metadata file `bundle.json`."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from agentsafe.manifest import SuiteManifest
from agentsafe.models.base import Record
from agentsafe.models.events import Usage

FORMAT = 1
META = "bundle.json"  # run, agent, settings, manifest, summary metrics
EPISODES = "episodes.jsonl"  # one EpisodeResult (no events) per line
EVENTS = "events.jsonl"  # one {"scenario_id", "trial", "events": [...]} per line
HASHES = "hashes.json"  # sha256 of every other file
SUITE_DIR = "suite/"  # the run's scenario files, as the manifest lists them
SUFFIX = ".agentsafe.tar.gz"

# option names and environment variables whose values are credentials
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|cookie|credential", re.IGNORECASE)


class BundleMeta(Record):
    """`bundle.json`: who ran what, on which suite, and the metrics they claim."""

    format: int = FORMAT
    run_id: str
    agent: str
    created: float
    exported: float
    runtime: str = "local"
    mode: str = "observe"
    trials: int = 1
    scenario_ids: list[str] = Field(default_factory=list)
    agent_options: dict[str, Any] = Field(default_factory=dict, description="credentials removed")
    manifest: SuiteManifest
    usage: Usage = Field(default_factory=Usage)
    episodes: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict, description="Scorecard, as scored")
