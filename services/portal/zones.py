"""The time zones of the states, territories and Tribes the platform serves, as people name them (pure)."""

from __future__ import annotations

# The "show times in" choices, east to west, then the Caribbean and Pacific territories.
ZONE_CHOICES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Adak",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "America/St_Thomas",
    "Pacific/Guam",
    "Pacific/Saipan",
    "Pacific/Pago_Pago",
    "UTC",
)

_TIME_NAMES = {
    "America/New_York": "Eastern time",
    "America/Detroit": "Eastern time",
    "America/Chicago": "Central time",
    "America/Denver": "Mountain time",
    "America/Boise": "Mountain time",
    "America/Phoenix": "Mountain time, no daylight saving",
    "America/Los_Angeles": "Pacific time",
    "America/Anchorage": "Alaska time",
    "America/Adak": "Hawaii-Aleutian time",
    "Pacific/Honolulu": "Hawaii time",
    "America/Puerto_Rico": "Atlantic time",
    "America/St_Thomas": "Atlantic time",
    "Pacific/Guam": "Chamorro time",
    "Pacific/Saipan": "Chamorro time",
    "Pacific/Pago_Pago": "Samoa time",
}


def zone_name(zone: str | None) -> str:
    """A zone as people name it, with its place: "Pacific time (Los Angeles)"; an unlisted one by its place."""
    if not zone:
        return ""
    place = zone.rsplit("/", 1)[-1].replace("_", " ")
    name = _TIME_NAMES.get(zone)
    return f"{name} ({place})" if name else place


# The choices as a form's select shows them: (zone, its name).
ZONE_OPTIONS = tuple((zone, zone_name(zone)) for zone in ZONE_CHOICES)
