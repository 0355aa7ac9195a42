"""RFC 9457 problem details: the only error body any service returns, and its one OpenAPI component."""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Response
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Problem types are identifiers, stable forever: clients branch on `type`, never on `title` or `detail`.
# docs/api.md ("Errors") documents each of them.
PROBLEM_TYPE_BASE = "https://t4t-platform.org/problems/"
ABOUT_BLANK = "about:blank"

# slug: (status, title). A status listed in DEFAULT_TYPES gets its type unless a problem names another.
PROBLEM_TYPES = {
    "validation": (422, "Validation failed"),
    "malformed-json": (400, "Malformed JSON"),
    "conflict": (409, "Conflict"),
    "stale-etag": (412, "Stale ETag"),
    "etag-required": (428, "If-Match required"),
    "idempotency-key-reused": (422, "Idempotency key reused"),
    "idempotency-key-in-use": (409, "Idempotency key in use"),
    "unknown-jurisdiction": (403, "Unknown jurisdiction"),
}
DEFAULT_TYPES = {422: "validation", 409: "conflict", 412: "stale-etag", 428: "etag-required"}

# RFC 9110's reason phrases, where Python's older names differ: an about:blank problem's title is its phrase.
_PHRASES = {413: "Content Too Large", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}


def status_phrase(status: int) -> str:
    return _PHRASES.get(status) or HTTPStatus(status).phrase


def problem_type_uri(slug: str) -> str:
    return PROBLEM_TYPE_BASE + slug


class Problem(HTTPException):
    """An HTTP error with a problem-details body; raise it from views or use cases' adapters.

    ``type`` is a slug of PROBLEM_TYPES; without one, the status's default type or about:blank.
    """

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        title: str | None = None,
        errors: dict | None = None,
        headers: dict | None = None,
        type: str | None = None,
        **extra,
    ):
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.errors = errors
        self.problem_type = type
        self.extra = extra
        self.extra_headers = headers or {}


def problem_body(
    status: int,
    title: str = "",
    detail: str = "",
    *,
    errors: dict | None = None,
    instance: str | None = None,
    type: str | None = None,
    **extra,
) -> dict:
    """The body of a problem of ``status``.

    A problem of the platform's own kinds gets its type URI and may keep a specific ``title``; any other
    is ``about:blank``, whose title RFC 9457 ties to the status phrase, so ``title`` is ignored there.
    """
    slug = type or DEFAULT_TYPES.get(status)
    if slug:
        body = {"type": problem_type_uri(slug), "title": title or PROBLEM_TYPES[slug][1], "status": status}
    else:
        body = {"type": ABOUT_BLANK, "title": status_phrase(status), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    status: int,
    title: str = "",
    detail: str = "",
    *,
    errors: dict | None = None,
    headers: dict | None = None,
    type: str | None = None,
    **extra,
) -> Response:
    response = Response(
        json.dumps(problem_body(status, title, detail, errors=errors, type=type, **extra)),
        status=status,
        mimetype=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- the OpenAPI component ------------------------------------------------------------------------

PROBLEM_SCHEMA = {
    "type": "object",
    "description": (
        "RFC 9457 problem details, served as application/problem+json. `type` identifies the kind of "
        f"problem: `{ABOUT_BLANK}` (the title is then the HTTP status phrase) or one of the platform's "
        f"types under {PROBLEM_TYPE_BASE} ({', '.join(PROBLEM_TYPES)}). Branch on `type` and `status`; "
        "`title` and `detail` are for people."
    ),
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "example": problem_type_uri("validation")},
        "title": {"type": "string", "description": "Short summary of the problem type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong this time, for a person."},
        "instance": {"type": "string", "format": "uri-reference"},
        "errors": {
            "type": "object",
            "description": "Messages by field (`body` for the body as a whole, a header's name for a header); "
            "a nested field's messages are nested the same way.",
            "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
        },
        "conflicts": {
            "type": "array",
            "description": "409 of a double booking: each booking that holds the facilitator, specialist or "
            "room at that time.",
            "items": {
                "type": "object",
                "properties": {
                    "resource": {"type": "string", "example": "facilitator:fac-ca"},
                    "owner_kind": {"type": "string", "example": "session"},
                    "owner_id": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"},
                    "session_id": {"type": "string"},
                    "title": {"type": "string"},
                    "cohort_id": {"type": "string"},
                },
            },
        },
        "correlationid": {
            "type": "string",
            "description": "500: quote it to the operators (also in the X-Correlation-ID header of every response).",
        },
    },
    "additionalProperties": True,
}

_EXAMPLES = {
    400: {
        "malformed-json": problem_body(400, detail="The request body is not valid JSON.", type="malformed-json"),
        "bad-request": problem_body(
            400,
            detail="Idempotency-Key must be 1 to 200 printable characters.",
            errors={"Idempotency-Key": ["Invalid key."]},
        ),
    },
    401: {"unauthorized": problem_body(401, detail="invalid token: Signature has expired")},
    403: {"forbidden": problem_body(403, detail="Your role does not allow this action.")},
    404: {"not-found": problem_body(404, detail="No cohort with this id.")},
    409: {
        "conflict": problem_body(
            409,
            detail="A facilitator, specialist or room is already booked at that time.",
            conflicts=[
                {
                    "resource": "facilitator:fac-ca",
                    "owner_kind": "session",
                    "owner_id": "5b0e…",
                    "starts_at": "2026-10-27T17:00:00+00:00",
                    "ends_at": "2026-10-27T19:00:00+00:00",
                }
            ],
        ),
        "idempotency-key-in-use": problem_body(
            409, detail="A request with this Idempotency-Key is still being processed.", type="idempotency-key-in-use"
        ),
    },
    412: {
        "stale-etag": problem_body(
            412, detail="The resource changed since you read it; GET it again and send its new ETag in If-Match."
        )
    },
    413: {"content-too-large": problem_body(413, detail="The body is larger than this service accepts.")},
    415: {"unsupported-media-type": problem_body(415, detail="Send the body as application/json.")},
    422: {
        "validation": problem_body(
            422,
            detail="One or more fields are invalid; see errors.",
            errors={"title": ["Missing data for required field."]},
        ),
        "idempotency-key-reused": problem_body(
            422,
            detail="This Idempotency-Key was used with a different request.",
            type="idempotency-key-reused",
            errors={"Idempotency-Key": ["Reused with another body."]},
        ),
    },
    428: {"etag-required": problem_body(428, detail="Send If-Match with the ETag of your last GET.")},
    503: {
        "database-unreachable": problem_body(
            503,
            detail="The database cannot be reached just now. Send the same request again after Retry-After "
            "seconds (a create with the same Idempotency-Key, so that it is done once).",
        ),
        "credentials-unchecked": problem_body(
            503,
            detail="The identity provider's keys cannot be fetched just now, so the token cannot be checked; "
            "try again shortly.",
        ),
    },
    500: {
        "internal": problem_body(
            500,
            detail="An unexpected error occurred; it has been logged with the correlation id.",
            correlationid="0b6f…",
        )
    },
}


def problem_examples(status: int) -> dict:
    """OpenAPI ``examples`` of the problems a status carries, built by the code that builds the real ones."""
    examples = _EXAMPLES.get(status) or {"problem": problem_body(status)}
    return {name: {"value": value} for name, value in examples.items()}
