"""Recurring series and office hours: create, change one occurrence or this-and-following, book slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.scheduling import events
from services.scheduling import repository as repo
from services.scheduling.domain import recurrence as rules
from services.scheduling.domain.conflicts import refuse_double_booking
from services.scheduling.domain.timezones import abbreviation, zone
from services.scheduling.models import Booking, OccurrenceChange, OfficeHourBooking, RecurringSeries, TrainingSession
from services.scheduling.repository import facilitators as directory_repo
from services.scheduling.repository import recurrence as series_repo
from shared.auth import (
    AGENCY_COORDINATOR,
    FACILITATOR,
    JURISDICTION_ADMIN,
    NATIONAL_ADMIN,
    SPECIALIST,
    Principal,
)
from shared.db import DbSession, IntegrityError, UnitOfWork, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

OFFICE_HOURS = rules.OFFICE_HOURS
ACTIVE = "active"
CANCELLED = "cancelled"
BOOKED = series_repo.BOOKED

# Office-hour slots are listed a window at a time: a daily series of 5-minute slots has thousands.
MAX_SLOT_WINDOW = timedelta(days=92)
DEFAULT_SLOT_WINDOW = timedelta(days=31)
MAX_MOVE = timedelta(days=366)


def owner_resource(series: RecurringSeries) -> str:
    """The bookings-index resource of the person holding the series."""
    return repo.person(series.owner)


def facilitator_resource(sub: str) -> str:
    return repo.person(sub)


def _zone(series: RecurringSeries) -> ZoneInfo:
    return ZoneInfo(series.time_zone)


def expand(db: DbSession, series: RecurringSeries) -> list[rules.Occurrence]:
    """Every occurrence of the series with its stored changes applied."""
    return rules.occurrences(
        series.rrule,
        rules.parse_local(series.local_start),
        _zone(series),
        series.duration_minutes,
        changes=series_repo.occurrence_changes(db, series.id),
        sequence=series.sequence,
    )


def present_occurrence(series: RecurringSeries, occurrence: rules.Occurrence) -> dict:
    """An occurrence in UTC and in the series' zone."""
    local_zone = _zone(series)
    return {
        "series_id": series.id,
        "original_start": occurrence.original_start,
        "starts_at": occurrence.starts_at,
        "ends_at": occurrence.ends_at,
        "local_start": occurrence.starts_at.astimezone(local_zone).isoformat(),
        "local_end": occurrence.ends_at.astimezone(local_zone).isoformat(),
        "time_zone": series.time_zone,
        "zone_abbreviation": abbreviation(occurrence.starts_at, series.time_zone),
        "status": occurrence.status,
        "sequence": occurrence.sequence,
    }


# --- the bookings index ------------------------------------------------------------------------


def _describe(db: DbSession, tenant: str):
    """How a conflicting booking is named; titled only when it belongs to the caller's jurisdiction."""

    def describe(booking: Booking) -> dict:
        described = {
            "resource": booking.resource,
            "owner_kind": booking.owner_kind,
            "owner_id": booking.owner_id,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
        }
        if booking.tenant == tenant:
            if booking.owner_kind == "session":
                other = db.get(TrainingSession, booking.owner_id)
                if other is not None:
                    described.update(session_id=other.id, title=other.title, cohort_id=other.cohort_id)
            elif booking.owner_kind == "occurrence":
                other = db.get(RecurringSeries, booking.owner_id)
                if other is not None:
                    described.update(series_id=other.id, title=other.title)
        return described

    return describe


def _refuse_busy(db: DbSession, series: RecurringSeries, intervals: Sequence[tuple[datetime, datetime]]) -> None:
    """409 if the owner is booked elsewhere (sessions, other series) during any of ``intervals``.

    One range query over the whole span on the (resource, starts_at, ends_at) index, then a
    bisection against the occurrences, instead of one query per occurrence.
    """
    if not intervals:
        return
    intervals = sorted(intervals)
    resource = owner_resource(series)
    repo.lock_resources(db, [resource])
    busy = repo.conflicts(db, [resource], intervals[0][0], max(end for _, end in intervals), exclude_owner=series.id)
    found = rules.clashing(busy, intervals, lambda b: (b.starts_at, b.ends_at))
    refuse_double_booking(found, _describe(db, series.tenant))


