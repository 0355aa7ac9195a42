"""The portal's pages, one module per group of people's tasks; each view reads the APIs a few times at most."""

from __future__ import annotations

from flask import current_app, g

from services.portal.backend import Backend


def backend() -> Backend:
    return current_app.extensions["backend"]


def token() -> str:
    return g.user.token
