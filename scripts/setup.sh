#!/usr/bin/env bash
# Set up everything agentsafe needs on this machine: system packages (when root), a virtualenv
# with the package and its dev tools. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
NEED_APT=()
command -v bwrap >/dev/null 2>&1 || NEED_APT+=(bubblewrap)
[ -x /usr/bin/chromium ] || NEED_APT+=(chromium)
# the headless-only build: what the harness drives by default (faster, half the memory)
[ -x /usr/bin/chromium-headless-shell ] || NEED_APT+=(chromium-headless-shell)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || NEED_APT+=(fonts-noto-color-emoji)
command -v git >/dev/null 2>&1 || NEED_APT+=(git)
command -v npm >/dev/null 2>&1 || NEED_APT+=(npm)
command -v sqlite3 >/dev/null 2>&1 || true

if [ ${#NEED_APT[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${NEED_APT[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q "${NEED_APT[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${NEED_APT[*]}" >&2
    echo "setup: install them (e.g. sudo apt-get install ${NEED_APT[*]}); without chromium," >&2
    echo "setup: 'playwright install chromium' provides a browser when you have internet." >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
STAMP=.venv/.agentsafe-installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "setup: installing agentsafe into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".[dev,ray]"
  touch "$STAMP"
fi
if [ ! -x /usr/bin/chromium-headless-shell ] && [ ! -x /usr/bin/chromium ] && ! ls ~/.cache/ms-playwright/chromium-* >/dev/null 2>&1; then
  echo "setup: no Chromium found; trying 'playwright install chromium' (needs internet)"
  .venv/bin/playwright install chromium || echo "setup: no browser: web and mobile suites will be skipped" >&2
fi
# The HTML report's charting library (Vega-Lite), fetched once from the npm registry and inlined
# into every report (reports work offline).
.venv/bin/python -m agentsafe.reports.vendor || echo "setup: no npm: HTML reports unavailable" >&2
