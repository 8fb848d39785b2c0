"""The leaderboard: a static site built from verified submission bundles only."""
