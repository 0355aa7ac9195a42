"""Double-booking: a person or a room cannot be in two places at once."""

from __future__ import annotations

from shared.errors import Conflict


def refuse_double_booking(found: list, describe) -> None:
    """Raise 409 naming each conflicting booking (``describe(booking) -> dict``)."""
    if found:
        details = [describe(b) for b in found]
        raise Conflict(
            "A facilitator, specialist or room is already booked at that time.",
            errors={
                "conflicts": [
                    f"{d['resource']} is booked by {d['owner_kind']} {d['owner_id']} "
                    f"from {d['starts_at']} to {d['ends_at']}"
                    for d in details
                ]
            },
            conflicts=details,
        )
