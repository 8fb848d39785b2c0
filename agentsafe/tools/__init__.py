"""The tool API: specs loaded from tools/*.yaml, argument validation, provider schemas."""

from agentsafe.tools.registry import ToolRegistry, load_tools

__all__ = ["ToolRegistry", "load_tools"]
