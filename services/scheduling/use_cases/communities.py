"""Learning communities in scheduling: keep their members from content's events; schedule, move and cancel
their calls and meetings; agenda, minutes and attendance; the community's calendar feed; national
audio-conferences anyone may register for."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, vDuration

from services.scheduling import community_events as events
from services.scheduling.community_models import (
    AudioConferenceRegistration,
    CallAttendance,
    Community,
    CommunityCall,
    CommunityMember,
)
from services.scheduling.domain import communities as rules
from services.scheduling.domain import recurrence
from services.scheduling.domain.timezones import abbreviation, render, zone
from services.scheduling.models import CalendarFeed
from services.scheduling.repository import communities as repo
from services.scheduling.repository import recurrence as series_repo
from services.scheduling.use_cases.calendars import (
    PRODID,
    REFRESH,
    TOKEN_BYTES,
    _add_timezones,
    _event,
    _text,
    _uid,
    token_hash,
)
from shared.auth import JURISDICTION_ADMIN, NATIONAL_ADMIN, Principal
from shared.db import DbSession, IntegrityError, UnitOfWork, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.jurisdictions import NATIONAL

COMMUNITY_FEED = "community"
MAX_MOVE = timedelta(days=366)


def viewer(who: Principal) -> rules.Viewer:
    return rules.Viewer(
        sub=who.sub,
        tenant=who.tenant,
        national_admin=who.has(NATIONAL_ADMIN),
        jurisdiction_admin=who.has(JURISDICTION_ADMIN),
    )


# --- what content announces ----------------------------------------------------------------------


def record_community(db: DbSession, data: dict, at: datetime) -> None:
    """Keep a community's title, status, facilitators and zone; an older announcement arriving late changes nothing."""
    row = repo.community(db, data["community_id"], for_update=True)
    if row is not None and row.announced_at > at:
        return
    row = row or Community(id=data["community_id"])
    row.title, row.status = data["title"], data["status"]
    row.time_zone = data.get("time_zone") or "America/New_York"
    row.facilitators = sorted(set(data.get("facilitators") or []))
    row.announced_at = at
    db.add(row)


def record_membership(db: DbSession, data: dict, at: datetime, *, joined: bool) -> None:
    """Keep who is a member: the latest of the joined/left events wins, whatever order they arrive in."""
    row = repo.member(db, data["community_id"], data["member"])
    if row is not None and row.announced_at > at:
        return
    row = row or CommunityMember(community_id=data["community_id"], member=data["member"])
    row.kind, row.jurisdiction, row.active, row.announced_at = data["kind"], data.get("jurisdiction"), joined, at
    db.add(row)
    if repo.community(db, data["community_id"]) is None:
        # Members may be announced before the community reaches us: keep it with what the event says.
        db.add(
            Community(
                id=data["community_id"],
                title=data["community_title"],
                status="convening",
                time_zone="America/New_York",
                facilitators=[],
                announced_at=datetime.min.replace(tzinfo=at.tzinfo),
            )
        )


# --- seeing and running a community's calls --------------------------------------------------------


def community_for(db: DbSession, community_id: str, who: Principal) -> tuple[Community, list[rules.Membership]]:
    """The community and its memberships, if the caller may see it; a 404 otherwise, as if it did not exist."""
    community = repo.community(db, community_id)
    members = repo.memberships(db, community_id) if community is not None else []
    if community is None or not rules.sees(viewer(who), members):
        raise NotFound("No community with this id.")
    return community, members


def _check_runs(community: Community, members: list[rules.Membership], who: Principal) -> None:
    if not rules.runs_calls(viewer(who), members, community.facilitators or []):
        raise Forbidden("Only national admins, the community's facilitators and staff members run its calls.")


def get_call(db: DbSession, call_id: str, who: Principal, *, for_update: bool = False) -> CommunityCall:
    """A call the caller may see: a community's to those who see the community, an audio-conference to anyone."""
    call = repo.call(db, call_id, for_update=for_update)
    if call is None:
        raise NotFound("No call with this id.")
    if call.community_id is not None:
        try:
            community_for(db, call.community_id, who)
        except NotFound:
            raise NotFound("No call with this id.") from None
    return call


