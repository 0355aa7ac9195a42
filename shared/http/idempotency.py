"""``Idempotency-Key`` on creates: a retried POST gets the first answer back instead of a second row."""

from __future__ import annotations

import functools
import hashlib
from copy import deepcopy

from flask import Response, current_app, g, make_response, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from shared.http.api import context, principal
from shared.http.problems import Problem

HEADER = "Idempotency-Key"
_REPLAY_HEADERS = ("Content-Type", "Location", "ETag")


def idempotent(view):
    """Decorate a create view (outermost, above flask-smorest's decorators)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not (1 <= len(key) <= 200) or not key.isprintable():
            raise Problem(400, "Idempotency-Key must be 1 to 200 printable characters.",
                          title="Bad Request", errors={HEADER: ["Invalid key."]})
        who = principal()
        ctx = context()
        Row = ctx.tables.idempotency_key
        fingerprint = _fingerprint()
        ident = dict(tenant=who.tenant, principal=who.sub, key=key)
        with ctx.db.unit_of_work() as uow:
            row = uow.session.get(Row, (who.tenant, who.sub, key))
            if row is None:
                uow.session.add(Row(**ident, endpoint=request.path, request_hash=fingerprint))
                try:
                    uow.commit()
                except IntegrityError:
                    raise Problem(409, "A request with this Idempotency-Key is still being processed.",
                                  title="Conflict") from None
            else:
                return _replay(row, fingerprint)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            # Release the failed request's transaction first: on SQLite it may hold the write lock
            # that forgetting the key needs.
            if "uow" in g:
                g.uow.rollback()
            _forget(ctx, Row, ident)
            raise
        if "uow" in g:  # the request's transaction is over: on SQLite it may hold the write lock
            g.uow.rollback()
        if 200 <= response.status_code < 300:
            with ctx.db.unit_of_work() as uow:
                row = uow.session.get(Row, (who.tenant, who.sub, key))
                row.status_code = response.status_code
                row.response_body = response.get_data(as_text=True)
                row.response_headers = {h: response.headers[h] for h in _REPLAY_HEADERS if h in response.headers}
                uow.commit()
        else:
            _forget(ctx, Row, ident)
        return response

    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual.setdefault("parameters", []).append({
        "name": HEADER, "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
        "description": "Retry-safe creates: the same key and body return the first response again.",
    })
    return wrapper


def _fingerprint() -> str:
    """What makes two requests "the same": method, path and body.

    A multipart body is fingerprinted by its fields and the streamed sha256 of each file, so an
    upload is never held in memory and a client's fresh multipart boundary does not matter.
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
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _replay(row, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        raise Problem(422, "This Idempotency-Key was used with a different request.",
                      title="Idempotency key reused", errors={HEADER: ["Reused with another body."]})
    if row.status_code is None:
        raise Problem(409, "A request with this Idempotency-Key is still being processed.", title="Conflict")
    response = current_app.response_class(row.response_body, status=row.status_code)
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _forget(ctx, Row, ident: dict) -> None:
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(delete(Row).where(
            Row.tenant == ident["tenant"], Row.principal == ident["principal"], Row.key == ident["key"]))
        uow.commit()


