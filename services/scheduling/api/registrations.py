"""Registrations and waitlists of a cohort: register, cancel, approve or decline, capacity, roster import."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask.views import MethodView

from services.scheduling.domain.registrations import WAITLISTED, seats_free
from services.scheduling.models import Registration, RegistrationAudit
from services.scheduling.repository import MANAGERS
from services.scheduling.repository import registrations as registrations_repo
from services.scheduling.schemas.registrations import (
    AuditPage,
    CapacitySchema,
    ReasonSchema,
    RegistrationPage,
    RegistrationQueryArgs,
    RegistrationSchema,
    RosterFileSchema,
    RosterFormSchema,
    RosterReportSchema,
    RosterUploadSchema,
)
from services.scheduling.use_cases import registrations as use_cases
from services.scheduling.use_cases import roster
from shared.auth import INTEGRATION
from shared.http.api import JSON_MIMETYPES, Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import batch_key, idempotent
from shared.http.pagination import PageArgs, link_header, paginate
from shared.http.problems import Problem

# Routes live under /cohorts/<id>/… and /registrations/…, so the blueprint has no prefix of its own.
blp = Blueprint(
    "registrations",
    __name__,
    url_prefix=None,
    description="Registrations and waitlists: seats while they last, then the waitlist in order; "
    "cancellations and added capacity promote from it; optional approval; CSV rosters.",
)

MULTIPART = "multipart/form-data"


def _is_json() -> bool:
    return request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json")


def _parse(schema, location: str) -> dict:
    """Load part of the request with a declared schema; webargs' errors become the usual 422 problem."""
    return blp.ARGUMENTS_PARSER.parse(schema(), request, location=location)


def _optional_json(schema) -> dict:
    """An optional JSON body: none at all is an empty one; anything else must be JSON."""
    if request.content_length or request.mimetype or request.headers.get("Transfer-Encoding"):
        if not _is_json():
            raise Problem(415, "Send the body as application/json.", title="Unsupported Media Type")
        return _parse(schema, "json")
    return {}


def _capacity(session, cohort, promoted=()) -> dict:
    counts = use_cases.seat_counts(session, cohort)
    return {
        "cohort_id": cohort.id,
        "capacity": cohort.capacity,
        "confirmed": cohort.confirmed_count,
        "waitlisted": counts[WAITLISTED],
        "pending_approval": counts["pending_approval"],
        "seats_free": seats_free(cohort.capacity, cohort.confirmed_count),
        "promoted": [registration.id for registration in promoted],
    }


@blp.route("/cohorts/<cohort_id>/registrations")
class CohortRegistrations(MethodView):
    @require()
    @blp.arguments(RegistrationQueryArgs, location="query")
    @blp.response(200, RegistrationPage)
    def get(self, args, cohort_id):
        """List a cohort's registrations (its managers and facilitators); `status=waitlisted` in waitlist order."""
        session = request_uow().session
        cohort = use_cases.cohort_for_registration_list(session, cohort_id, principal())
        order_by = [Registration.updated_at, Registration.id]
        if args.get("status") == WAITLISTED:
            order_by = [Registration.waitlist_position, Registration.id]
        page = paginate(
            session,
            registrations_repo.cohort_registrations(cohort.id, args.get("status")),
            order_by=order_by,
            args=args,
            config=context().config,
            updated_column=Registration.updated_at,
            change_column=Registration.change,
        )
        return page, 200, link_header(page)

    @idempotent(batched=True)
    @require()
    @blp.arguments(RegistrationSchema)
    @blp.response(201, RegistrationSchema)
    @blp.alt_response(409, description="Already registered, outside the registration window, or the cohort is closed.")
    def post(self, data, cohort_id):
        """Register for a cohort: yourself, or (coordinators, jurisdiction admins) the participant named."""
        registration = use_cases.register(
            cohort_id,
            data,
            request_uow(),
            principal(),
            correlationid=correlation_id(),
            key=batch_key(_registered_answer),
        )
        return registration, 201, _location(registration)


def _location(registration) -> dict:
    return {"Location": url_for("registrations.RegistrationItem", registration_id=registration.id)}


def _registered_answer(registration):
    """The 201 the view's declared schema makes, for a registration written in a batch (any request's thread)."""
    return jsonify(RegistrationSchema().dump(registration)), 201, _location(registration)


@blp.route("/cohorts/<cohort_id>/capacity")
class CohortCapacity(MethodView):
    @require()
    @blp.response(200, CapacitySchema)
    def get(self, cohort_id):
        """Show a cohort's seats: capacity, confirmed, waitlisted, pending approval, free."""
        session = request_uow().session
        return _capacity(session, use_cases.cohort_for_registration_list(session, cohort_id, principal()))

    @require(*MANAGERS)
    @blp.arguments(CapacitySchema)
    @blp.response(200, CapacitySchema)
    @blp.alt_response(409, description="The new capacity is below the confirmed registrations.")
    def put(self, data, cohort_id):
        """Set a cohort's capacity; new seats go to the waitlist in order (never below the confirmed count)."""
        uow = request_uow()
        change = use_cases.change_capacity(
            cohort_id, data["capacity"], uow, principal(), correlationid=correlation_id()
        )
        return _capacity(uow.session, change.cohort, change.promoted)


