"""HTTP schemas of training requests and the national admin's decisions on them."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.scheduling.domain.sessions import FORMATS
from services.scheduling.domain.training_requests import STATUSES
from services.scheduling.schemas.agencies import Id, Input, Reason, Subject, TimeZone
from services.scheduling.schemas.cohorts import COHORT_CAPACITY_MAX
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema


class Day(fields.Date):
    """An ISO date; stored windows are JSON text already, and are shown as they are."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


class WindowSchema(Schema):
    starts_on = Day(required=True)
    ends_on = Day(required=True)

    @validates_schema
    def ends_after_start(self, data, **kwargs):
        if isinstance(data.get("starts_on"), date) and data["ends_on"] < data["starts_on"]:
            raise ValidationError("Must be on or after starts_on.", "ends_on")


class StatusChangeSchema(Schema):
    status = fields.String(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)
    by = fields.String(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)


class TrainingRequestSchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    series_id = Id(required=True, metadata={"description": "The series (from the content service)."})
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    preferred_windows = fields.List(fields.Nested(WindowSchema), load_default=list, validate=validate.Length(max=20))
    expected_participants = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=COHORT_CAPACITY_MAX)
    )
    host_agency_id = Id(
        blank=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "An agency of your jurisdiction; required when an agency coordinator submits."},
    )
    notes = Text(10_000, multiline=True, blank=True, load_default="")
    status = fields.String(dump_only=True)
    decision_reason = fields.String(dump_only=True, allow_none=True)
    cohort_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The cohort an approval created."}
    )
    requested_by = fields.String(dump_only=True)
    decided_by = fields.String(dump_only=True, allow_none=True)
    history = fields.List(fields.Nested(StatusChangeSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ApproveSchema(Input):
    """The settings of the cohort an approval creates."""

    title = Text(300, required=True)
    time_zone = TimeZone(
        load_default=None,
        allow_none=True,
        metadata={"description": "Defaults to the jurisdiction's default time zone."},
    )
    capacity = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=COHORT_CAPACITY_MAX),
        metadata={"description": "Defaults to the request's expected participants."},
    )
    facilitators = fields.List(Subject(), load_default=list, validate=validate.Length(max=50))
    registration_opens_at = fields.AwareDateTime(load_default=None, allow_none=True)
    registration_closes_at = fields.AwareDateTime(load_default=None, allow_none=True)
    requires_approval = fields.Boolean(load_default=False)
    completion_minimum = fields.Integer(load_default=9, strict=True, validate=validate.Range(min=1, max=100))


class DeclineSchema(Input):
    reason = Reason()


class RequestQueryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    tenant = Text(40, load_default=None, metadata={"description": "National admins only: one jurisdiction's requests."})


TrainingRequestPage = page_schema(TrainingRequestSchema, "TrainingRequestPage")
