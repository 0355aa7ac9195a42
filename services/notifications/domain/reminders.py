"""When a session's reminders fall due."""

from __future__ import annotations

from datetime import datetime, timedelta


def due_times(starts_at: datetime, minutes_before: tuple[int, ...], now: datetime) -> dict[int, datetime]:
    """{minutes before: due instant} of the reminders still ahead of ``now`` for a session starting ``starts_at``."""
    due = {m: starts_at - timedelta(minutes=m) for m in minutes_before}
    return {m: at for m, at in due.items() if at > now}
