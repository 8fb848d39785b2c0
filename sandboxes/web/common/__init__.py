"""Helpers shared by the web apps: templates with the base layout, per-request SQLite
connections, pagination, flash messages, and the generic page carriers (banner, popup, hidden)."""
