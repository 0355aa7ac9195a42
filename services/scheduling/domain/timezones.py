"""Time zones: everything is stored in UTC and rendered in the zone of what a person attends."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from shared.errors import InvalidInput


def zone(name: str, *, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone ``name``; a 422 naming ``field`` if it is not one."""
    try:
        if name not in _known():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("Not an IANA time zone.", errors={field: [f"Unknown time zone {name!r}."]}) from None


_ZONES: frozenset[str] | None = None


def _known() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def render(moment: datetime, name: str) -> str:
    """ISO 8601 local time with its offset, e.g. 2026-11-02T09:00:00-08:00 (or +10:00 in Guam)."""
    return moment.astimezone(ZoneInfo(name)).isoformat()


def abbreviation(moment: datetime, name: str) -> str:
    """The zone's abbreviation at that moment (ChST, SST, PST/PDT…)."""
    return moment.astimezone(ZoneInfo(name)).tzname() or name


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput("Times need an offset or Z.", errors={"starts_at": ["Naive datetime."]})
    return moment.astimezone(UTC)
