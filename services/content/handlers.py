"""Consumed event type -> use case. Queue names derive from the handler names (see shared topology)."""

from __future__ import annotations

from services.content.models import Jurisdiction
from shared.envelope import Envelope


def record_jurisdiction(event: Envelope, uow) -> None:
    """Know a Tribe scheduling has added, so its people may use content.

    An announcement may come again (a re-announcement, a redelivery): the row is kept, and only an
    announcement newer than the one it holds changes its name or zone.
    """
    data = event.data
    row = uow.session.get(Jurisdiction, data["code"])
    if row is not None and row.announced_at >= event.time:
        return
    row = row or Jurisdiction(code=data["code"])
    row.name, row.kind, row.default_time_zone = data["name"], data["kind"], data["default_time_zone"]
    row.announced_at = event.time
    uow.session.add(row)


HANDLERS = {"record_jurisdiction": record_jurisdiction}
