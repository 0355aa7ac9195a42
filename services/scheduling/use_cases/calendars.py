"""Private iCalendar feeds: create and revoke feed tokens, and render a feed (RFC 5545) with icalendar."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration, vRecur, vText

from services.scheduling import repository as repo
from services.scheduling.domain import recurrence as rules
from services.scheduling.models import CalendarFeed, Cohort, OfficeHourBooking, RecurringSeries, TrainingSession
from services.scheduling.repository import recurrence as series_repo
from services.scheduling.use_cases import recurrence
from shared.auth import FACILITATOR, JURISDICTION_ADMIN, NATIONAL_ADMIN, Principal
from shared.db import DbSession, UnitOfWork
from shared.errors import Forbidden, InvalidInput, NotFound

COHORT, PARTICIPANT, FACILITATOR_FEED = "cohort", "participant", "facilitator"
FEED_KINDS = (COHORT, PARTICIPANT, FACILITATOR_FEED)
UID_DOMAIN = "t4t-platform"
PRODID = "-//t4t-platform//scheduling//EN"
TOKEN_BYTES = 32
# Clients are asked to poll hourly (REFRESH-INTERVAL and its older X-PUBLISHED-TTL spelling).
REFRESH = timedelta(hours=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/calendars/{token}.ics"


# --- feeds -------------------------------------------------------------------------------------


def _cohort_for_feed(db: DbSession, cohort_id: str, who: Principal) -> Cohort:
    cohort = repo.get_scoped(db, Cohort, cohort_id, who, what="cohort")
    if repo.manages_cohort(db, cohort, who):
        return cohort
    if who.has(FACILITATOR) and who.sub in (cohort.facilitators or []):
        return cohort
    raise Forbidden("Only the cohort's managers and facilitators may create its feed.")


def create_feed(data: dict, uow: UnitOfWork, who: Principal, *, base_url: str) -> dict:
    """A new private feed URL; the token is returned this once and only its SHA-256 is kept."""
    db = uow.session
    kind = data["kind"]
    subject = data.get("subject")
    tenant = who.tenant
    if kind == COHORT:
        if not subject:
            raise InvalidInput("A cohort feed names its cohort.", errors={"subject": ["Give the cohort id."]})
        tenant = _cohort_for_feed(db, subject, who).tenant
    else:
        subject = subject or who.sub
        if subject != who.sub:
            raise Forbidden("Participant and facilitator feeds are created by that person only.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        tenant=tenant, kind=kind, subject=subject, token_hash=token_hash(token), created_by=who.sub, revoked=False
    )
    db.add(feed)
    uow.commit()
    return {**_present(feed), "token": token, "url": feed_url(base_url, token)}


def _present(feed: CalendarFeed) -> dict:
    return {
        name: getattr(feed, name) for name in ("id", "tenant", "kind", "subject", "created_by", "created_at", "revoked")
    }


def feeds_query(who: Principal):
    """The caller's own feeds (never their tokens)."""
    return series_repo.feeds_list(who)


def revoke_feed(feed_id: str, uow: UnitOfWork, who: Principal) -> CalendarFeed:
    """Revoke a feed: its URL answers 404 from now on. By its creator or a jurisdiction admin."""
    feed = repo.get_scoped(uow.session, CalendarFeed, feed_id, who, what="calendar feed")
    if feed.created_by != who.sub and not who.has(JURISDICTION_ADMIN, NATIONAL_ADMIN):
        raise Forbidden("Only the feed's creator or a jurisdiction admin may revoke it.")
    if not feed.revoked:
        feed.revoked = True
        uow.commit()
    return feed


def feed_for_token(db: DbSession, token: str) -> CalendarFeed:
    """The live feed behind a token; unknown and revoked tokens are the same 404.

    The lookup is by the token's hash on a unique index, so no stored secret is compared byte by byte.
    """
    if not token or len(token) > 200:
        raise NotFound("No calendar at this address.")
    feed = series_repo.feed_by_token_hash(db, token_hash(token))
    # A community's feed is served at the community's own address (use_cases.communities), never here.
    if feed is None or feed.revoked or feed.kind not in FEED_KINDS:
        raise NotFound("No calendar at this address.")
    return feed


# --- what a feed holds -------------------------------------------------------------------------


def _sessions(db: DbSession, feed: CalendarFeed) -> list[TrainingSession]:
    if feed.kind == COHORT:
        return series_repo.cohort_sessions(db, feed.tenant, feed.subject)
    if feed.kind == PARTICIPANT:
        return series_repo.participant_sessions(db, feed.tenant, feed.subject)
    return series_repo.staffed_sessions(db, feed.tenant, feed.subject)


def _series(db: DbSession, feed: CalendarFeed) -> list[RecurringSeries]:
    return [] if feed.kind == COHORT else series_repo.owned_series(db, feed.tenant, feed.subject)


def _bookings(db: DbSession, feed: CalendarFeed) -> list[tuple[OfficeHourBooking, RecurringSeries]]:
    return [] if feed.kind == COHORT else series_repo.office_hours_booked_by(db, feed.tenant, feed.subject)


def _title(db: DbSession, feed: CalendarFeed) -> str:
    if feed.kind == COHORT:
        cohort = db.get(Cohort, feed.subject)
        return cohort.title if cohort is not None else "Cohort sessions"
    return "My training sessions" if feed.kind == PARTICIPANT else "My facilitation schedule"


# --- rendering ---------------------------------------------------------------------------------

# RFC 5545 TEXT holds no control character but HTAB (3.3.11); bidi controls and lone surrogates are
# dropped too, so that text stored before today's input rules, or by another path, cannot break a feed.
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029]")