def calls_query(db: DbSession, community_id: str, who: Principal, *, status: str | None = None):
    community_for(db, community_id, who)
    return repo.calls_of_community(community_id, status=status)


def present(call: CommunityCall) -> dict:
    """A call in UTC and in its own zone."""
    return {
        **{name: getattr(call, name) for name in CALL_FIELDS},
        "local_start": render(call.starts_at, call.time_zone),
        "local_end": render(call.ends_at, call.time_zone),
        "zone_abbreviation": abbreviation(call.starts_at, call.time_zone),
        "duration_minutes": int((call.ends_at - call.starts_at).total_seconds() // 60),
    }


CALL_FIELDS = (
    "id",
    "community_id",
    "series_id",
    "rrule",
    "kind",
    "title",
    "agenda",
    "minutes",
    "starts_at",
    "ends_at",
    "time_zone",
    "place",
    "meeting_url",
    "status",
    "cancel_reason",
    "sequence",
    "created_by",
    "created_at",
    "updated_at",
)


def schedule_calls(community_id: str, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> dict:
    """Schedule one call or meeting, or one per occurrence of a recurrence rule (read in the call's zone,
    as office hours are); each is announced to the community's members."""
    db = uow.session
    community, members = community_for(db, community_id, who)
    _check_runs(community, members, who)
    if community.status == "closed":
        raise Conflict("This community is closed.", errors={"status": ["closed"]})
    time_zone = data.get("time_zone") or community.time_zone
    local_zone = zone(time_zone)
    rules.check_setting(data["kind"], place=data.get("place"), meeting_url=data.get("meeting_url"))
    local_start = data["local_start"].replace(microsecond=0)
    rule = data.get("rrule")
    if rule:
        rule = recurrence.normalize(rule, local_start, local_zone)
        starts = recurrence.original_starts(rule, local_start, local_zone)
    else:
        if not 1900 <= local_start.year <= 2999:
            raise InvalidInput(
                "Give a start between the years 1900 and 2999.", errors={"local_start": ["Out of range."]}
            )
        starts = [recurrence.localize(local_start, local_zone)]
    duration = timedelta(minutes=data.get("duration_minutes") or rules.DEFAULT_CALL_MINUTES)
    series_id = str(uuid.uuid4()) if rule else None
    invitees = rules.invitees(members)
    calls = []
    for start in starts:
        call = CommunityCall(
            tenant=NATIONAL,
            community_id=community.id,
            series_id=series_id,
            rrule=rule,
            kind=data["kind"],
            title=data["title"],
            agenda=data.get("agenda") or "",
            minutes="",
            starts_at=start,
            ends_at=start + duration,
            time_zone=time_zone,
            place=data.get("place"),
            meeting_url=data.get("meeting_url"),
            status=rules.SCHEDULED,
            sequence=0,
            created_by=who.sub,
        )
        db.add(call)
        calls.append(call)
    db.flush()
    for call in calls:
        events.call_changed(
            db, "scheduled", call, community_title=community.title, invitees=invitees, correlationid=correlationid
        )
    uow.commit()
    return {"series_id": series_id, "rrule": rule, "calls": [present(c) for c in calls]}


def _invitees(db: DbSession, call: CommunityCall) -> tuple[str | None, list[str]]:
    if call.community_id is None:
        return None, repo.registrants(db, call.id)
    community = repo.community(db, call.community_id)
    return community.title if community else None, rules.invitees(repo.memberships(db, call.community_id))


def _check_manages(db: DbSession, call: CommunityCall, who: Principal) -> None:
    if call.community_id is None:
        if not who.has(NATIONAL_ADMIN):
            raise Forbidden("Only national admins change an audio-conference.")
        return
    community, members = community_for(db, call.community_id, who)
    _check_runs(community, members, who)


def change_call(call: CommunityCall, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> dict:
    """Move, lengthen or cancel one occurrence (SEQUENCE goes up, its invitees hear of it), or set its
    agenda or minutes."""
    db = uow.session
    _check_manages(db, call, who)
    reason = data.get("reason") or None
    if data.get("cancelled"):
        rules.check_open(call.status)
        call.status, call.cancel_reason = rules.CANCELLED, reason
        call.sequence += 1
        title, invitees = _invitees(db, call)
        events.call_changed(
            db, "cancelled", call, community_title=title, invitees=invitees, correlationid=correlationid, reason=reason
        )
    elif "starts_at" in data or "duration_minutes" in data:
        rules.check_open(call.status)
        if repo.attendance(db, call.id):
            raise Conflict(
                "This call has attendance: it took place as recorded.", errors={"starts_at": ["Has attendance."]}
            )
        previous = call.starts_at
        starts_at = data.get("starts_at", call.starts_at)
        if abs(starts_at - previous) > MAX_MOVE:
            raise InvalidInput("Move a call by less than a year.", errors={"starts_at": ["Too far."]})
        duration = (
            timedelta(minutes=data["duration_minutes"]) if "duration_minutes" in data else call.ends_at - call.starts_at
        )
        if (starts_at, starts_at + duration) != (call.starts_at, call.ends_at):
            call.starts_at, call.ends_at = starts_at, starts_at + duration
            call.sequence += 1
            title, invitees = _invitees(db, call)
            events.call_changed(
                db,
                "rescheduled",
                call,
                community_title=title,
                invitees=invitees,
                correlationid=correlationid,
                reason=reason,
                previous_starts_at=previous,
            )
    if "agenda" in data:
        call.agenda = data["agenda"]
    if "minutes" in data:
        call.minutes = data["minutes"]
    uow.commit()
    return present(call)


# --- attendance ------------------------------------------------------------------------------------


def attendance_of(db: DbSession, call: CommunityCall, who: Principal) -> dict:
    return {"call_id": call.id, "marks": repo.attendance(db, call.id)}


def record_attendance(call: CommunityCall, marks: list[dict], uow: UnitOfWork, who: Principal) -> dict:
    """Mark members present or absent; marking again changes the mark in place (no second row)."""
    db = uow.session
    if call.community_id is None:
        raise InvalidInput(
            "Audio-conferences take registrations, not attendance.", errors={"marks": ["Not for audio-conferences."]}
        )
    _check_manages(db, call, who)
    rules.check_open(call.status)
    rules.check_attendance_time(call.starts_at, utcnow())
    members = {m.member for m in repo.memberships(db, call.community_id) if m.active}
    rules.check_marks(marks, members)
    existing = {row.person: row for row in repo.attendance(db, call.id)}
    for mark in marks:
        row = existing.get(mark["person"])
        if row is None:
            db.add(CallAttendance(call_id=call.id, person=mark["person"], status=mark["status"], recorded_by=who.sub))
        elif row.status != mark["status"]:
            row.status, row.recorded_by = mark["status"], who.sub
    uow.commit()
    return attendance_of(db, call, who)


# --- the community's calendar feed -------------------------------------------------------------------


def feed_url(base_url: str, community_id: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/communities/{community_id}/calendar.ics?token={token}"


def create_feed(community_id: str, uow: UnitOfWork, who: Principal, *, base_url: str) -> dict:
    """A private feed URL of the community's calls for a member (or a national admin); shown this once."""
    db = uow.session
    community, members = community_for(db, community_id, who)
    if not who.has(NATIONAL_ADMIN) and who.sub not in rules.invitees(members):
        raise Forbidden("The community's calendar feed is for its members.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        tenant=who.tenant,
        kind=COMMUNITY_FEED,
        subject=community.id,
        token_hash=token_hash(token),
        created_by=who.sub,
        revoked=False,
    )
    db.add(feed)
    uow.commit()
    return {
        "id": feed.id,
        "community_id": community.id,
        "created_by": feed.created_by,
        "created_at": feed.created_at,
        "token": token,
        "url": feed_url(base_url, community.id, token),
    }


def feed_for(db: DbSession, community_id: str, token: str | None) -> Community:
    """The community behind a live feed token whose creator still belongs to it; anything else is one 404."""
    missing = NotFound("No calendar at this address.")
    if not token or len(token) > 200:
        raise missing
    feed = series_repo.feed_by_token_hash(db, token_hash(token))
    if feed is None or feed.revoked or feed.kind != COMMUNITY_FEED or feed.subject != community_id:
        raise missing
    community = repo.community(db, community_id)
    if community is None:
        raise missing
    member = repo.member(db, community_id, feed.created_by)
    # A member who has left stops seeing the calls; a national admin's feed (the national tenant) stays.
    if feed.tenant != NATIONAL and (member is None or not member.active):
        raise missing
    return community


def render_feed(db: DbSession, community: Community) -> bytes:
    """The community's calls as an RFC 5545 calendar: one VEVENT per call, its UID and SEQUENCE the invitations'."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _text(community.title))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    moments: list[datetime] = []
    for call in repo.all_calls_of_community(db, community.id):
        location = None
        if call.place:
            location = ", ".join(
                p for p in (call.place.get("venue"), call.place.get("room"), call.place.get("address")) if p
            )
        calendar.add_component(
            _event(
                _uid(call.id),
                start=call.starts_at,
                end=call.ends_at,
                zone=ZoneInfo(call.time_zone),
                summary=call.title,
                sequence=call.sequence,
                status="CANCELLED" if call.status == rules.CANCELLED else "CONFIRMED",
                stamp=call.updated_at,
                created=call.created_at,
                location=location or call.meeting_url,
                url=call.meeting_url,
                description=call.agenda or None,
            )
        )
        moments += [call.starts_at, call.ends_at]
    _add_timezones(calendar, moments)
    return calendar.to_ical()


# --- national audio-conferences ------------------------------------------------------------------------


def create_audio_conference(data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> dict:
    """Announce a national audio-conference (national admins); people register for it one by one."""
    db = uow.session
    starts_at = data["starts_at"]
    call = CommunityCall(
        tenant=NATIONAL,
        community_id=None,
        series_id=None,
        rrule=None,
        kind=rules.AUDIO_CONFERENCE,
        title=data["title"],
        agenda=data.get("agenda") or "",
        minutes="",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=data.get("duration_minutes") or 60),
        time_zone=data.get("time_zone") or "America/New_York",
        place=None,
        meeting_url=data["meeting_url"],
        status=rules.SCHEDULED,
        sequence=0,
        created_by=who.sub,
    )
    db.add(call)
    db.flush()
    uow.commit()
    return present(call)


def get_audio_conference(db: DbSession, call_id: str, *, for_update: bool = False) -> CommunityCall:
    call = repo.call(db, call_id, for_update=for_update)
    if call is None or call.kind != rules.AUDIO_CONFERENCE:
        raise NotFound("No audio-conference with this id.")
    return call


def register(call: CommunityCall, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str):
    """Register the caller; registering again returns the same registration (and invites nobody twice).

    Returns the registration and whether it is new.
    """
    db = uow.session
    rules.check_open(call.status)
    existing = repo.registration(db, call.id, who.sub)
    if existing is not None:
        return existing, False
    row = AudioConferenceRegistration(call_id=call.id, person=who.sub, tenant=who.tenant, name=data.get("name") or "")
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        # The same person registering twice at once: the other request's registration is the one.
        return repo.registration(db, call.id, who.sub), False
    # The new registrant's own invitation: the conference as it stands, for them alone.
    registrant = {"person": who.sub, "tenant": who.tenant, "name": row.name or None, "email": data.get("email")}
    events.call_changed(
        db,
        "scheduled",
        call,
        community_title=None,
        invitees=[who.sub],
        correlationid=correlationid,
        registrant=registrant,
    )
    uow.commit()
    return row, True


def registrations_query(call: CommunityCall, who: Principal):
    """Every registration for national admins; your own for anyone else."""
    return repo.registrations(call.id, person=None if who.has(NATIONAL_ADMIN) else who.sub)
