"""Submission bundles: export a run, verify it (hashes, manifest, re-derived verdicts and metrics), replay it."""