def _index(db: DbSession, series: RecurringSeries, occurrences: Sequence[rules.Occurrence]) -> None:
    """Replace the series' rows in the bookings index with its active occurrences."""
    repo.release(db, series.id)
    if series.status != ACTIVE:
        return
    for occurrence in occurrences:
        if occurrence.active:
            db.add(
                Booking(
                    tenant=series.tenant,
                    resource=owner_resource(series),
                    starts_at=occurrence.starts_at,
                    ends_at=occurrence.ends_at,
                    owner_kind="occurrence",
                    owner_id=series.id,
                )
            )


# --- series ------------------------------------------------------------------------------------


def _check_kind(kind: str, who: Principal) -> None:
    if kind == OFFICE_HOURS and not who.has(SPECIALIST):
        raise Forbidden("Only specialists hold office hours.")
    if not who.has(SPECIALIST, JURISDICTION_ADMIN):
        raise Forbidden("Only specialists and jurisdiction admins convene recurring meetings.")


def _check_office_hours(kind: str, duration_minutes: int, slot_minutes: int | None, facilitators: list) -> None:
    if kind == OFFICE_HOURS:
        rules.check_slot_size(slot_minutes, duration_minutes)
        return
    if slot_minutes is not None:
        raise InvalidInput("Only office hours have slots.", errors={"slot_minutes": ["Only for office_hours."]})
    if facilitators:
        raise InvalidInput(
            "Only office hours have supported facilitators.",
            errors={"supported_facilitators": ["Only for office_hours."]},
        )


def create_series(data: dict, uow: UnitOfWork, who: Principal) -> RecurringSeries:
    """Start a recurring series held by the caller, booking the caller for each occurrence."""
    db = uow.session
    _check_kind(data["kind"], who)
    local_zone = zone(data["time_zone"])
    local_start = data["local_start"].replace(microsecond=0)
    _check_office_hours(
        data["kind"], data["duration_minutes"], data.get("slot_minutes"), data.get("supported_facilitators") or []
    )
    rule = rules.normalize(data["rrule"], local_start, local_zone)
    series = RecurringSeries(
        tenant=who.tenant,
        kind=data["kind"],
        owner=who.sub,
        title=data["title"],
        time_zone=data["time_zone"],
        local_start=rules.format_local(local_start),
        duration_minutes=data["duration_minutes"],
        rrule=rule,
        meeting_url=data.get("meeting_url"),
        supported_facilitators=_unique(data.get("supported_facilitators")),
        slot_minutes=data.get("slot_minutes") if data["kind"] == OFFICE_HOURS else None,
        status=ACTIVE,
        sequence=0,
        split_from=None,
    )
    db.add(series)
    db.flush()
    occurrences = expand(db, series)
    _refuse_busy(db, series, [(o.starts_at, o.ends_at) for o in occurrences])
    _index(db, series, occurrences)
    uow.commit()
    return series


def _unique(subs) -> list[str]:
    return list(dict.fromkeys(subs or []))


def get_series(db: DbSession, series_id: str, who: Principal, *, for_update: bool = False) -> RecurringSeries:
    return repo.get_scoped(db, RecurringSeries, series_id, who, what="recurring series", for_update=for_update)


def may_change(series: RecurringSeries, who: Principal) -> bool:
    return who.sub == series.owner or who.has(JURISDICTION_ADMIN, NATIONAL_ADMIN)


def _ensure_changeable(series: RecurringSeries, who: Principal) -> None:
    if not may_change(series, who):
        raise Forbidden("Only the series' owner or a jurisdiction admin may change it.")
    if series.status != ACTIVE:
        raise Conflict("The series is cancelled.", errors={"status": [f"Is {series.status}."]})


def update_series(series: RecurringSeries, data: dict, uow: UnitOfWork, who: Principal) -> RecurringSeries:
    """Change what does not move occurrences: title, meeting link, supported facilitators."""
    _ensure_changeable(series, who)
    if "supported_facilitators" in data:
        _check_office_hours(series.kind, series.duration_minutes, series.slot_minutes, data["supported_facilitators"])
        series.supported_facilitators = _unique(data["supported_facilitators"])
    for name in ("title", "meeting_url"):
        if name in data:
            setattr(series, name, data[name])
    series.sequence += 1
    uow.commit()
    return series


def cancel_series(series: RecurringSeries, uow: UnitOfWork, who: Principal, *, correlationid: str) -> RecurringSeries:
    """Cancel every occurrence: the owner is freed and the booked office-hour slots are cancelled."""
    _ensure_changeable(series, who)
    db = uow.session
    series.status = CANCELLED
    series.sequence += 1
    repo.release(db, series.id)
    _cancel_bookings(
        db,
        series,
        _active_bookings(db, series.id, since=utcnow()),
        reason="office_hours_cancelled",
        by=who.sub,
        correlationid=correlationid,
    )
    uow.commit()
    return series


