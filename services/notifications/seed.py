"""Notifications has no reference data to load: ``seed`` is here so every service answers the same commands."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load_seed(session: Session) -> dict:
    return {}
