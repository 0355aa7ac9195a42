"""``Idempotency-Key`` on creates: a retried POST gets the first answer back instead of a second row.

The key is claimed, the view's effect written and its answer stored in ONE transaction (the request's
own, see ``UnitOfWork.hold_commits``), so there is never an effect without its stored answer nor a
claim without a live request: a request that dies (crash, timeout, error, rollback) takes its claim
and all its work with it, and the key is free again for a retry that cannot make a duplicate. A
second request with the same key waits for the first to end (PostgreSQL: on the key's row; SQLite:
on the write lock), then gets the stored answer. Answers are replayed for
``IDEMPOTENCY_KEY_TTL_HOURS`` (24 by default); the worker's housekeeping prunes them after.

A view whose use case writes requests in batches (``@idempotent(batched=True)``, PostgreSQL) has its
key claimed and answered in the batch's transaction instead (``shared.idempotency_keys``): the view
hands ``batch_key(build_answer)`` to its use case, and returns whatever it likes; the client gets the
answer stored. A use case that could not answer the key in a batch raises ``ClaimKeyFirst`` before
writing anything, and the view runs again the usual way.
"""

from __future__ import annotations

import functools
import hashlib
import json
from copy import deepcopy
from datetime import timedelta

from flask import Response, current_app, g, make_response, request
from sqlalchemy.exc import IntegrityError

from shared.db import UnitOfWork, is_postgres, utcnow
from shared.http.api import JSON_MIMETYPES, context, principal, request_uow
from shared.http.problems import Problem
from shared.idempotency_keys import Answer, ClaimKeyFirst, PendingKey

HEADER = "Idempotency-Key"
_REPLAY_HEADERS = ("Content-Type", "Location", "ETag")


def idempotent(view=None, *, batched: bool = False):
    """Decorate a create view (outermost, above flask-smorest's decorators).

    ``batched=True``: the view's use case may answer the key in a batch's transaction (see the module).
    """
    if view is None:
        return functools.partial(idempotent, batched=batched)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not (1 <= len(key) <= 200) or not key.isprintable():
            raise Problem(
                400,
                "Idempotency-Key must be 1 to 200 printable characters.",
                title="Bad Request",
                errors={HEADER: ["Invalid key."]},
            )
        who = principal()
        ctx = context()
        Row = ctx.tables.idempotency_key
        ident = (who.tenant, who.sub, key)
        uow = request_uow()
        fingerprint = _fingerprint()
        ttl = timedelta(hours=ctx.config.idempotency_key_ttl_hours)
        if batched and is_postgres(uow.session):
            answered = _run_batched(view, args, kwargs, Row, ident, fingerprint)
            if answered is not None:
                return answered
            # Not answered in a batch (a retry of an answered key, an expired key, a request the
            # batch does not write): the usual way, which replays, refuses or starts afresh.
        replay = _claim(uow, Row, ident, fingerprint, ttl)
        if replay is not None:
            return replay
        uow.hold_commits()
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            _settle_failed(uow)
            raise
        _settle(uow, Row, ident, response)
        return response

    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual.setdefault("parameters", []).append(
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Retry-safe creates: the same key and body return the first response again.",
        }
    )
    return wrapper


_PENDING = "idempotency_pending_key"


def batch_key(build_answer) -> PendingKey | None:
    """The request's key for its use case to claim and answer in a batch; None if it has none to give.

    ``build_answer(outcome)`` makes the view's response from the use case's outcome (it may run in the
    thread of another request of the same app, the batch's writer).
    """
    pending = g.get(_PENDING)
    if pending is None:
        return None

    def answer(outcome) -> Answer:
        response = make_response(build_answer(outcome))
        return response.status_code, response.get_data(as_text=True), _replay_headers(response)

    pending.answer = answer
    return pending


