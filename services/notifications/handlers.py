"""Consumed event type -> use case. Queue names derive from the handler names (see shared topology)."""

from __future__ import annotations

from services.notifications import repository as repo
from services.notifications.models import DefaultSpecialist, Jurisdiction
from services.notifications.use_cases.community_notices import CommunityNotices
from services.notifications.use_cases.notify import Notifier
from shared.envelope import Envelope
from shared.jurisdictions import record_announced


def record_jurisdiction(event: Envelope, uow) -> None:
    """Know a Tribe scheduling has added, so its people and systems may use notifications.

    Only an announcement newer than the one kept changes its name or zone.
    """
    record_announced(uow.session, Jurisdiction, event.data, event.time)


def build_handlers(notifier: Notifier) -> dict:
    """The handlers, bound to the process's notifier (its configuration and templates)."""

    def notify(event: Envelope, uow) -> None:
        """Write the messages an event causes (registrations, session changes, decisions, reviews)."""
        notifier.handle(event, uow)

    notices = CommunityNotices(notifier)

    def record_default_specialist(event: Envelope, uow) -> None:
        """Know whom the jurisdiction's new plans get as their specialist; a late, older event changes nothing.

        The adaptations submitted since that choice that found nobody, because they were handled before
        this event arrived, reach the new default specialist now.
        """
        session, tenant = uow.session, event.tenant
        repo.hold_jurisdictions(session, [tenant])
        repo.remember_default_specialist(session, tenant, event.data.get("default_specialist"), event.time)
        if repo.holds_event(session, DefaultSpecialist, {"tenant": tenant}, event.time):
            repo.forget_unheard_adaptations(session, tenant, before=event.time)
            notifier.tell_unheard_adaptations(session, tenant, since=event.time)

    def notify_community(event: Envelope, uow) -> None:
        """Learning communities: keep members' contact points; invite to calls; tell followers of replies."""
        notices.handle(event, uow)

    return {
        "record_jurisdiction": record_jurisdiction,
        "record_default_specialist": record_default_specialist,
        "notify": notify,
        "notify_community": notify_community,
    }


def build_batch_handlers(notifier: Notifier) -> dict:
    """The handlers given a batch's events at once (the consumer's batches; see ``shared.messaging.consumer``)."""

    def notify(events: list[Envelope], uow) -> None:
        """Write the messages of several events, reading what they share once."""
        notifier.handle_many(events, uow)

    return {"notify": notify}