@blp.route("/cohorts/<cohort_id>/roster")
class CohortRoster(MethodView):
    @idempotent
    @require(*MANAGERS, INTEGRATION)
    @blp.doc(requestBody={"required": True, "content": {MULTIPART: {"schema": RosterUploadSchema}}})
    @blp.response(200, RosterReportSchema)
    @blp.alt_response(413, description="The file is larger than the roster limit.")
    @blp.alt_response(415, description="The body is not multipart, or the file is not CSV text.")
    def post(self, cohort_id):
        """Import a roster CSV: valid rows are registered, the report lists every rejected row and why.

        The same file again returns its first report and changes nothing (`Idempotent-Replayed: true`);
        a changed file registers only the people not registered yet.
        """
        if request.mimetype != MULTIPART:
            raise Problem(
                415,
                "Send the roster as multipart/form-data with a `file` part (text/csv).",
                title="Unsupported Media Type",
            )
        upload = _parse(RosterFileSchema, "files")["file"]
        _parse(RosterFormSchema, "form")
        result = roster.import_roster(
            cohort_id,
            roster.RosterFile(filename=upload.filename, media_type=upload.content_type, stream=upload.stream),
            request_uow(),
            principal(),
            max_bytes=context().config.max_roster_bytes,
            correlationid=correlation_id(),
        )
        body = {**result.report, "import_id": result.import_id, "sha256": result.sha256}
        return body, 200, {"Idempotent-Replayed": "true"} if result.replayed else {}


@blp.route("/registrations/<registration_id>")
class RegistrationItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, RegistrationSchema)
    def get(self, registration_id):
        """Show a registration: your own, or any of your jurisdiction's if you are staff."""
        return use_cases.get_registration(request_uow().session, registration_id, principal())


@blp.route("/registrations/<registration_id>/cancel")
class RegistrationCancel(MethodView):
    @require()
    @blp.doc(requestBody={"required": False, "content": {"application/json": {"schema": ReasonSchema}}})
    @blp.response(200, RegistrationSchema)
    @blp.alt_response(409, description="Already cancelled.")
    def post(self, registration_id):
        """Cancel a registration (your own, or as the cohort's manager); the first on the waitlist takes the seat."""
        data = _optional_json(ReasonSchema)
        return use_cases.cancel(registration_id, data, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/registrations/<registration_id>/approve")
class RegistrationApprove(MethodView):
    @require(*MANAGERS)
    @blp.response(200, RegistrationSchema)
    @blp.alt_response(409, description="Not pending approval.")
    def post(self, registration_id):
        """Approve a pending registration: a seat if one remains, else the waitlist."""
        return use_cases.approve(registration_id, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/registrations/<registration_id>/decline")
class RegistrationDecline(MethodView):
    @require(*MANAGERS)
    @blp.doc(requestBody={"required": False, "content": {"application/json": {"schema": ReasonSchema}}})
    @blp.response(200, RegistrationSchema)
    @blp.alt_response(409, description="Not pending approval.")
    def post(self, registration_id):
        """Decline a pending registration, with an optional reason."""
        data = _optional_json(ReasonSchema)
        return use_cases.decline(registration_id, data, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/registrations/<registration_id>/audit")
class RegistrationAuditTrail(MethodView):
    @require(*MANAGERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args, registration_id):
        """List who changed a registration, when and how, oldest first (the cohort's managers)."""
        session = request_uow().session
        registration = use_cases.registration_for_audit(session, registration_id, principal())
        page = paginate(
            session,
            registrations_repo.audit_trail(registration.id),
            order_by=[RegistrationAudit.at, RegistrationAudit.id],
            args=args,
            config=context().config,
            updated_column=RegistrationAudit.at,
            change_column=RegistrationAudit.change,
        )
        return page, 200, link_header(page)


@blp.route("/me/registrations")
class MyRegistrations(MethodView):
    @require()
    @blp.arguments(RegistrationQueryArgs, location="query")
    @blp.response(200, RegistrationPage)
    def get(self, args):
        """List your own registrations across your jurisdiction's cohorts."""
        who = principal()
        page = paginate(
            request_uow().session,
            registrations_repo.registrations_of(who.sub, who.tenant, args.get("status")),
            order_by=[Registration.updated_at, Registration.id],
            args=args,
            config=context().config,
            updated_column=Registration.updated_at,
            change_column=Registration.change,
        )
        return page, 200, link_header(page)
