"""Each web app's seed.sql is derived from its make_seed.py: the committed file must be exactly
what the generator produces, and the check must catch a drifted file."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parent.parent / "sandboxes" / "web" / "apps"


@pytest.mark.parametrize("app", ["shop", "crm", "mail", "forge"])
def test_committed_seed_matches_its_generator(app: str) -> None:
    out = subprocess.run([sys.executable, str(APPS / app / "make_seed.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_a_drifted_seed_is_reported(tmp_path: Path) -> None:
    app = tmp_path / "apps" / "crm"
    shutil.copytree(APPS.parent / "common", tmp_path / "common")
    app.mkdir(parents=True)
    shutil.copy(APPS / "crm" / "make_seed.py", app)
    (app / "seed.sql").write_text((APPS / "crm" / "seed.sql").read_text() + "-- hand edit\n")
    out = subprocess.run([sys.executable, str(app / "make_seed.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "out of date" in out.stderr
