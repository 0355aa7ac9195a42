"""Attendance sheets of sessions, the cohort's completions, certificates of attendance and their public verification."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from services.scheduling import repository as repo
from services.scheduling.models import Cohort, Completion
from services.scheduling.repository import lists
from services.scheduling.schemas.attendance import (
    AttendanceSheetInSchema,
    AttendanceSheetSchema,
    AttendanceSummaryArgs,
    AttendanceSummaryListSchema,
    CertificateVerificationSchema,
    CompletionPage,
    MyAttendanceArgs,
    MyAttendancePage,
)
from services.scheduling.use_cases import attendance, certificates
from shared.auth import FACILITATOR
from shared.errors import NotFound
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

# Routes live under /sessions, /cohorts, /registrations and /certificates, so no common prefix.
blp = Blueprint(
    "attendance",
    __name__,
    description="Attendance per session, completions, certificates of attendance and their verification.",
)

HTML = "text/html"
_PDF = {"type": "string", "format": "binary"}


@blp.route("/sessions/<session_id>/attendance")
class SessionAttendance(MethodView):
    @require()
    @blp.response(200, AttendanceSheetSchema)
    def get(self, session_id):
        """Show a session's attendance sheet: every confirmed registration and its mark."""
        return attendance.read_sheet(
            session_id, request_uow().session, principal(), opens_minutes=context().config.attendance_opens_minutes
        )

    @idempotent
    @require(FACILITATOR, *repo.MANAGERS)
    @blp.arguments(AttendanceSheetInSchema)
    @blp.response(200, AttendanceSheetSchema)
    @blp.alt_response(409, description="The session is cancelled, or marking has not opened yet.")
    @blp.alt_response(422, description="A record is invalid (by index under `errors.records`); nothing was written.")
    def put(self, data, session_id):
        """Mark attendance for many registrations at once (present, absent or partial minutes).

        All records are written or none. Re-marking replaces the previous mark; each change emits
        `scheduling.attendance.recorded`, and a participant who meets the cohort's completion rule
        completes (once).

        With an `Idempotency-Key` (a device's queue of offline marks sends one per batch), a retry gets
        the first answer back and writes nothing again, so a mark that was corrected since is not
        overwritten by the retry of an older one.
        """
        return attendance.record_attendance(
            session_id,
            data["records"],
            request_uow(),
            principal(),
            opens_minutes=context().config.attendance_opens_minutes,
            correlationid=correlation_id(),
        )


@blp.route("/attendance-summaries")
class AttendanceSummaries(MethodView):
    @require()
    @blp.arguments(AttendanceSummaryArgs, location="query")
    @blp.response(200, AttendanceSummaryListSchema)
    @blp.alt_response(403, description="A session's attendance is not yours to read; nothing is returned.")
    @blp.alt_response(404, description="A session is not one of your jurisdiction's; nothing is returned.")
    def get(self, args):
        """Show how far attendance is taken in several sessions: marked and still unmarked registrations.

        For a facilitator's list of sessions (taken, partly taken, not yet), in one call. Readable by
        those who read each session's sheet.
        """
        items = attendance.summarize_attendance(
            args["session_id"],
            request_uow().session,
            principal(),
            opens_minutes=context().config.attendance_opens_minutes,
        )
        return {"items": items}


@blp.route("/me/attendance")
class MyAttendance(MethodView):
    @require()
    @blp.arguments(MyAttendanceArgs, location="query")
    @blp.response(200, MyAttendancePage)
    def get(self, args):
        """List your own attendance marks, session by session (oldest first).

        What your facilitator recorded for each session of your cohorts: present, partial (with the minutes
        credited) or absent. A session not marked yet is not listed. Ask your facilitator to correct a mark.
        """
        page = attendance.my_attendance_page(request_uow().session, principal(), args, context().config)
        return page, 200, link_header(page)


@blp.route("/cohorts/<cohort_id>/completions")
class CohortCompletions(MethodView):
    @require(*repo.STAFF)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CompletionPage)
    def get(self, args, cohort_id):
        """List the cohort's participants who completed, with hours and certificate codes (oldest first)."""
        who, session, config = principal(), request_uow().session, context().config
        cohort = repo.get_scoped(session, Cohort, cohort_id, who, what="cohort")
        certificates.check_may_list(session, cohort, who)
        page = paginate(
            session,
            lists.completions_of(cohort.id),
            order_by=[Completion.completed_at, Completion.id],
            args=args,
            config=config,
            updated_column=Completion.completed_at,
            change_column=Completion.change,
        )
        page["items"] = certificates.describe_completions(
            session, page["items"], public_base_url=config.public_base_url
        )
        return page, 200, link_header(page)


@blp.route("/registrations/<registration_id>/certificate.pdf")
class RegistrationCertificate(MethodView):
    @require()
    @blp.response(
        200,
        _PDF,
        content_type="application/pdf",
        description="The certificate of attendance (404 until the participant completes).",
    )
    def get(self, registration_id):
        """Download a participant's certificate of attendance (the participant, or the jurisdiction's staff)."""
        certificate = certificates.certificate_for(
            request_uow().session, registration_id, principal(), public_base_url=context().config.public_base_url
        )
        response = Response(certificates.render_pdf(certificate), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{certificates.download_name(certificate)}"'
        response.cache_control.private = True  # personal: no shared cache may keep it
        response.cache_control.no_store = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/certificates/<code>")
class CertificateVerification(MethodView):
    @blp.doc(security=[])
    @blp.response(
        200,
        CertificateVerificationSchema,
        description=("The certificate's facts as JSON; a browser (`Accept: text/html` preferred) gets them as a page."),
    )
    @blp.doc(
        responses={
            200: {"content": {HTML: {"schema": {"type": "string"}}}},
            404: {"content": {HTML: {"schema": {"type": "string"}}}},
        }
    )
    @blp.alt_response(404, description="No certificate has this code (a page for a browser).")
    def get(self, code):
        """Verify a certificate by its code (public, no token): who, which training, hours, when, who issued it.

        The certificate's link opens here: a browser gets a page, and `Accept: application/json` (or any
        client that does not prefer HTML) gets the JSON below.
        """
        headers = {"Cache-Control": "no-store", "Vary": "Accept"}
        wants_page = request.accept_mimetypes.best_match(["application/json", HTML]) == HTML
        try:
            certificate = certificates.verify(request_uow().session, code)
        except NotFound:
            if not wants_page:
                raise
            return _page(certificates.render_unknown_code_page(), 404, headers)
        if wants_page:
            return _page(certificates.render_verification_page(certificate), 200, headers)
        return certificates.describe_verification(certificate), 200, headers


def _page(html: str, status: int, headers: dict) -> Response:
    response = Response(html, status=status, mimetype=HTML, headers=headers)
    # The page needs nothing but its own inline style.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