def occurrences_between(
    db: DbSession, series: RecurringSeries, start: datetime | None, end: datetime | None
) -> list[dict]:
    rules.check_window(start, end)
    return [present_occurrence(series, o) for o in rules.within(expand(db, series), start, end)]


def change_occurrence(
    series: RecurringSeries,
    original_start: datetime,
    data: dict,
    uow: UnitOfWork,
    who: Principal,
    *,
    correlationid: str,
) -> dict:
    """Move or cancel one occurrence (an iCalendar RECURRENCE-ID override), or put it back."""
    _ensure_changeable(series, who)
    db = uow.session
    occurrences = expand(db, series)
    target = rules.find(occurrences, original_start)
    if target is None:
        raise NotFound("No occurrence of this series originally starts then.")
    change = series_repo.occurrence_change(db, series.id, original_start)
    cancel = bool(data.get("cancelled"))
    if cancel:
        starts_at = ends_at = None
    else:
        # Reinstating a cancelled occurrence starts from the rule's own time.
        base_start = target.starts_at if target.active else target.original_start
        base_minutes = (
            (target.ends_at - target.starts_at) // timedelta(minutes=1) if target.active else series.duration_minutes
        )
        starts_at = data.get("starts_at") or base_start
        if abs(starts_at - original_start) > MAX_MOVE:
            raise InvalidInput(
                "An occurrence moves by less than a year; change the series instead.",
                errors={"starts_at": ["More than a year from the occurrence's original start."]},
            )
        ends_at = starts_at + timedelta(minutes=data.get("duration_minutes") or base_minutes)
        rules.refuse_overlap(occurrences, original_start, starts_at, ends_at)
        _refuse_busy(db, series, [(starts_at, ends_at)])
    unchanged = (
        (not target.active)
        if cancel
        else (target.active and (starts_at, ends_at) == (target.starts_at, target.ends_at))
    )
    if unchanged:
        return present_occurrence(series, target)
    if target.active:
        # The slots booked in the old time no longer exist; their facilitators see them cancelled.
        _cancel_bookings(
            db,
            series,
            _bookings_between(db, series.id, target.starts_at, target.ends_at),
            reason="occurrence_cancelled" if cancel else "office_hours_changed",
            by=who.sub,
            correlationid=correlationid,
        )
    series.sequence += 1
    restored = not cancel and (starts_at, ends_at) == (
        original_start,
        original_start + timedelta(minutes=series.duration_minutes),
    )
    if restored:
        if change is not None:
            db.delete(change)
    else:
        if change is None:
            change = OccurrenceChange(tenant=series.tenant, series_id=series.id, original_start=original_start)
            db.add(change)
        change.cancelled, change.starts_at, change.ends_at = cancel, starts_at, ends_at
        change.sequence = series.sequence
    db.flush()
    occurrences = expand(db, series)
    _index(db, series, occurrences)
    uow.commit()
    return present_occurrence(series, rules.find(occurrences, original_start))


