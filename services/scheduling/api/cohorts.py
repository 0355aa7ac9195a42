"""Cohorts (one delivery of a series) and their sessions: scheduled, rescheduled, cancelled, never double-booked."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.scheduling import repository as repo
from services.scheduling.models import Cohort, TrainingSession
from services.scheduling.repository import facilitators as directory_repo
from services.scheduling.repository import lists
from services.scheduling.repository import sessions as sessions_repo
from services.scheduling.schemas.cohorts import (
    CancelSchema,
    CohortCancelSchema,
    CohortPage,
    CohortQueryArgs,
    CohortSchema,
    CohortUpdateSchema,
    JurisdictionSessionQueryArgs,
    RescheduleSchema,
    SessionPage,
    SessionQueryArgs,
    SessionSchema,
    ViewerArgs,
)
from services.scheduling.use_cases import cohorts as use_cases
from shared.auth import AGENCY_COORDINATOR, JURISDICTION_ADMIN
from shared.db import is_postgres
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import link_header, paginate
from shared.http.representations import RepresentationCache

blp = Blueprint(
    "cohorts",
    __name__,
    description="Cohorts of a series and their sessions, in UTC and in the cohort's and viewer's zones.",
)


def _cohort(cohort_id: str, *, for_update: bool = False) -> Cohort:
    return repo.get_scoped(request_uow().session, Cohort, cohort_id, principal(), what="cohort", for_update=for_update)


def _session(session_id: str, *, for_update: bool = False) -> TrainingSession:
    return repo.get_scoped(
        request_uow().session, TrainingSession, session_id, principal(), what="session", for_update=for_update
    )


@blp.route("/cohorts")
class CohortCollection(MethodView):
    @require()
    @blp.arguments(CohortQueryArgs, location="query")
    @blp.response(200, CohortPage)
    def get(self, args):
        """List your jurisdiction's cohorts (every jurisdiction's for a national admin), by last change."""
        page = paginate(
            request_uow().session,
            lists.cohorts(request_uow().session, principal(), args),
            order_by=[Cohort.updated_at, Cohort.id],
            args=args,
            config=context().config,
            updated_column=Cohort.updated_at,
            change_column=Cohort.change,
        )
        directory_repo.name_facilitators(request_uow().session, page["items"])
        return page, 200, link_header(page)

    @idempotent
    @require(JURISDICTION_ADMIN, AGENCY_COORDINATOR)
    @blp.arguments(CohortSchema)
    @blp.response(201, CohortSchema)
    def post(self, data):
        """Create a cohort of your jurisdiction (coordinators: for an agency you coordinate)."""
        cohort = use_cases.create_cohort(data, request_uow(), principal())
        return cohort, 201, {"Location": url_for(".CohortItem", cohort_id=cohort.id)}


@blp.route("/cohorts/<cohort_id>")
class CohortItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, CohortSchema)
    def get(self, cohort_id):
        """Show a cohort."""
        return _cohort(cohort_id)

    @require(*repo.MANAGERS)
    @blp.etag
    @blp.arguments(CohortUpdateSchema)
    @blp.response(200, CohortSchema)
    def patch(self, data, cohort_id):
        """Change a cohort's title, facilitators, registration window, approval or completion rule (If-Match).

        Capacity changes through PUT /cohorts/<id>/capacity, because raising it promotes the waitlist.
        """
        cohort = _cohort(cohort_id, for_update=True)
        blp.check_etag(cohort, CohortSchema)
        return use_cases.update_cohort(cohort, data, request_uow(), principal())


@blp.route("/cohorts/<cohort_id>/close")
class CohortClose(MethodView):
    @require(*repo.MANAGERS)
    @blp.response(200, CohortSchema)
    @blp.alt_response(409, description="The cohort is cancelled.")
    def post(self, cohort_id):
        """Close a cohort to new registrations; its registrations, sessions and attendance go on (idempotent)."""
        return use_cases.close_cohort(cohort_id, request_uow(), principal())


@blp.route("/cohorts/<cohort_id>/reopen")
class CohortReopen(MethodView):
    @require(*repo.MANAGERS)
    @blp.response(200, CohortSchema)
    @blp.alt_response(409, description="The cohort is cancelled; it cannot be reopened.")
    def post(self, cohort_id):
        """Reopen a closed cohort to registrations (idempotent)."""
        return use_cases.reopen_cohort(cohort_id, request_uow(), principal())


@blp.route("/cohorts/<cohort_id>/cancel")
class CohortCancel(MethodView):
    @require(*repo.MANAGERS)
    @blp.arguments(CohortCancelSchema)
    @blp.response(200, CohortSchema)
    def post(self, data, cohort_id):
        """Cancel a cohort, with a reason: its scheduled sessions and active registrations too, in one go.

        Facilitators and rooms are free again; registrants are told of each session and registration.
        A cancelled cohort stays cancelled (cancelling it again changes nothing).
        """
        return use_cases.cancel_cohort(cohort_id, data, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/cohorts/<cohort_id>/sessions")
class CohortSessions(MethodView):
    @require()
    @blp.arguments(SessionQueryArgs, location="query")
    @blp.response(200, SessionPage)
    def get(self, args, cohort_id):
        """List a cohort's sessions in time order (add viewer_time_zone to see them in your zone too)."""
        session = request_uow().session
        _cohort(cohort_id)
        page = paginate(
            session,
            lists.sessions_of_cohort(cohort_id, args.get("status")),
            order_by=[TrainingSession.starts_at, TrainingSession.id],
            args=args,
            config=context().config,
            updated_column=TrainingSession.updated_at,
            change_column=TrainingSession.change,
        )
        page["items"] = use_cases.present_sessions(session, page["items"], args.get("viewer_time_zone"))
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.MANAGERS)
    @blp.arguments(SessionSchema)
    @blp.response(201, SessionSchema)
    def post(self, data, cohort_id):
        """Schedule a session; 409 naming the other session if a facilitator, specialist or room is taken."""
        uow = request_uow()
        # No lock on the cohort row: registrations decide against it, and the bookings guard the times.
        cohort = _cohort(cohort_id)
        created = use_cases.schedule_session(cohort, data, uow, principal(), correlationid=correlation_id())
        return (
            use_cases.present_session(uow.session, created),
            201,
            {"Location": url_for(".SessionItem", session_id=created.id)},
        )


