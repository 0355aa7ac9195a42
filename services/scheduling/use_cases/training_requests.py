"""Use cases for training requests: submit, approve into a cohort, decline; each commits once with its event."""

from __future__ import annotations

from services.scheduling import events
from services.scheduling.domain import training_requests as rules
from services.scheduling.models import Jurisdiction, RequestStatusChange, TrainingRequest
from services.scheduling.use_cases.agencies import acting_agency, default_time_zone
from services.scheduling.use_cases.cohorts import new_cohort
from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import InvalidInput


def _record(request: TrainingRequest, status: str, by: str, reason: str | None = None) -> None:
    request.status = status
    request.history.append(RequestStatusChange(tenant=request.tenant, status=status, reason=reason, by=by))


def submit_request(data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = "") -> TrainingRequest:
    """A jurisdiction asks for the series; an agency coordinator asks for an agency they coordinate."""
    db = uow.session
    if db.get(Jurisdiction, who.tenant) is None:
        raise InvalidInput(
            "Your jurisdiction is not registered; ask a national admin to add it.",
            errors={"tenant": [f"Unknown jurisdiction {who.tenant!r}."]},
        )
    agency_id = data.get("host_agency_id")
    acting_agency(db, agency_id, who, doing="requesting training")
    request = TrainingRequest(
        tenant=who.tenant,
        series_id=data["series_id"],
        format=data["format"],
        preferred_windows=rules.check_windows(data.get("preferred_windows", [])),
        expected_participants=data["expected_participants"],
        host_agency_id=agency_id,
        notes=data.get("notes", ""),
        requested_by=who.sub,
        history=[],
    )
    _record(request, rules.SUBMITTED, who.sub)
    db.add(request)
    db.flush()
    events.request_submitted(db, request, correlationid=correlationid)
    uow.commit()
    return request


def approve_request(
    request: TrainingRequest, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> TrainingRequest:
    """Approve a submitted request: its cohort is created with the admin's settings and the request's defaults."""
    db = uow.session
    status = rules.decide(request.status, rules.APPROVED)
    settings = rules.cohort_settings(
        data,
        expected_participants=request.expected_participants,
        default_time_zone=default_time_zone(db, request.tenant),
    )
    cohort = new_cohort(
        db,
        tenant=request.tenant,
        series_id=request.series_id,
        format_=request.format,
        host_agency_id=request.host_agency_id,
        request_id=request.id,
        settings=settings,
    )
    request.cohort_id = cohort.id
    request.decided_by = who.sub
    _record(request, status, who.sub)
    events.request_decided(db, request, correlationid=correlationid)
    uow.commit()
    return request


def decline_request(
    request: TrainingRequest, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> TrainingRequest:
    """Decline a submitted request, saying why."""
    reason = (data.get("reason") or "").strip()
    status = rules.decide(request.status, rules.DECLINED, reason)
    request.decision_reason = reason
    request.decided_by = who.sub
    _record(request, status, who.sub, reason)
    events.request_decided(uow.session, request, correlationid=correlationid)
    uow.commit()
    return request
