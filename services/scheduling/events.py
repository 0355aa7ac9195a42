"""The events scheduling publishes, staged in the outbox with the change they describe."""

from __future__ import annotations

from services.scheduling import SERVICE
from services.scheduling.domain.timezones import render
from services.scheduling.models import (
    Attendance,
    Cohort,
    Completion,
    Jurisdiction,
    OfficeHourBooking,
    RecurringSeries,
    Registration,
    TrainingRequest,
    TrainingSession,
    platform,
)
from shared.envelope import Envelope, make_event
from shared.messaging.outbox import add_event

SOURCE = f"/services/{SERVICE}"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _emit(db_session, type_: str, *, subject: str, tenant: str, data: dict, correlationid: str) -> None:
    add_event(
        db_session,
        platform,
        make_event(type_, source=SOURCE, subject=subject, tenant=tenant, data=data, correlationid=correlationid),
    )


def jurisdiction_added(db_session, jurisdiction: Jurisdiction, *, correlationid: str) -> None:
    """``scheduling.jurisdiction.added``: the other services learn of a Tribe (their tenant) from it."""
    _emit(
        db_session,
        "scheduling.jurisdiction.added",
        subject=jurisdiction.code,
        tenant=jurisdiction.code,
        correlationid=correlationid,
        data={
            "code": jurisdiction.code,
            "name": jurisdiction.name,
            "kind": jurisdiction.kind,
            "default_time_zone": jurisdiction.default_time_zone,
        },
    )


def request_submitted(db_session, request: TrainingRequest, *, correlationid: str) -> None:
    _emit(
        db_session,
        "scheduling.request.submitted",
        subject=request.id,
        tenant=request.tenant,
        correlationid=correlationid,
        data={
            "request_id": request.id,
            "series_id": request.series_id,
            "format": request.format,
            "expected_participants": request.expected_participants,
            "host_agency_id": request.host_agency_id,
            "preferred_windows": request.preferred_windows,
            "requested_by": request.requested_by,
        },
    )


def request_decided(db_session, request: TrainingRequest, *, correlationid: str) -> None:
    """``scheduling.request.approved`` or ``.declined``, from the request's status."""
    if request.status == "approved":
        data = {"request_id": request.id, "cohort_id": request.cohort_id, "decided_by": request.decided_by}
    else:
        data = {"request_id": request.id, "reason": request.decision_reason or "", "decided_by": request.decided_by}
    data["requested_by"] = request.requested_by  # whom a notifier tells of the decision
    _emit(
        db_session,
        f"scheduling.request.{request.status}",
        subject=request.id,
        tenant=request.tenant,
        correlationid=correlationid,
        data=data,
    )


def session_changed(
    db_session,
    verb: str,
    session: TrainingSession,
    *,
    registrant_ids: list[str],
    correlationid: str,
    reason: str | None = None,
    previous_starts_at=None,
) -> None:
    """``scheduling.session.scheduled|rescheduled|cancelled`` with what a notifier needs."""
    cohort: Cohort = session.cohort
    place = None
    if session.room is not None:
        venue = session.room.venue
        place = {
            "venue": venue.name,
            "address": venue.address,
            "room": session.room.name,
            "accessibility": session.room.accessibility_notes,
        }
    _emit(
        db_session,
        f"scheduling.session.{verb}",
        subject=session.id,
        tenant=session.tenant,
        correlationid=correlationid,
        data={
            "session_id": session.id,
            "cohort_id": cohort.id,
            "series_id": cohort.series_id,
            "module_id": session.module_id,
            "module_position": session.module_position,
            "title": session.title,
            "format": cohort.format,
            "starts_at": _iso(session.starts_at),
            "ends_at": _iso(session.ends_at),
            "time_zone": cohort.time_zone,
            "local_start": render(session.starts_at, cohort.time_zone),
            "local_end": render(session.ends_at, cohort.time_zone),
            "place": place,
            "meeting_url": session.meeting_url,
            "facilitators": list(session.facilitators),
            "registrant_ids": registrant_ids,
            "sequence": session.sequence,
            "reason": reason,
            "previous_starts_at": _iso(previous_starts_at),
        },
    )


