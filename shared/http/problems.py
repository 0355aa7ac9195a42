"""RFC 9457 problem details: the only error body any service returns."""

from __future__ import annotations

import json

from flask import Response
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(HTTPException):
    """An HTTP error with a problem-details body; raise it from views or use cases' adapters."""

    def __init__(self, status: int, detail: str = "", *, title: str | None = None,
                 errors: dict | None = None, headers: dict | None = None, **extra):
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.errors = errors
        self.extra = extra
        self.extra_headers = headers or {}


def problem_body(status: int, title: str, detail: str = "", *, errors: dict | None = None,
                 instance: str | None = None, **extra) -> dict:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status: int, title: str, detail: str = "", *, errors: dict | None = None,
                     headers: dict | None = None, **extra) -> Response:
    response = Response(
        json.dumps(problem_body(status, title, detail, errors=errors, **extra)),
        status=status,
        mimetype=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