def _text(value: str, *, multiline: bool = False) -> vText:
    """``value`` as iCalendar TEXT: line breaks kept as LF in a description (icalendar writes them as
    ``\\n``), joined with a space in one-line properties (a summary, a location, the calendar's name)."""
    value = _LINE_BREAKS.sub("\n" if multiline else " ", value)
    return vText(_UNWRITABLE.sub("", value).strip())


def _uid(row_id: str) -> str:
    return f"{row_id}@{UID_DOMAIN}"


def _event(
    uid: str,
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    summary: str,
    sequence: int,
    status: str,
    stamp: datetime,
    created: datetime | None = None,
    location: str | None = None,
    url: str | None = None,
    description: str | None = None,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start.astimezone(zone))
    event.add("dtend", end.astimezone(zone))
    event.add("summary", _text(summary))
    event.add("sequence", sequence)
    event.add("status", status)
    if created is not None:
        event.add("created", created.astimezone(UTC))
        event.add("last-modified", stamp.astimezone(UTC))
    if location:
        event.add("location", _text(location))
    if url:
        event.add("url", url)
    if description:
        event.add("description", _text(description, multiline=True))
    return event


def _session_event(session: TrainingSession) -> Event:
    zone = ZoneInfo(session.cohort.time_zone)
    place = None
    if session.room is not None:
        venue = session.room.venue
        place = ", ".join(part for part in (session.room.name, venue.name, venue.address) if part)
    cancelled = session.status == "cancelled"
    notes = [
        f"Cancelled: {session.cancel_reason}" if cancelled and session.cancel_reason else "",
        f"Join: {session.meeting_url}" if session.meeting_url else "",
    ]
    # The stored updated_at is the last revision, which is what DTSTAMP means in a feed without METHOD.
    return _event(
        _uid(session.id),
        start=session.starts_at,
        end=session.ends_at,
        zone=zone,
        summary=f"{session.cohort.title}: {session.title}",
        sequence=session.sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        stamp=session.updated_at,
        created=session.created_at,
        location=place,
        url=session.meeting_url,
        description="\n".join(note for note in notes if note) or None,
    )


def _series_events(db: DbSession, series: RecurringSeries) -> tuple[list[Event], list[datetime]]:
    """The series as one RRULE event, EXDATEs for cancelled occurrences and RECURRENCE-ID overrides for
    moved ones; with the first and last instants it covers."""
    zone = ZoneInfo(series.time_zone)
    local_start = rules.parse_local(series.local_start)
    first = rules.localize(local_start, zone)
    cancelled = series.status != recurrence.ACTIVE
    status = "CANCELLED" if cancelled else "CONFIRMED"
    summary = series.title
    master = _event(
        _uid(series.id),
        start=first,
        end=first + timedelta(minutes=series.duration_minutes),
        zone=zone,
        summary=summary,
        sequence=series.sequence,
        status=status,
        stamp=series.updated_at,
        created=series.created_at,
        url=series.meeting_url,
    )
    master.add("rrule", vRecur.from_ical(series.rrule))
    changes = series_repo.occurrence_changes(db, series.id)
    occurrences = recurrence.expand(db, series)
    valid = {o.original_start for o in occurrences}
    exdates = [c.original_start.astimezone(zone) for c in changes if c.cancelled and c.original_start in valid]
    if exdates:
        master.add("exdate", exdates)
    events = [master]
    for change in changes:
        if change.cancelled or change.original_start not in valid:
            continue
        override = _event(
            _uid(series.id),
            start=change.starts_at,
            end=change.ends_at,
            zone=zone,
            summary=summary,
            sequence=change.sequence,
            status=status,
            stamp=max(change.updated_at, series.updated_at),
            url=series.meeting_url,
        )
        override.add("recurrence-id", change.original_start.astimezone(zone))
        events.append(override)
    return events, [first, *(o.ends_at for o in occurrences)]


def _booking_event(booking: OfficeHourBooking, series: RecurringSeries) -> Event:
    booked = booking.status == recurrence.BOOKED
    return _event(
        _uid(booking.id),
        start=booking.slot_start,
        end=booking.slot_end,
        zone=ZoneInfo(series.time_zone),
        summary=f"Office hours: {series.title}",
        sequence=0 if booked else 1,
        status="CONFIRMED" if booked else "CANCELLED",
        stamp=booking.updated_at,
        created=booking.created_at,
        url=series.meeting_url,
        description=booking.topic or None,
    )


def render(db: DbSession, feed: CalendarFeed) -> bytes:
    """The feed as an RFC 5545 calendar, with a VTIMEZONE for every zone its events use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _text(_title(db, feed)))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    moments: list[datetime] = []
    for session in _sessions(db, feed):
        calendar.add_component(_session_event(session))
        moments += [session.starts_at, session.ends_at]
    for series in _series(db, feed):
        events, span = _series_events(db, series)
        for event in events:
            calendar.add_component(event)
        moments += span
    for booking, series in _bookings(db, feed):
        calendar.add_component(_booking_event(booking, series))
        moments += [booking.slot_start, booking.slot_end]
    _add_timezones(calendar, moments)
    return calendar.to_ical()


def _add_timezones(calendar: Calendar, moments: Iterable[datetime]) -> None:
    """VTIMEZONEs covering the feed's own dates (a year either side).

    icalendar's default range (1970-2038) lists every transition as RDATEs, which some readers get
    wrong (python-dateutil's tzical, under vobject, puts a 2026 October date in standard time); a
    range fitted to the events keeps the components short and read alike everywhere.
    """
    moments = list(moments)
    if not moments:
        return
    first: date = min(moments).date() - timedelta(days=366)
    last: date = max(moments).date() + timedelta(days=366)
    calendar.add_missing_timezones(first_date=first, last_date=last)