def _run_batched(view, args, kwargs, Row, ident, fingerprint: str) -> Response | None:
    """Run the view with its key left for a batch to claim; None if the view must run again the usual way.

    No look for a stored answer first: the batch cannot claim a key already answered, so a retry
    comes back here and replays; the first attempt, the common case, saves the round trips.
    """
    tenant, who, key = ident
    pending = PendingKey(Row, tenant, who, key, request.path, fingerprint, utcnow(), answer=_no_answer)
    setattr(g, _PENDING, pending)
    try:
        response = make_response(view(*args, **kwargs))
    except ClaimKeyFirst:
        return None
    finally:
        g.pop(_PENDING, None)
    if pending.stored is not None:
        status, body, headers = pending.stored
        answered = current_app.response_class(body, status=status)
        answered.headers.update(headers)
        return answered
    if 200 <= response.status_code < 300:
        raise RuntimeError("a batched view succeeded without storing its answer or asking for its key")
    return response  # a refusal the view returned: nothing written, nothing to store


def _no_answer(outcome) -> Answer:
    raise RuntimeError("batch_key was not called: the view gave no way to build its answer")


def _replay_headers(response: Response) -> dict:
    return {h: response.headers[h] for h in _REPLAY_HEADERS if h in response.headers}


def _fingerprint() -> str:
    """What makes two requests "the same": method, path and body.

    A JSON body counts by its meaning: whitespace and the order of keys do not matter. A multipart
    body is fingerprinted by its fields and the streamed sha256 of each file, so an upload is never
    held in memory and a client's fresh multipart boundary does not matter.
    """
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"field {name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"file {name} {upload.filename} {upload.mimetype}\n".encode())
            while chunk := upload.stream.read(1024 * 1024):
                digest.update(chunk)
            upload.stream.seek(0)
    elif request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json"):
        digest.update(_canonical_json(request.get_data()))
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _canonical_json(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body  # not JSON: the view refuses it, and a retry of the same bytes is the same request
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode(
        "utf-8", "surrogatepass"
    )


def _claim(uow: UnitOfWork, Row, ident: tuple[str, str, str], fingerprint: str, ttl: timedelta) -> Response | None:
    """Claim the key in the request's transaction; or, if an answer is stored, the replay of it."""
    session = uow.session
    now = utcnow()
    row = session.get(Row, ident)
    if row is not None:
        if row.created_at > now - ttl:
            return _replay(row, fingerprint)
        session.delete(row)  # expired: the key starts afresh
        session.flush()
    tenant, who, key = ident
    session.add(
        Row(tenant=tenant, principal=who, key=key, endpoint=request.path, request_hash=fingerprint, created_at=now)
    )
    try:
        session.flush()
    except IntegrityError:
        # PostgreSQL: a request with the same key was in flight; the insert waited for it to commit.
        uow.rollback()
        row = session.get(Row, ident)
        if row is None:  # it committed, then its answer was pruned or replaced meanwhile: very unlikely
            raise Problem(
                409,
                "A request with this Idempotency-Key is being processed; retry shortly.",
                type="idempotency-key-in-use",
                headers={"Retry-After": "1"},
            ) from None
        return _replay(row, fingerprint)
    return None


def _settle(uow: UnitOfWork, Row, ident: tuple[str, str, str], response: Response) -> None:
    """A success commits with the key's answer; anything else leaves nothing, the key included."""
    uow.stop_holding_commits()
    if not 200 <= response.status_code < 300:
        uow.session.rollback()
        return
    row = uow.session.get(Row, ident)
    row.status_code = response.status_code
    row.response_body = response.get_data(as_text=True)
    row.response_headers = _replay_headers(response)
    uow.commit()


def _settle_failed(uow: UnitOfWork) -> None:
    """The view raised: nothing of the request is kept, even what it had committed, and the key is free.

    The client saw an error and may retry with the same key; keeping a part of the work would make
    that retry a duplicate.
    """
    uow.roll_back_everything()


def _replay(row, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        raise Problem(
            422,
            "This Idempotency-Key was used with a different request.",
            type="idempotency-key-reused",
            errors={HEADER: ["Reused with another body."]},
        )
    if row.status_code is None:
        raise Problem(
            409,
            "A request with this Idempotency-Key is being processed; retry shortly.",
            type="idempotency-key-in-use",
            headers={"Retry-After": "1"},
        )
    response = current_app.response_class(row.response_body, status=row.status_code)
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response
