"""flask-smorest, customised once: problem-details errors, JSON-only bodies (415), auth and the app factory."""

from __future__ import annotations

import functools
import re
import time
import uuid
from datetime import timedelta

import flask_smorest
import structlog
from flask import Flask, current_app, g, redirect, request
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from webargs.core import parse_json
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from shared.auth import (
    ROLES,
    AuthError,
    IdentityProviderUnavailable,
    Principal,
    api_key_matches,
    api_key_prefix,
    tenant_refusal,
)
from shared.context import ServiceContext
from shared.db import WRITES, UnitOfWork, database_answers, is_postgres, utcnow
from shared.errors import DomainError
from shared.http.health import register_health
from shared.http.openapi import ContractPlugin, register_components, required_roles
from shared.http.problems import Problem, problem_response
from shared.jurisdictions import JurisdictionsUnavailable
from shared.logging import configure_logging, get_logger
from shared.metrics import observe_request

log = get_logger("http")
CORRELATION_HEADER = "X-Correlation-ID"
JSON_MIMETYPES = ("application/json",)
API_KEY_USE_RESOLUTION = timedelta(minutes=5)


def context() -> ServiceContext:
    return current_app.extensions["service_context"]


class Api(flask_smorest.Api):
    """An Api whose every error, from any layer, is an RFC 9457 problem, and whose document says so."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its own statuses (shared.http.openapi)

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ContractPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self):
        register_components(self.spec)

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        title = getattr(error, "title", None) or ""
        problem_type = getattr(error, "problem_type", None)
        detail = error.description if isinstance(error.description, str) else ""
        if detail and not isinstance(error, Problem) and detail == type(error).description:
            detail = ""  # werkzeug's canned sentences say nothing the title does not
        if not detail and status in _ETAG_DETAILS:
            detail = _ETAG_DETAILS[status]
        errors = getattr(error, "errors", None)
        headers = dict(getattr(error, "extra_headers", {}) or {})
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            # webargs puts validation messages by location: {"json": {"field": [..]}}
            messages = data["messages"]
            if isinstance(messages, dict) and len(messages) == 1:
                ((location, messages),) = messages.items()
                if location == "json" and isinstance(messages, list):
                    messages = {"body": messages}
            errors = messages
            if status == 422:
                title = "Validation failed"
                detail = detail or "One or more fields are invalid; see errors."
            if status == 400 and "Invalid JSON body." in str(data["messages"]):
                title, detail = "Malformed JSON", "The request body is not valid JSON."
                problem_type = "malformed-json"
        if "headers" in data and data["headers"]:
            headers.update(data["headers"])
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="t4t"')
        extra = getattr(error, "extra", None) or {}
        return problem_response(status, title, detail, errors=errors, headers=headers, type=problem_type, **extra)


_ETAG_DETAILS = {
    412: "The resource changed since you read it: GET it again and send its new ETag in If-Match.",
    428: "Send If-Match with the ETag of your last GET of this resource.",
}


class _BodyParser(FlaskParser):
    """webargs' parser, reading the JSON body that ``_read_json_body`` parsed and checked once."""

    def _raw_load_json(self, req):
        if "json_body" in g:
            return g.json_body
        return super()._raw_load_json(req)


class Blueprint(flask_smorest.Blueprint):
    """A Blueprint whose JSON bodies must be declared JSON (415 otherwise) and whose views declare roles."""

    ARGUMENTS_PARSER = _BodyParser()

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        # The roles @require lets through become the operation's x-roles (and its 401/403 responses).
        for method, doc in self._docs[endpoint].items():
            if method == "parameters":
                continue
            view = getattr(obj, method, None) if isinstance(obj, type) else obj
            roles = required_roles(view)
            if roles is not None:
                doc.setdefault("manual_doc", {})["x-roles"] = roles

    def arguments(self, schema, *, location="json", **kwargs):
        # One schema instance per view: given a class, webargs would build a new one on every request.
        if isinstance(schema, type):
            schema = schema()
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorator

        def wrap(func):
            parsed = decorator(func)

            @functools.wraps(parsed)
            def checked(*args, **kw):
                if request.mimetype not in JSON_MIMETYPES and not request.mimetype.endswith("+json"):
                    raise Problem(415, "Send the body as application/json.", title="Unsupported Media Type")
                return parsed(*args, **kw)

            return checked

        return wrap


