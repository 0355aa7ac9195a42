"""What the portal's forms mean to the APIs, shared by the pages (pure: no Flask, no I/O)."""

from __future__ import annotations


def split_ids(text: str) -> list[str]:
    """User ids typed separated by commas or lines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
