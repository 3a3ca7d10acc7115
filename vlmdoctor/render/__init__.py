"""render: format a Report (or a Snapshot) as text, JSON or Markdown. Never changes data."""

from __future__ import annotations

FORMATS = ("text", "json", "markdown")