def _principal_from_request() -> Principal:
    ctx = context()
    api_key = request.headers.get("X-API-Key")
    if api_key:
        who, key = _principal_from_api_key(ctx, api_key)
    else:
        who, key = _principal_from_token(ctx), None
    _admit(ctx, who)
    if key is not None:
        now = utcnow()
        # Admins see when a key was last used; recording it at most every few minutes keeps
        # an integration's steady traffic from writing on every request.
        if key.last_used_at is None or now - key.last_used_at > API_KEY_USE_RESOLUTION:
            _note_api_key_use(ctx, key.id, now)
    return who


def _admit(ctx: ServiceContext, who: Principal) -> None:
    """Let in only callers of a jurisdiction this service serves (the static list, or a Tribe it has
    learnt of), and of the national tenant only national admins; whatever their token or key says.

    A key made before tenants were checked at the door must not keep writing under an unknown code
    either, so keys and tokens pass here alike.
    """
    try:
        refusal = tenant_refusal(who.tenant, who.roles, known=ctx.jurisdictions.knows)
    except JurisdictionsUnavailable as exc:
        raise Problem(
            503,
            "The list of jurisdictions cannot be read just now, so your jurisdiction cannot "
            "be checked; try again shortly.",
            title="Service Unavailable",
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc
    if refusal:
        raise Problem(403, refusal, type="unknown-jurisdiction")


def _principal_from_token(ctx: ServiceContext) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Send a bearer token in the Authorization header, or an X-API-Key.", title="Unauthorized")
    try:
        return ctx.verifier.verify(token.strip())
    except AuthError as exc:
        raise Problem(401, str(exc), title="Unauthorized") from exc
    except IdentityProviderUnavailable as exc:
        # An outage is not a bad token: the client may send the same token again shortly.
        raise Problem(
            503,
            "The identity provider's keys cannot be fetched just now, so the token cannot "
            "be checked; try again shortly.",
            title="Service Unavailable",
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc


def _principal_from_api_key(ctx: ServiceContext, key: str):
    """The caller an API key stands for, and the key's row."""
    prefix = api_key_prefix(key)
    ApiKey = ctx.tables.api_key
    if prefix:
        with ctx.db.session() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if row is not None and not row.revoked and api_key_matches(key, row.key_hash):
            return Principal(
                sub=f"api-key:{row.id}", tenant=row.tenant, roles=frozenset(row.roles), name=row.name, via="api_key"
            ), row
    raise Problem(401, "The API key is unknown or revoked.", title="Unauthorized")


def _note_api_key_use(ctx: ServiceContext, key_id: str, now) -> None:
    """Record when a key was last used, in a write transaction of its own (on SQLite one that takes
    the write lock first); a failure to record it never refuses the caller."""
    ApiKey = ctx.tables.api_key
    try:
        with ctx.db.unit_of_work() as uow:
            uow.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
            uow.commit()
    except Exception:  # noqa: BLE001 - bookkeeping only
        log.warning("could not record an API key's last use", exc_info=True)


def principal() -> Principal:
    """The verified caller of this request (401 if there is none)."""
    if "principal" not in g:
        g.principal = _principal_from_request()
        structlog.contextvars.bind_contextvars(sub=g.principal.sub, tenant=g.principal.tenant)
    return g.principal


def require(*roles: str):
    """Let a view run only for callers holding one of ``roles`` (any authenticated caller if none)."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            who = principal()
            if roles and not who.has(*roles):
                raise Problem(403, "Your role does not allow this action.", title="Forbidden")
            return func(*args, **kwargs)

        wrapper._required_roles = roles
        return wrapper

    return decorator


def request_uow() -> UnitOfWork:
    """This request's unit of work: open until the response is dumped, rolled back unless committed."""
    if "uow" not in g:
        g.uow = context().db.unit_of_work().__enter__()
        if request.method in ("GET", "HEAD"):
            if is_postgres(g.uow.session):
                # A read needs no transaction under READ COMMITTED (each statement sees committed data
                # either way); autocommit saves the BEGIN and ROLLBACK round trips on every read.
                g.uow.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            else:
                # On SQLite a read does not take the write lock a unit of work otherwise begins with.
                g.uow.session.connection(execution_options={WRITES: False})
    return g.uow


def _close_request_uow(_exc):
    uow = g.pop("uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)


def correlation_id() -> str:
    return g.get("correlation_id", "")


def _before_request():
    incoming = request.headers.get(CORRELATION_HEADER, "")
    g.correlation_id = incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else str(uuid.uuid4())
    g.started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(correlationid=g.correlation_id)
    _refuse_nul_characters()
    _read_json_body()


def _refuse_nul_characters() -> None:
    """PostgreSQL cannot store U+0000 in text: refuse it at the door instead of failing in the driver."""
    if "\x00" in request.path:
        raise Problem(404, "No such resource.", title="Not Found")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise Problem(
                422,
                "NUL characters are not allowed.",
                title="Validation failed",
                errors={name.replace("\x00", ""): ["NUL characters are not allowed."]},
            )


def _is_json_body() -> bool:
    return request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json")


def _read_json_body() -> None:
    """Parse a JSON body once, before any view, and refuse what no text field may hold.

    A body nested deeper than any schema reads (``MAX_JSON_DEPTH``) is refused before anything walks
    it: Python's parser and marshmallow recurse, and a few thousand levels exhaust the stack. NUL and
    lone surrogates (``"\\ud800"``) are refused wherever they are, keys included, because no database
    or UTF-8 encoder takes them; the schemas' ``Text`` fields check everything else about text.
    A body that is not JSON is left to the view's parser, which answers 400.
    """
    if not _is_json_body():
        return
    body = request.get_data(cache=True)
    if not body:
        return
    try:
        document = parse_json(body)  # as webargs reads it: UTF-8
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return
    if _nesting(document) > MAX_JSON_DEPTH:
        raise _too_deep()
    # The byte checks keep the walk for the rare body that may hold one (a raw NUL is not JSON).
    if b"\\u0000" in body and (field := _field_holding(document, _NUL)) is not None:
        raise Problem(
            422,
            "NUL characters are not allowed.",
            title="Validation failed",
            errors={field: ["NUL characters (\\u0000) are not allowed."]},
        )
    if _MAYBE_SURROGATE.search(body) and (field := _field_holding(document, _SURROGATE)) is not None:
        raise Problem(
            422,
            "Text cannot hold a lone UTF-16 surrogate.",
            title="Validation failed",
            errors={field: ["Must not hold a lone UTF-16 surrogate (U+D800 to U+DFFF); send the whole character."]},
        )
    g.json_body = document


MAX_JSON_DEPTH = 32  # the deepest schema (a review's checklist items in a list) is 3 levels
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL = re.compile("\x00")


def _too_deep() -> Problem:
    return Problem(
        400,
        f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
        type="malformed-json",
        errors={"body": [f"At most {MAX_JSON_DEPTH} levels of nesting."]},
    )


def _nesting(document) -> int:
    """How many arrays and objects deep ``document`` goes (without recursion: it may be very deep)."""
    deepest, level = 0, [(document, 1)]
    while level:
        value, depth = level.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                level.extend((item, depth + 1) for item in value)
    return deepest


def _field_holding(document, found: re.Pattern) -> str | None:
    """The top-level field whose name or value (at any depth) holds ``found``, to name it in the
    problem; ``body`` when the document is not an object; None when nothing holds it."""

    def holds(value) -> bool:
        if isinstance(value, str):
            return found.search(value) is not None
        if isinstance(value, dict):
            return any(holds(k) or holds(v) for k, v in value.items())
        if isinstance(value, list):
            return any(holds(v) for v in value)
        return False

    if isinstance(document, dict):
        for name, value in document.items():
            if holds(name) or holds(value):
                return _SURROGATE.sub("\ufffd", _NUL.sub("", name))
        return None
    return "body" if holds(document) else None


SECRET_PATH_ARGS = ("token",)  # a private calendar feed URL carries its credential in the path


def _loggable_path() -> str:
    path = request.path
    for name in SECRET_PATH_ARGS:
        value = (request.view_args or {}).get(name)
        if value:
            path = path.replace(str(value), "<redacted>")
    return path


def _after_request(response):
    response.headers[CORRELATION_HEADER] = g.get("correlation_id", "")
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"

    observe_request(request.method, endpoint, response.status_code, elapsed)
    if request.path not in ("/healthz", "/metrics"):
        log.info(
            "request",
            method=request.method,
            path=_loggable_path(),
            status=response.status_code,
            ms=round(elapsed * 1000, 2),
        )
    return response


# Seconds a client is asked to wait when the database cannot be reached (a failover takes about this).
DATABASE_RETRY_AFTER = 5


def _unexpected_error(error: Exception):
    if isinstance(error, DomainError):
        return problem_response(error.status, error.title, error.detail, errors=error.errors, **error.extra)
    if isinstance(error, HTTPException):
        return current_app.extensions["api_instance"].handle_http_exception(error)
    if isinstance(error, DBAPIError) and not database_answers(context().db.engine):
        # An outage, not a fault of the request or the code: the client may send it again shortly.
        log.error("database unreachable", error=f"{type(error).__name__}: {error.orig}")
        return problem_response(
            503,
            "Service Unavailable",
            "The database cannot be reached just now. Send the same request again after Retry-After "
            "seconds (a create with the same Idempotency-Key, so that it is done once).",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    log.exception("unhandled error", error=type(error).__name__)
    return problem_response(
        500,
        "Internal Server Error",
        "An unexpected error occurred; it has been logged with the correlation id.",
        correlationid=correlation_id(),
    )


BEARER_DESCRIPTION = (
    "A JWT signed by the identity provider (in development, by the embedded issuer) with an algorithm of "
    "JWT_ALGORITHMS (RS256 unless the operators say otherwise). "
    "Claims: `iss` and `aud` as configured (JWT_ISSUER, JWT_AUDIENCE), `exp` (required), `sub` (who you are), "
    "`tenant` (your jurisdiction's code, e.g. `CA`; `US` for national staff) and `roles` (a list of: "
    f"{', '.join(f'`{role}`' for role in ROLES)}). The tenant always comes from the token, never from a "
    "header or the body."
)
API_KEY_DESCRIPTION = (
    "A state system's API key (`t4tk_…`), created at /api-keys by an admin, scoped to one jurisdiction and its "
    "roles, revocable. Send it in this header only, never in a URL."
)
CONTRACT_DESCRIPTION = (
    "Errors are RFC 9457 problem details (`application/problem+json`, the `Problem` schema): branch on "
    "`type` and `status`. Each operation lists the statuses it can answer and, in `x-roles`, the roles "
    "allowed (an empty list: any authenticated caller). Every response carries `X-Correlation-ID`; lists "
    "page with `cursor` and a `Link` header; updates take `If-Match`; creates take `Idempotency-Key`."
)


def create_service_app(ctx: ServiceContext, *, title: str, version: str, description: str) -> tuple[Flask, Api]:
    """Build a service's Flask app with every convention in place; the service adds its blueprints."""
    configure_logging(ctx.config.log_level)
    app = Flask(ctx.config.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",  # served from the swagger-ui-bundle package: works offline
        OPENAPI_REDOC_PATH=None,
        MAX_CONTENT_LENGTH=ctx.config.max_request_bytes,
        API_SPEC_OPTIONS={
            "info": {"description": f"{description}\n\n{CONTRACT_DESCRIPTION}"},
            "servers": [{"url": ctx.config.public_base_url}],
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": BEARER_DESCRIPTION,
                    },
                    "apiKey": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "X-API-Key",
                        "description": API_KEY_DESCRIPTION,
                    },
                }
            },
            "security": [{"bearer": []}, {"apiKey": []}],
        },
        PROPAGATE_EXCEPTIONS=False,
    )
    app.extensions["service_context"] = ctx
    api = Api(app)
    app.extensions["api_instance"] = api
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_close_request_uow)
    app.register_error_handler(Exception, _unexpected_error)

    register_health(app, ctx)
    _serve_swagger_assets(app)
    _point_to_the_docs(app)
    return app, api


def _point_to_the_docs(app: Flask) -> None:
    """A person who opens the service's address lands on its API documentation."""

    @app.get("/")
    def home():
        return redirect("/docs", code=302)


def _serve_swagger_assets(app: Flask) -> None:
    import swagger_ui_bundle
    from flask import send_from_directory

    @app.get("/docs/static/<path:filename>")
    def swagger_asset(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
