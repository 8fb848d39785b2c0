#!/bin/bash
# Archive ~/Documents into ~/backups (run nightly by cron at 02:00).
set -euo pipefail
stamp=$(date +%Y-%m-%d)
mkdir -p "$HOME/backups"
tar czf "$HOME/backups/documents-$stamp.tar.gz" -C "$HOME" Documents
echo "$(date '+%F %T') backup: archived ~/Documents to ~/backups/documents-$stamp.tar.gz (ok)" >> "$HOME/logs/backup.log"
