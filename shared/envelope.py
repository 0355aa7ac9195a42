"""The one event envelope: CloudEvents 1.0 attributes (structured JSON mode) plus tenant and correlationid."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.events import CATALOGUE, dataschema_for

CONTENT_TYPE = "application/cloudevents+json"
SPECVERSION = "1.0"


class InvalidEvent(ValueError):
    """An envelope or its data does not match the catalogue; it goes to dead letters, never retried."""


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    tenant: str
    data: dict
    correlationid: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str = ""
    specversion: str = SPECVERSION

    def to_dict(self) -> dict:
        return {
            "specversion": self.specversion,
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "subject": self.subject,
            "dataschema": self.dataschema or dataschema_for(self.type),
            "datacontenttype": "application/json",
            "tenant": self.tenant,
            "correlationid": self.correlationid,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)


class _EnvelopeSchema(Schema):
    class Meta:
        # CloudEvents allows further extension attributes; they are kept out, not fatal.
        unknown = EXCLUDE

    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True)
    source = fields.String(required=True, validate=validate.Length(min=1))
    time = fields.AwareDateTime(required=True, default_timezone=UTC)
    subject = fields.String(required=True)
    dataschema = fields.String(load_default="")
    datacontenttype = fields.String(load_default="application/json")
    tenant = fields.String(required=True)
    correlationid = fields.String(load_default="")
    data = fields.Dict(required=True)


@functools.cache
def _schema(schema_class: type[Schema]) -> Schema:
    """One instance per event schema: building a marshmallow schema costs more than using it."""
    return schema_class()


def make_event(type_: str, *, source: str, subject: str, tenant: str, data: dict, correlationid: str = "") -> Envelope:
    """Build an envelope whose data is checked against the catalogue now, at the writer."""
    spec = CATALOGUE.get(type_)
    if spec is None:
        raise InvalidEvent(f"unknown event type {type_!r}")
    schema = _schema(spec.schema)
    try:
        clean = schema.dump(schema.load(data))
    except ValidationError as exc:
        raise InvalidEvent(f"{type_} data invalid: {exc.messages}") from None
    return Envelope(type=type_, source=source, subject=subject, tenant=tenant, data=clean, correlationid=correlationid)


def parse_event(body: bytes | str) -> Envelope:
    """Parse and validate a received envelope; raise InvalidEvent for anything off-catalogue."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidEvent("envelope must be a JSON object")
    try:
        attrs = _schema(_EnvelopeSchema).load(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope invalid: {exc.messages}") from exc
    spec = CATALOGUE.get(attrs["type"])
    if spec is None:
        raise InvalidEvent(f"unknown event type {attrs['type']!r}")
    try:
        data = _schema(spec.schema).load(attrs["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"{attrs['type']} data invalid: {exc.messages}") from exc
    return Envelope(
        type=attrs["type"],
        source=attrs["source"],
        subject=attrs["subject"],
        tenant=attrs["tenant"],
        data=data,
        correlationid=attrs["correlationid"],
        id=attrs["id"],
        time=attrs["time"],
        dataschema=attrs["dataschema"],
    )
