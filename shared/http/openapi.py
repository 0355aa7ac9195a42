"""The OpenAPI contract of every service: the problem responses, headers, roles and operation ids each
operation gets from what its view declares (@require, @blp.arguments, @blp.etag, @idempotent, path ids)."""

from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin

from shared.http.problems import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA, problem_examples, status_phrase

WRITE_METHODS = ("post", "put", "patch", "delete")
_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")

# Status -> when an operation may answer it, in the words of its documentation.
_WHY = {
    400: "The body is not valid JSON, or the Idempotency-Key header is malformed.",
    401: "No valid bearer token or API key.",
    403: "Your role (see x-roles) or your relation to the resource does not allow this.",
    404: "No such resource in your jurisdiction (another jurisdiction's is reported the same way).",
    409: "The resource's current state does not allow this change (`conflict`; a double booking lists "
    "`conflicts`), or a request with the same Idempotency-Key is still being processed.",
    412: "If-Match does not match the current ETag: someone changed the resource since you read it.",
    413: "The body is larger than this service accepts.",
    415: "The body is not of a media type this operation accepts.",
    422: "A field, query argument or header is invalid (`errors` names each), or an Idempotency-Key was "
    "reused with another body.",
    428: "This update needs If-Match with the ETag of your last GET.",
    500: "An unexpected error; quote `correlationid` to the operators.",
    503: "The service cannot answer just now: its database cannot be reached, or your credentials cannot "
    "be checked (the identity provider's keys or the list of jurisdictions cannot be read); send the same "
    "request again after `Retry-After` seconds.",
}

HEADERS = {
    "X_CORRELATION_ID": {
        "description": "Correlation id of this request: yours if you sent a printable one of at most 100 "
        "characters, else a new UUID. It travels into the events the request causes and the logs.",
        "required": True,
        "schema": {"type": "string", "maxLength": 100},
    },
    "LINK": {
        "description": 'The next page, for clients that follow links: `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    },
    "RETRY_AFTER": {
        "description": "Seconds to wait before retrying (a request with the same Idempotency-Key still running, "
        "a database that cannot be reached, or credentials that cannot be checked just now).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "IDEMPOTENT_REPLAYED": {
        "description": "`true` when this is the stored response of an earlier request with the same "
        "Idempotency-Key and body: nothing was done again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def register_components(spec) -> None:
    """The Problem schema, the shared headers, and one problem response per error status (lazily)."""
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    correlation = {"X-Correlation-ID": _ref("headers", "X_CORRELATION_ID")}
    for status in HTTPStatus:
        response = {"description": status_phrase(status), "headers": dict(correlation)}
        if status in (409, 503):
            response["headers"]["Retry-After"] = _ref("headers", "RETRY_AFTER")
        if status >= 400:
            response["description"] = _WHY.get(status, status_phrase(status))
            response["content"] = {
                PROBLEM_CONTENT_TYPE: {"schema": _ref("schemas", "Problem"), "examples": problem_examples(status)}
            }
        spec.components.response(status.name, response, lazy=True)


def operation_id(endpoint: str, method: str) -> str:
    """``cohorts.CohortItem`` + ``patch`` -> ``patchCohortItem``: derived from the view, stable while it is."""
    view = endpoint.rsplit(".", 1)[-1]
    return method + view[:1].upper() + view[1:]


def roles_sentence(roles: list[str]) -> str:
    if not roles:
        return "Allowed to any authenticated caller."
    return "Allowed to the roles: " + ", ".join(f"`{role}`" for role in roles) + "."


class ContractPlugin(BasePlugin):
    """Completes each operation from what its view declares, so no view lists its error statuses by hand."""

    def init_spec(self, spec):
        self.spec = spec
        self.operation_ids: dict[str, str] = {}

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if method not in _METHODS:
                continue
            label = f"{method.upper()} {path}"
            if rule is not None:
                operation.setdefault("operationId", operation_id(rule.endpoint, method))
            taken = self.operation_ids.setdefault(operation.get("operationId", label), label)
            if taken != label:
                raise ValueError(f"operationId {operation['operationId']} of {label} is already {taken}'s")
            self._complete(path, method, operation)

    def _complete(self, path: str, method: str, operation: dict) -> None:
        responses = operation.setdefault("responses", {})
        responses.pop("default", None)
        parameters = operation.get("parameters", [])
        names = {p if isinstance(p, str) else p.get("name") for p in parameters}
        query = [p for p in parameters if isinstance(p, dict) and p.get("in") == "query"]
        body = operation.get("requestBody")
        roles = operation.get("x-roles")
        idempotent = IDEMPOTENCY_HEADER in names

        statuses = {500, 503}  # 503: the database cannot be reached, whoever asks
        if roles is not None:
            statuses |= {401, 403}
            operation["description"] = "\n\n".join(
                part for part in (operation.get("description", ""), roles_sentence(roles)) if part
            )
        if "{" in path:
            statuses.add(404)
        if body:
            statuses |= {413, 415, 422}
            if any(media == "application/json" or media.endswith("+json") for media in body.get("content", {})):
                statuses.add(400)
        if query:
            statuses.add(422)
        if method in WRITE_METHODS:
            statuses |= {409, 422}
        if "IF_MATCH" in names:
            statuses |= {412, 428}
        if idempotent:
            statuses |= {400, 409, 422}

        for status in statuses:
            if status not in responses and str(status) not in responses:
                responses[status] = HTTPStatus(status).name
        for status, response in list(responses.items()):
            if not isinstance(response, dict):
                continue
            code = int(status)
            if code >= 400:
                # A view's own description of an error status is kept, and a page it serves browsers
                # (text/html); the error's data is the one problem schema, never another JSON shape.
                response.setdefault("description", _WHY.get(code, status_phrase(code)))
                others = {
                    media: body
                    for media, body in response.get("content", {}).items()
                    if not (media == "application/json" or media.endswith("+json"))
                }
                response["content"] = {
                    PROBLEM_CONTENT_TYPE: {"schema": _ref("schemas", "Problem"), "examples": problem_examples(code)},
                    **others,
                }
            headers = response.setdefault("headers", {})
            headers.setdefault("X-Correlation-ID", _ref("headers", "X_CORRELATION_ID"))
            if (code == 409 and idempotent) or code == 503:
                headers.setdefault("Retry-After", _ref("headers", "RETRY_AFTER"))
            if 200 <= code < 300:
                if any(p.get("name") == "cursor" for p in query):
                    headers.setdefault("Link", _ref("headers", "LINK"))
                if idempotent:
                    headers.setdefault("Idempotent-Replayed", _ref("headers", "IDEMPOTENT_REPLAYED"))


def required_roles(func) -> list[str] | None:
    """The roles ``@require`` lets through (``[]``: any authenticated caller; None: no @require at all)."""
    roles = getattr(func, "_required_roles", None)
    return None if roles is None else list(roles)
