"""Consumed event type -> use case. Queue names derive from the handler names (see shared topology)."""

from __future__ import annotations

from services.coaching.models import Jurisdiction
from services.coaching.use_cases import activities, plans
from shared.envelope import Envelope
from shared.jurisdictions import record_announced


def record_jurisdiction(event: Envelope, uow) -> None:
    """Know a Tribe scheduling has added, so its people may use coaching (a newer announcement wins)."""
    record_announced(uow.session, Jurisdiction, event.data, event.time)


def open_plan(event: Envelope, uow) -> None:
    """A completion of the training for trainers opens the trainer's plan, once."""
    plans.open_plan(uow.session, event.data, tenant=event.tenant, opened_by="event")


def follow_delivery(event: Envelope, uow) -> None:
    """Sessions and attendance of cohorts trainers facilitate move their commitments toward fulfilled."""
    data = dict(event.data)
    if event.type == "scheduling.attendance.recorded":
        data["present"] = data["status"] in ("present", "partial")
        plans.follow_delivery(uow.session, event.tenant, data, held_at=event.time)
        return
    data["cancelled"] = event.type == "scheduling.session.cancelled"
    plans.follow_delivery(uow.session, event.tenant, data)


def draft_office_hour(event: Envelope, uow) -> None:
    """A booking of a specialist's office hours opens their draft activity; a cancellation withdraws it."""
    activities.draft_from_booking(
        uow.session, event.tenant, event.data, cancelled=event.type == "scheduling.office_hour.cancelled"
    )


HANDLERS = {
    "record_jurisdiction": record_jurisdiction,
    "follow_delivery": follow_delivery,
    "draft_office_hour": draft_office_hour,
    "open_plan": open_plan,
}
