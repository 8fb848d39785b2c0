"""`agentsafe view`: the trajectory viewer served from a results store (for stores too big for one file)."""