# Kept for the session list: its pages answered several times faster with it in make bench's load (see
# shared.http.representations).
SESSION_REPRESENTATIONS = RepresentationCache()


@blp.route("/sessions")
class JurisdictionSessions(MethodView):
    @require()
    @blp.arguments(JurisdictionSessionQueryArgs, location="query")
    @blp.response(200, SessionPage)
    def get(self, args):
        """List your jurisdiction's sessions in time order, across cohorts (filters: from, to, cohort, status)."""
        session = request_uow().session
        filters = tuple(name for name in sessions_repo.LIST_FILTERS if args.get(name))
        page = paginate(
            session,
            sessions_repo.list_keys_statement(principal().is_national, filters, is_postgres(session)),
            order_by=[TrainingSession.starts_at, TrainingSession.id],
            args=args,
            config=context().config,
            updated_column=TrainingSession.updated_at,
            change_column=TrainingSession.change,
            rows=True,
            params={"tenant": principal().tenant, **{name: _filter_value(name, args) for name in filters}},
        )
        viewer = args.get("viewer_time_zone")

        def load(ids):
            shown = use_cases.present_sessions(session, sessions_repo.to_present(session, ids), viewer)
            return {item["id"]: item for item in shown}

        # A session's representation also shows its module's current materials and the viewer's zone.
        variant = (viewer, page["items"][0].materials_version if page["items"] else None)
        page["items"] = SESSION_REPRESENTATIONS.items(page["items"], load, variant=variant)
        return page, 200, link_header(page)


def _filter_value(name: str, args: dict):
    """A session list filter's value; ``registered`` (a yes) stands for the caller's own subject."""
    return principal().sub if name == "registered" else args[name]


@blp.route("/sessions/<session_id>")
class SessionItem(MethodView):
    @require()
    @blp.arguments(ViewerArgs, location="query")
    @blp.response(200, SessionSchema)
    def get(self, args, session_id):
        """Show a session: UTC, local time and zone abbreviation, the viewer's time, place and materials."""
        return use_cases.show_session(request_uow().session, session_id, principal(), args.get("viewer_time_zone"))


@blp.route("/sessions/<session_id>/reschedule")
class SessionReschedule(MethodView):
    @require(*repo.MANAGERS)
    @blp.arguments(RescheduleSchema)
    @blp.response(200, SessionSchema)
    def post(self, data, session_id):
        """Move a session, with a reason; SEQUENCE goes up and registrants are told."""
        uow = request_uow()
        moved = use_cases.reschedule_session(
            _session(session_id, for_update=True), data, uow, principal(), correlationid=correlation_id()
        )
        return use_cases.present_session(uow.session, moved)


@blp.route("/sessions/<session_id>/cancel")
class SessionCancel(MethodView):
    @require(*repo.MANAGERS)
    @blp.arguments(CancelSchema)
    @blp.response(200, SessionSchema)
    def post(self, data, session_id):
        """Cancel a session, with a reason; its facilitators and room are free again and registrants are told."""
        uow = request_uow()
        cancelled = use_cases.cancel_session(
            _session(session_id, for_update=True), data, uow, principal(), correlationid=correlation_id()
        )
        return use_cases.present_session(uow.session, cancelled)
