"""Shared browser layer: one Chromium per worker, a fresh context per episode, accessibility
snapshots with short refs, acting by ref or by a stable text/role/selector target.
Used by the web and the mobile sandboxes."""

from agentsafe.browser.capture import screenshot_b64
from agentsafe.browser.launch import CHROMIUM_ARGS, BrowserHost, launch_options, shared_browser
from agentsafe.browser.snapshot import Snapshot, SnapshotElement, take_snapshot
from agentsafe.browser.targets import TargetError, TargetSpec, describe, locate

__all__ = [
    "CHROMIUM_ARGS", "BrowserHost", "Snapshot", "SnapshotElement", "TargetError", "TargetSpec",
    "describe", "launch_options", "locate", "screenshot_b64", "shared_browser", "take_snapshot",
]
