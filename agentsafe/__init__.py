"""agentsafe: a fast, self-contained simulator for testing how safely LLM agents act."""

__version__ = "0.1.0"
