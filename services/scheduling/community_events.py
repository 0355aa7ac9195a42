"""The events scheduling publishes about community calls and audio-conferences, staged in the outbox."""

from __future__ import annotations

from services.scheduling.community_models import CommunityCall
from services.scheduling.domain.timezones import render
from services.scheduling.events import SOURCE
from services.scheduling.models import platform
from shared.envelope import make_event
from shared.messaging.outbox import add_event

# The envelope tenant of events about a community, which spans jurisdictions (content's too): who hears of
# one is decided by its membership, never by this attribute.
EVENT_TENANT = "national"


def call_changed(
    db_session,
    verb: str,
    call: CommunityCall,
    *,
    community_title: str | None,
    invitees: list[str],
    correlationid: str,
    reason: str | None = None,
    previous_starts_at=None,
    registrant: dict | None = None,
) -> None:
    """``scheduling.community_call.scheduled|rescheduled|cancelled``: one occurrence, with whom to invite.

    ``registrant``: an audio-conference's new registrant and the address they gave, so one the notifier has
    no contact point for still gets the invitation; only that event carries the key.
    """
    data = {
        "call_id": call.id,
        "community_id": call.community_id,
        "community_title": community_title,
        "kind": call.kind,
        "title": call.title,
        "agenda": call.agenda or "",
        "starts_at": call.starts_at.isoformat(),
        "ends_at": call.ends_at.isoformat(),
        "time_zone": call.time_zone,
        "local_start": render(call.starts_at, call.time_zone),
        "local_end": render(call.ends_at, call.time_zone),
        "place": call.place,
        "meeting_url": call.meeting_url,
        "invitees": invitees,
        "sequence": call.sequence,
        "reason": reason,
        "previous_starts_at": previous_starts_at.isoformat() if previous_starts_at is not None else None,
    }
    if registrant is not None:
        data["registrant"] = registrant
    add_event(
        db_session,
        platform,
        make_event(
            f"scheduling.community_call.{verb}",
            source=SOURCE,
            subject=call.id,
            tenant=EVENT_TENANT,
            correlationid=correlationid,
            data=data,
        ),
    )