def split_series(series: RecurringSeries, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> dict:
    """This and following: end the series just before an occurrence and continue with new settings."""
    _ensure_changeable(series, who)
    db = uow.session
    old_zone = _zone(series)
    at = data["at"]
    cut = rules.split(series.rrule, rules.parse_local(series.local_start), old_zone, at)
    new_zone_name = data.get("time_zone") or series.time_zone
    new_zone = zone(new_zone_name)
    if data.get("local_start") is not None:
        new_local = data["local_start"].replace(microsecond=0)
    elif new_zone_name == series.time_zone:
        new_local = cut.following_local_start
    else:
        new_local = rules.wall_time(at, new_zone)  # the same moment, read in the new zone
    duration = data.get("duration_minutes") or series.duration_minutes
    slot_minutes = data.get("slot_minutes", series.slot_minutes)
    facilitators = data.get("supported_facilitators", series.supported_facilitators)
    _check_office_hours(series.kind, duration, slot_minutes, facilitators or [])
    rule = rules.normalize(data.get("rrule") or cut.following_rule, new_local, new_zone)

    series.rrule = cut.ended_rule
    series.sequence += 1
    # The following occurrences are replaced, their individual changes with them.
    series_repo.drop_changes_from(db, series.id, at)
    db.flush()
    kept = expand(db, series)
    _index(db, series, kept)
    following = RecurringSeries(
        tenant=series.tenant,
        kind=series.kind,
        owner=series.owner,
        title=data.get("title") or series.title,
        time_zone=new_zone_name,
        local_start=rules.format_local(new_local),
        duration_minutes=duration,
        rrule=rule,
        meeting_url=data.get("meeting_url", series.meeting_url),
        supported_facilitators=_unique(facilitators),
        slot_minutes=slot_minutes if series.kind == OFFICE_HOURS else None,
        status=ACTIVE,
        sequence=0,
        split_from=series.id,
    )
    db.add(following)
    db.flush()
    new_occurrences = expand(db, following)
    _refuse_busy(db, following, [(o.starts_at, o.ends_at) for o in new_occurrences])
    _index(db, following, new_occurrences)
    _carry_bookings(db, series, kept, following, new_occurrences, by=who.sub, correlationid=correlationid)
    uow.commit()
    return {"ended": series, "series": following}


def _carry_bookings(
    db: DbSession,
    ended: RecurringSeries,
    kept: Sequence[rules.Occurrence],
    following: RecurringSeries,
    new_occurrences: Sequence[rules.Occurrence],
    *,
    by: str,
    correlationid: str,
) -> None:
    """Slots booked after the cut move to the new series when it still offers them to that facilitator."""
    kept_spans = [(o.starts_at, o.ends_at) for o in kept if o.active]
    offered = set()
    if following.kind == OFFICE_HOURS:
        offered = {slot for o in new_occurrences if o.active for slot in rules.slots(o, following.slot_minutes)}
    for booking in _active_bookings(db, ended.id):
        if any(start <= booking.slot_start < end for start, end in kept_spans):
            continue
        if (booking.slot_start, booking.slot_end) in offered and booking.facilitator in (
            following.supported_facilitators or []
        ):
            booking.series_id = following.id
        else:
            _cancel_bookings(db, ended, [booking], reason="office_hours_changed", by=by, correlationid=correlationid)


# --- office hours ------------------------------------------------------------------------------


def get_office_hours(db: DbSession, series_id: str, who: Principal) -> RecurringSeries:
    series = get_series(db, series_id, who)
    if series.kind != OFFICE_HOURS:
        raise NotFound("No office hours with this id.")
    return series


def _sees_bookings(series: RecurringSeries, who: Principal) -> bool:
    """The owner and the jurisdiction's managers see who booked what; facilitators see their own."""
    return who.sub == series.owner or who.has(NATIONAL_ADMIN, JURISDICTION_ADMIN)


def _ensure_may_view_slots(series: RecurringSeries, who: Principal) -> None:
    if _sees_bookings(series, who) or who.has(AGENCY_COORDINATOR):
        return
    if not (who.has(FACILITATOR) and who.sub in (series.supported_facilitators or [])):
        raise Forbidden("These office hours are for the facilitators the specialist supports.")


def _active_bookings(db: DbSession, series_id: str, *, since: datetime | None = None) -> list[OfficeHourBooking]:
    return series_repo.booked_slots(db, series_id, since=since)


def _bookings_between(db: DbSession, series_id: str, start: datetime, end: datetime) -> list[OfficeHourBooking]:
    return series_repo.booked_slots(db, series_id, since=start, before=end)


def _cancel_bookings(
    db: DbSession,
    series: RecurringSeries,
    bookings: Sequence[OfficeHourBooking],
    *,
    reason: str,
    by: str,
    correlationid: str,
) -> None:
    """Cancel booked slots and say so, so that the specialist's draft support activity is dropped."""
    for booking in bookings:
        booking.status = CANCELLED
        repo.release(db, booking.id)
        events.office_hour_cancelled(db, booking, series, reason=reason, by=by, correlationid=correlationid)


def list_slots(
    db: DbSession, series: RecurringSeries, start: datetime | None, end: datetime | None, who: Principal
) -> list[dict]:
    """The slots of the occurrences in [start, end) (default: the next 31 days), with availability."""
    _ensure_may_view_slots(series, who)
    now = utcnow()
    start = start or now
    end = end or start + DEFAULT_SLOT_WINDOW
    rules.check_window(start, end)
    if end - start > MAX_SLOT_WINDOW:
        raise InvalidInput(
            "Ask for at most 92 days of slots at a time.", errors={"to": ["At most 92 days after from."]}
        )
    taken = {
        b.slot_start: b for b in series_repo.booked_slots(db, series.id, since=start - timedelta(days=1), before=end)
    }
    local_zone = _zone(series)
    result = []
    if series.status != ACTIVE:
        return result
    for occurrence in rules.within(expand(db, series), start, end):
        if not occurrence.active:
            continue
        for slot_start, slot_end in rules.slots(occurrence, series.slot_minutes):
            if slot_end <= start or slot_start >= end:
                continue
            booking = taken.get(slot_start)
            shown = (
                booking
                if booking is not None and (_sees_bookings(series, who) or booking.facilitator == who.sub)
                else None
            )
            result.append(
                {
                    "starts_at": slot_start,
                    "ends_at": slot_end,
                    "local_start": slot_start.astimezone(local_zone).isoformat(),
                    "local_end": slot_end.astimezone(local_zone).isoformat(),
                    "occurrence_start": occurrence.original_start,
                    "available": booking is None and slot_start > now,
                    "booking": shown,
                }
            )
    return result


def book_slot(
    series: RecurringSeries, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str
) -> OfficeHourBooking:
    """Book one slot for the calling facilitator: one facilitator per slot, and never two places at once."""
    db = uow.session
    if not (who.has(FACILITATOR) and who.sub in (series.supported_facilitators or [])):
        raise Forbidden("Only the facilitators this specialist supports may book these office hours.")
    if series.status != ACTIVE:
        raise Conflict("These office hours are cancelled.", errors={"status": [f"Is {series.status}."]})
    slot_start = data["slot_start"]
    slot = next(
        (
            (start, end)
            for o in expand(db, series)
            if o.active
            for start, end in rules.slots(o, series.slot_minutes)
            if start == slot_start
        ),
        None,
    )
    if slot is None:
        raise InvalidInput(
            "No slot of these office hours starts then.",
            errors={"slot_start": ["Not the start of a slot; list them with GET .../slots."]},
        )
    if slot_start <= utcnow():
        raise InvalidInput("The slot has already started.", errors={"slot_start": ["In the past."]})
    resource = facilitator_resource(who.sub)
    repo.lock_resources(db, [resource])
    existing = series_repo.booking_of_slot(db, series.id, slot_start)
    if existing is not None and existing.status == BOOKED:
        raise Conflict("The slot is already booked.", errors={"slot_start": ["Already booked."]})
    refuse_double_booking(repo.conflicts(db, [resource], slot[0], slot[1]), _describe(db, series.tenant))
    if existing is not None:
        # A cancelled booking keeps the slot's unique key; the new booking gets a fresh id (and UID).
        # A Core delete, so a concurrent re-booking of the same slot ends in the unique key's 409 below.
        series_repo.delete_booking(db, existing)
    booking = OfficeHourBooking(
        tenant=series.tenant,
        series_id=series.id,
        slot_start=slot[0],
        slot_end=slot[1],
        facilitator=who.sub,
        facilitator_name=who.display_name or None,
        topic=data.get("topic", ""),
        status=BOOKED,
    )
    db.add(booking)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("The slot is already booked.", errors={"slot_start": ["Already booked."]}) from None
    repo.book(
        db,
        tenant=series.tenant,
        resources=[resource],
        starts_at=slot[0],
        ends_at=slot[1],
        owner_kind="office_hour",
        owner_id=booking.id,
    )
    if who.display_name:  # certificates name facilitators as they sign in (see remember_facilitator_name)
        directory_repo.remember_facilitator_name(db, series.tenant, who.sub, who.display_name)
    events.office_hour_booked(db, booking, series, correlationid=correlationid)
    uow.commit()
    return booking


def get_booking(db: DbSession, series: RecurringSeries, booking_id: str) -> OfficeHourBooking:
    booking = db.get(OfficeHourBooking, booking_id)
    if booking is None or booking.series_id != series.id:
        raise NotFound("No booking with this id.")
    return booking


def cancel_booking(
    series: RecurringSeries, booking: OfficeHourBooking, uow: UnitOfWork, who: Principal, *, correlationid: str
) -> OfficeHourBooking:
    """Cancel a booked slot: by the facilitator who booked it, the specialist or a jurisdiction admin."""
    if who.sub != booking.facilitator and not _sees_bookings(series, who):
        raise Forbidden("Only the facilitator who booked, the specialist or an admin may cancel.")
    if booking.status == BOOKED:
        _cancel_bookings(
            uow.session, series, [booking], reason="booking_cancelled", by=who.sub, correlationid=correlationid
        )
        uow.commit()
    return booking


def bookings_query(series: RecurringSeries, who: Principal):
    """The bookings of the series the caller may see."""
    if _sees_bookings(series, who):
        return series_repo.bookings_list(series.id)
    if who.has(FACILITATOR):
        return series_repo.bookings_list(series.id, facilitator=who.sub)
    raise Forbidden("Only the specialist, an admin or the booking facilitators see these bookings.")