def registration_changed(db_session, verb: str, registration: Registration, *, by: str, correlationid: str) -> None:
    """``scheduling.registration.confirmed|waitlisted|promoted|cancelled``."""
    # The cohort is in the session already wherever a registration changes (it was locked first).
    cohort = db_session.get(Cohort, registration.cohort_id)
    add_event(
        db_session, platform, registration_event(verb, registration, by=by, correlationid=correlationid, cohort=cohort)
    )


def registration_event(verb: str, registration: Registration, *, by: str, correlationid: str, cohort) -> Envelope:
    """The event of ``registration_changed``, for a writer that inserts its outbox row itself.

    ``cohort`` (an entity or a row with its ``title`` and ``time_zone``) names the cohort, so that a
    notifier tells the participant what they registered for without calling scheduling back.
    """
    return make_event(
        f"scheduling.registration.{verb}",
        source=SOURCE,
        subject=registration.id,
        tenant=registration.tenant,
        correlationid=correlationid,
        data={
            "registration_id": registration.id,
            "cohort_id": registration.cohort_id,
            "participant": registration.participant,
            "participant_name": registration.name or None,
            "email": registration.email,
            "contact_given_at": _iso(registration.contact_given_at),
            "participant_language": registration.language,
            "status": registration.status,
            "waitlist_position": registration.waitlist_position,
            "by": by,
            "cohort_title": cohort.title,
            "cohort_time_zone": cohort.time_zone,
        },
    )


def attendance_recorded(
    db_session, attendance: Attendance, session: TrainingSession, registration: Registration, *, correlationid: str
) -> None:
    _emit(
        db_session,
        "scheduling.attendance.recorded",
        subject=attendance.id,
        tenant=attendance.tenant,
        correlationid=correlationid,
        data={
            "session_id": session.id,
            "cohort_id": session.cohort_id,
            "registration_id": registration.id,
            "participant": registration.participant,
            "status": attendance.status,
            "minutes": attendance.minutes,
            "recorded_by": attendance.recorded_by,
        },
    )


def participant_completed(
    db_session, completion: Completion, cohort: Cohort, registration: Registration, *, correlationid: str
) -> None:
    _emit(
        db_session,
        "scheduling.participant.completed",
        subject=registration.id,
        tenant=completion.tenant,
        correlationid=correlationid,
        data={
            "cohort_id": cohort.id,
            # So that the participant's e-mail names what they completed without calling back.
            "cohort_title": cohort.title,
            "series_id": cohort.series_id,
            "registration_id": registration.id,
            "participant": registration.participant,
            # The name as registered, so that a coach's caseload names the trainer (null when unknown).
            "participant_name": registration.name or None,
            "registry_id": registration.registry_id,
            "sessions_attended": completion.sessions_attended,
            "hours": round(completion.minutes / 60, 2),
            "completed_at": _iso(completion.completed_at),
            "certificate_code": completion.certificate_code,
        },
    )


def _booking_data(booking: OfficeHourBooking, series: RecurringSeries) -> dict:
    return {
        "booking_id": booking.id,
        "series_id": series.id,
        "specialist": series.owner,
        "facilitator": booking.facilitator,
        "slot_start": _iso(booking.slot_start),
        "slot_end": _iso(booking.slot_end),
        "time_zone": series.time_zone,
        "topic": booking.topic,
    }


def office_hour_booked(db_session, booking: OfficeHourBooking, series: RecurringSeries, *, correlationid: str) -> None:
    """``scheduling.office_hour.booked``: coaching opens a draft support activity for the specialist."""
    _emit(
        db_session,
        "scheduling.office_hour.booked",
        subject=booking.id,
        tenant=booking.tenant,
        correlationid=correlationid,
        data=_booking_data(booking, series),
    )


def office_hour_cancelled(
    db_session, booking: OfficeHourBooking, series: RecurringSeries, *, reason: str, by: str, correlationid: str
) -> None:
    """``scheduling.office_hour.cancelled``: the booked slot will not take place."""
    _emit(
        db_session,
        "scheduling.office_hour.cancelled",
        subject=booking.id,
        tenant=booking.tenant,
        correlationid=correlationid,
        data={**_booking_data(booking, series), "reason": reason, "cancelled_by": by},
    )
