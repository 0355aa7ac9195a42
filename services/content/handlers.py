"""Consumed event type -> use case. Queue names derive from the handler names (see shared topology)."""

from __future__ import annotations

from services.content.models import Jurisdiction
from shared.envelope import Envelope
from shared.jurisdictions import record_announced


def record_jurisdiction(event: Envelope, uow) -> None:
    """Know a Tribe scheduling has added, so its people may use content.

    An announcement may come again (a re-announcement, a redelivery): the row is kept, and only an
    announcement newer than the one it holds changes its name or zone.
    """
    record_announced(uow.session, Jurisdiction, event.data, event.time)


HANDLERS = {"record_jurisdiction": record_jurisdiction}
