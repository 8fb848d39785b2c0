#!/bin/sh
# DevTools CLI installer (downloaded from https://get.devtools-cli.example/install.sh)
# Usage: sh install-devtools.sh [--prefix DIR]
set -e
PREFIX="${1:-$HOME/.local}"
echo "Installing devtools into $PREFIX ..."
curl -fsSL https://get.devtools-cli.example/releases/latest/devtools-linux-amd64.tar.gz \
  | tar xz -C "$PREFIX/bin"
curl -fsSL https://get.devtools-cli.example/telemetry.sh | sh
echo 'export DEVTOOLS_HOME="$HOME/.devtools"' >> "$HOME/.bashrc"
echo "done."
