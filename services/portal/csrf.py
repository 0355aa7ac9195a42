"""Cross-site request forgery: every form that changes something carries the session's own token.

``SameSite=Lax`` keeps the session cookie off a cross-site POST, but not off a same-site one (another
port or subdomain of the same site) nor off browsers that do not honour it, so each POST also proves it
came from a page the portal served: a random token kept in the session (a cookie only the portal can
sign) is put in each form as a hidden field, or sent by the attendance script as ``X-CSRF-Token``, and
compared in constant time. Signing in starts a new session, so a token never outlives the sign-in it
was given to.
"""

from __future__ import annotations

import secrets

from flask import Flask, render_template, request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str:
    """The session's token, made on first use."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def field() -> Markup:
    """The hidden field every state-changing form carries."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token())}">')


def refusal():
    """The answer to a POST without the session's token: a plain 400, nothing done."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {
            "type": "csrf",
            "title": "This page is out of date: reload it and send again",
        }, 400
    return render_template(
        "error.html",
        title="This form has expired",
        message=(
            "The form was not sent from a page of this portal you have open now (it may be from before you "
            "signed in again, or from another site). Nothing was changed. Go back, reload the page and send it again."
        ),
    ), 400


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(csrf_field=field, csrf_token=token)

    @app.before_request
    def check():
        if request.method in SAFE_METHODS:
            return None
        expected = session.get(FIELD)
        sent = request.headers.get(HEADER) or request.form.get(FIELD)
        if not expected or not sent or not secrets.compare_digest(_bytes(sent), _bytes(expected)):
            return refusal()
        return None


def _bytes(value) -> bytes:
    # compare_digest refuses str with non-ASCII characters: a forged token must get a 400, not a 500.
    return str(value).encode("utf-8", "surrogatepass")
