#!/usr/bin/env bash
# Docker for CI (and for a developer's first `make images`): installs docker.io and mmdebstrap
# when missing, starts dockerd in the background when no daemon answers (no bridge, no
# iptables: sandboxes use network "none" or the host's 127.0.0.1), waits for the socket, then
# builds the images offline (idempotent: cached base tar, input-hashed images).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"
LOG="${DOCKERD_LOG:-/tmp/agentsafe-dockerd.log}"

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "docker.sh: missing ${need[*]}; install them as root (apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "docker.sh: installing ${need[*]}"
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

daemon_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! daemon_up; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    echo "docker.sh: DOCKER_HOST=$DOCKER_HOST does not answer; start that daemon" >&2
    exit 1
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "docker.sh: no Docker daemon and not root: start dockerd (sudo dockerd &)" >&2
    exit 1
  fi
  echo "docker.sh: starting dockerd (log: $LOG)"
  # setsid + nohup: the daemon outlives this script and ignores the caller's hangup.
  setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    [ -S "$SOCK" ] && daemon_up && break
    sleep 0.5
  done
  if ! daemon_up; then
    echo "docker.sh: dockerd did not come up; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
fi
echo "docker.sh: daemon $(docker version --format '{{.Server.Version}}') ready"

# The image builder uses the docker SDK from the project's venv.
if [ ! -x .venv/bin/python ]; then
  bash scripts/setup.sh
fi
.venv/bin/python sandboxes/build_images.py
