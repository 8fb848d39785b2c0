"""Running episodes and runs: the episode session, the agent loop, concurrency and resume."""
