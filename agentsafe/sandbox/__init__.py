"""Sandboxes: the environments agents act in (os, web, mobile)."""
