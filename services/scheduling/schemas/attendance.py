"""HTTP schemas of attendance sheets, completions and certificate verification."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.scheduling.domain.attendance import STATUSES
from shared.http.fields import Text
from shared.http.pagination import CursorArgs, page_schema

MAX_RECORDS = 500  # a sheet is one session's roster; far above any cohort's capacity


class AttendanceRecordInSchema(Schema):
    registration_id = Text(36, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    minutes = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={
            "description": "Minutes attended: required for partial (1 to the session's length - 1); "
            "present credits the whole session and absent none, so omit it for them."
        },
    )


class AttendanceSheetInSchema(Schema):
    records = fields.List(
        fields.Nested(AttendanceRecordInSchema), required=True, validate=validate.Length(min=1, max=MAX_RECORDS)
    )


class AttendanceRowSchema(Schema):
    registration_id = fields.String(dump_only=True)
    participant = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    registration_status = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "present, absent, partial; null while not yet marked"}
    )
    minutes = fields.Integer(dump_only=True, allow_none=True)
    hours = fields.Float(dump_only=True, allow_none=True)
    recorded_by = fields.String(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class AttendanceSheetSchema(Schema):
    session_id = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    session_status = fields.String(dump_only=True)
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    time_zone = fields.String(dump_only=True)
    local_start = fields.String(dump_only=True)
    session_minutes = fields.Integer(dump_only=True)
    marking_opens_at = fields.AwareDateTime(dump_only=True)
    records = fields.List(
        fields.Nested(AttendanceRowSchema),
        dump_only=True,
        metadata={"description": "Every confirmed registration, and any other that was marked."},
    )


MAX_SUMMARIZED = 50  # sessions per attendance summary: a facilitator's recent weeks


class AttendanceSummaryArgs(Schema):
    session_id = fields.List(
        Text(36),
        required=True,
        validate=validate.Length(min=1, max=MAX_SUMMARIZED),
        metadata={"description": f"A session's id; repeat it for up to {MAX_SUMMARIZED} sessions."},
    )


class AttendanceSummarySchema(Schema):
    session_id = fields.String(dump_only=True)
    session_status = fields.String(dump_only=True)
    marking_opens_at = fields.AwareDateTime(dump_only=True)
    marked = fields.Integer(
        dump_only=True, metadata={"description": "Registrations marked (present, partial, absent)."}
    )
    unmarked = fields.Integer(dump_only=True, metadata={"description": "Confirmed registrations not marked yet."})


class AttendanceSummaryListSchema(Schema):
    items = fields.List(fields.Nested(AttendanceSummarySchema), required=True)


class MyAttendanceArgs(CursorArgs):
    cohort_id = Text(36, load_default=None, metadata={"description": "Only the marks of this cohort's sessions."})


class MyAttendanceMarkSchema(Schema):
    """One of the caller's own marks, with its session."""

    session_id = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    registration_id = fields.String(dump_only=True)
    module_position = fields.Integer(dump_only=True, allow_none=True)
    title = fields.String(dump_only=True, metadata={"description": "The session's title."})
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    time_zone = fields.String(dump_only=True, metadata={"description": "The cohort's time zone."})
    local_start = fields.String(dump_only=True, metadata={"description": "The start in the cohort's time zone."})
    session_status = fields.String(dump_only=True, metadata={"description": "scheduled or cancelled"})
    status = fields.String(dump_only=True, metadata={"description": "present, absent or partial"})
    minutes = fields.Integer(dump_only=True, metadata={"description": "Minutes credited."})
    hours = fields.Float(dump_only=True)
    updated_at = fields.AwareDateTime(
        dump_only=True, metadata={"description": "When it was marked, or last corrected."}
    )


MyAttendancePage = page_schema(MyAttendanceMarkSchema, "MyAttendancePage")


class CompletionSchema(Schema):
    registration_id = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    participant = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    registry_id = fields.String(dump_only=True, allow_none=True)
    sessions_attended = fields.Integer(dump_only=True)
    minutes = fields.Integer(dump_only=True)
    hours = fields.Float(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True)
    certificate_code = fields.String(dump_only=True)
    certificate_url = fields.String(dump_only=True, metadata={"description": "The PDF (authenticated)."})
    verify_url = fields.String(dump_only=True, metadata={"description": "Public verification by code."})


CompletionPage = page_schema(CompletionSchema, "CompletionPage")


class CertificateIssuerSchema(Schema):
    """Who issued the certificate: the jurisdiction, and the host agency that held the training."""

    jurisdiction = fields.String(dump_only=True)
    host_agency = fields.String(dump_only=True, allow_none=True)


class CertificateVerificationSchema(Schema):
    """What anyone holding a code may learn: enough to check a certificate, nothing more."""

    certificate_code = fields.String(dump_only=True)
    participant_name = fields.String(dump_only=True)
    registry_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The participant's id in the state's workforce registry, where known."},
    )
    series = fields.String(
        dump_only=True, metadata={"description": "The training, as printed on the certificate (the series' title)."}
    )
    cohort = fields.String(dump_only=True, metadata={"description": "The series delivery (cohort title)."})
    hours = fields.Float(dump_only=True, metadata={"description": "The hours certified when it was issued."})
    sessions_attended = fields.Integer(
        dump_only=True, metadata={"description": "The sessions attended when it was issued."}
    )
    sessions_held = fields.Integer(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True)
    jurisdiction = fields.String(dump_only=True)
    issuer = fields.Nested(CertificateIssuerSchema, dump_only=True)
    facilitators = fields.List(
        fields.String(),
        dump_only=True,
        metadata={
            "description": "Who facilitated the sessions held, by the name they sign in with once they have "
            "taken attendance (by their subject until then)."
        },
    )
    status = fields.String(
        dump_only=True,
        metadata={
            "enum": ["valid", "voided"],
            "description": "valid, or voided: the cohort was cancelled after the certificate was issued.",
        },
    )
    void_reason = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Why it was voided; else null."}
    )
