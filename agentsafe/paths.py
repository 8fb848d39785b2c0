"""Where the project's data directories are (tools/, policies/, scenarios/, sandboxes/)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("AGENTSAFE_ROOT", Path(__file__).resolve().parent.parent))
TOOLS_DIR = ROOT / "tools"
POLICIES_DIR = ROOT / "policies"
SCENARIOS_DIR = ROOT / "scenarios"
SANDBOXES_DIR = ROOT / "sandboxes"
RESULTS_DB = Path(os.environ.get("AGENTSAFE_DB", ROOT / "results" / "agentsafe.sqlite"))
