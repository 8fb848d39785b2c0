"""The charting JavaScript (Vega, Vega-Lite, vega-embed), fetched once from the npm registry at
setup time by `npm pack` (pinned versions) and inlined into every HTML report: reports work
offline and never reach a CDN. Run `python -m agentsafe.reports.vendor` to fetch."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from agentsafe.errors import AgentsafeError

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
# package -> (pinned version, the file inside the npm tarball)
PACKAGES = {
    "vega": ("5.33.1", "package/build/vega.min.js"),
    "vega-lite": ("5.23.0", "package/build/vega-lite.min.js"),
    "vega-embed": ("6.29.0", "package/build/vega-embed.min.js"),
}


def vendor_path(name: str) -> Path:
    version = PACKAGES[name][0]
    return VENDOR_DIR / f"{name}-{version}.min.js"


def missing() -> list[str]:
    return [n for n in PACKAGES if not vendor_path(n).is_file()]


def fetch(quiet: bool = False) -> None:
    """Download the pinned tarballs with `npm pack` (integrity-checked by npm) and keep the
    minified builds beside this module."""
    todo = missing()
    if not todo:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise AgentsafeError("npm not found: install Node.js/npm to fetch the report's charting "
                             "library (once), or copy the files into " + str(VENDOR_DIR))
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        specs = [f"{n}@{PACKAGES[n][0]}" for n in todo]
        proc = subprocess.run([npm, "pack", "--silent", *specs], check=False, cwd=tmp, capture_output=True,
                              text=True, timeout=300)
        if proc.returncode != 0:
            raise AgentsafeError(f"npm pack {' '.join(specs)} failed: {proc.stderr.strip()[-500:]}")
        for n in todo:
            version, inner = PACKAGES[n]
            tgz = Path(tmp) / f"{n}-{version}.tgz"
            with tarfile.open(tgz) as tar:
                member = tar.extractfile(inner)
                if member is None:
                    raise AgentsafeError(f"{tgz.name} has no {inner}")
                vendor_path(n).write_bytes(member.read())
            if not quiet:
                print(f"vendored {n} {version} -> {vendor_path(n)}")


def scripts() -> list[str]:
    """The three scripts' text, in load order (fetching them first if needed)."""
    if missing():
        fetch(quiet=True)
    return [vendor_path(n).read_text(encoding="utf-8") for n in PACKAGES]


if __name__ == "__main__":  # pragma: no cover - setup entry
    try:
        fetch()
    except AgentsafeError as e:
        print(f"vendor: {e}", file=sys.stderr)
        sys.exit(1)
