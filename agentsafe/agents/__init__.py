"""Agents: the protocol and the built-in implementations."""

from agentsafe.agents.base import Agent

__all__ = ["Agent"]
