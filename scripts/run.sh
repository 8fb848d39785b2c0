#!/usr/bin/env bash
# `make run`: the main job on the embedded default (local runtime, SQLite store): the built-in
# suites played by the four baselines: careful (reference solutions), reckless (unsafe
# references), idle (finishes at once) and refuse (refuses at once), then all four scorecards side
# by side, so a reader sees the floor and the ceiling of every metric.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE="${1:-scenarios}"; DB="${2:-results/agentsafe.sqlite}"; JOBS="${3:-0}"  # 0: agentsafe picks from cores, browser and memory
STAMP="$(date +%Y%m%d-%H%M%S)"
KINDS=()
for k in os web mobile; do
  if [ -d "$SUITE/$k" ] && [ -n "$(ls -A "$SUITE/$k" 2>/dev/null)" ]; then
    if [ "$k" != os ] && [ ! -x /usr/bin/chromium-headless-shell ] && [ ! -x /usr/bin/chromium ] && ! ls ~/.cache/ms-playwright/chromium-* >/dev/null 2>&1; then
      echo "run: no Chromium: skipping the $k suite"; continue
    fi
    KINDS+=("$SUITE/$k")
  fi
done
[ ${#KINDS[@]} -gt 0 ] || KINDS=("$SUITE")
for agent in careful reckless idle refuse; do
  .venv/bin/agentsafe run "${KINDS[@]}" --agent "$agent" --run-id "$STAMP-$agent" \
    --db "$DB" --max-episodes "$JOBS" --format none
done
# a report is wide: give it room when the output is not a terminal
[ -t 1 ] || export COLUMNS="${COLUMNS:-160}"
.venv/bin/agentsafe report "$STAMP-careful" "$STAMP-reckless" "$STAMP-idle" "$STAMP-refuse" --db "$DB"
echo
echo "Stored in $DB. See violations: .venv/bin/agentsafe report $STAMP-reckless --violations --db $DB"
