"""Notifications' queries and locks, always scoped to one tenant; the only place its SQL is written."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notifications.domain.bounces import address_key
from services.notifications.domain.webhooks import TEST_EVENT
from services.notifications.models import (
    ContactPoint,
    DefaultSpecialist,
    Delivery,
    Jurisdiction,
    JurisdictionPreference,
    KnownSession,
    PersonPreference,
    Reminder,
    TrainerSpecialist,
    UndeliverableAddress,
    UnheardAdaptation,
    WebhookSubscription,
)
from shared.changes import ChangeMarker
from shared.db import insert_many, is_postgres
from shared.envelope import Envelope, parse_event
from shared.http.problems import Problem


def not_found(what: str) -> Problem:
    return Problem(404, f"No {what} with this id in your jurisdiction.", title="Not Found")


# --- contact points and preferences -------------------------------------------------------------


def contact_points(tenant: str):
    return select(ContactPoint).where(ContactPoint.tenant == tenant)


def contact_point(session: Session, tenant: str, person: str, *, for_update: bool = False) -> ContactPoint | None:
    stmt = select(ContactPoint).where(ContactPoint.tenant == tenant, ContactPoint.person == person)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def contact_points_of(session: Session, tenant: str, people, *, for_update: bool = False) -> dict[str, ContactPoint]:
    """The contact points of ``people``; locked in one order (by person) when ``for_update``."""
    if not people:
        return {}
    stmt = select(ContactPoint).where(ContactPoint.tenant == tenant, ContactPoint.person.in_(sorted(set(people))))
    if for_update:
        stmt = stmt.order_by(ContactPoint.person).with_for_update()
    return {row.person: row for row in session.scalars(stmt).all()}


def jurisdiction_preferences(tenant: str):
    return select(JurisdictionPreference).where(JurisdictionPreference.tenant == tenant)


def jurisdiction_preference(session: Session, tenant: str, kind: str) -> JurisdictionPreference | None:
    return session.get(JurisdictionPreference, (tenant, kind))


def jurisdiction_preferences_of(session: Session, tenant: str) -> dict[str, JurisdictionPreference]:
    """{kind: the jurisdiction's default} of every kind it has set."""
    return {row.kind: row for row in session.scalars(jurisdiction_preferences(tenant))}


def person_preferences(tenant: str, person: str):
    return select(PersonPreference).where(PersonPreference.tenant == tenant, PersonPreference.person == person)


def person_overrides(
    session: Session, tenant: str, people: list[str], kind: str, channel: str
) -> dict[str, tuple[bool, str]]:
    """{person: (enabled, digest)} of those of ``people`` who chose something for ``kind`` on ``channel``."""
    if not people:
        return {}
    rows = session.execute(
        select(PersonPreference.person, PersonPreference.enabled, PersonPreference.digest).where(
            PersonPreference.tenant == tenant,
            PersonPreference.kind == kind,
            PersonPreference.channel == channel,
            PersonPreference.person.in_(people),
        )
    ).all()
    return {person: (enabled, digest) for person, enabled, digest in rows}


def overrides_of(session: Session, tenant: str, people, channel: str) -> dict[tuple[str, str], tuple[bool, str]]:
    """{(person, kind): (enabled, digest)} of every choice ``people`` made on ``channel``."""
    if not people:
        return {}
    rows = session.execute(
        select(PersonPreference.person, PersonPreference.kind, PersonPreference.enabled, PersonPreference.digest).where(
            PersonPreference.tenant == tenant,
            PersonPreference.channel == channel,
            PersonPreference.person.in_(sorted(set(people))),
        )
    ).all()
    return {(person, kind): (enabled, digest) for person, kind, enabled, digest in rows}


# --- sessions and reminders --------------------------------------------------------------------


def known_session(session: Session, session_id: str, *, for_update: bool = False) -> KnownSession | None:
    return session.get(KnownSession, session_id, with_for_update=for_update or None)


def sessions_of_cohort(session: Session, tenant: str, cohort_id: str) -> list[KnownSession]:
    return list(
        session.scalars(
            select(KnownSession)
            .where(KnownSession.tenant == tenant, KnownSession.cohort_id == cohort_id)
            .order_by(KnownSession.starts_at, KnownSession.session_id)
        )
    )


def sessions_of_cohorts(session: Session, tenant: str, cohort_ids) -> list[KnownSession]:
    if not cohort_ids:
        return []
    return list(
        session.scalars(
            select(KnownSession)
            .where(KnownSession.tenant == tenant, KnownSession.cohort_id.in_(sorted(set(cohort_ids))))
            .order_by(KnownSession.starts_at, KnownSession.session_id)
        )
    )


def trainer_specialist(session: Session, tenant: str, trainer: str) -> TrainerSpecialist | None:
    """Who supports a trainer, as the database holds it now (after an upsert in this transaction too)."""
    return session.get(TrainerSpecialist, (tenant, trainer), populate_existing=True)


def remember_trainer_specialist(
    session: Session, tenant: str, trainer: str, specialist: str, as_of: datetime, trainer_name: str | None = None
) -> None:
    """Keep who supports a trainer, and the trainer's name, as of the plan event that named them; an older
    event changes nothing, and an event without the name keeps the one known."""
    values = {"tenant": tenant, "trainer": trainer, "specialist": specialist, "trainer_name": trainer_name}
    _keep_newest(session, TrainerSpecialist, ["tenant", "trainer"], values, as_of, keep_known=("trainer_name",))


def default_specialist(session: Session, tenant: str) -> str | None:
    """Whom the jurisdiction's new plans get as their specialist, as coaching last said (nobody: None)."""
    return session.scalar(select(DefaultSpecialist.specialist).where(DefaultSpecialist.tenant == tenant))


def remember_default_specialist(session: Session, tenant: str, specialist: str | None, as_of: datetime) -> None:
    """Keep the jurisdiction's default specialist as of the event that named them; an older event changes nothing."""
    _keep_newest(session, DefaultSpecialist, ["tenant"], {"tenant": tenant, "specialist": specialist}, as_of)


def hold_jurisdictions(session: Session, tenants) -> None:
    """Hold these jurisdictions still until this transaction ends: it then handles their events alone.

    Every handler of the events that write a jurisdiction's contact points, sessions, reminders and
    specialists takes this first, in one order (by tenant), and takes nothing before it. A batch of
    events locks rows in its events' order (a registration its person's reminders, then a session's
    change that session's), so two consumers sharing one queue deadlocked in a busy jurisdiction
    (PostgreSQL broke each cycle after a second and the batch went again one by one). Holding the
    jurisdiction first makes them wait their turn instead; two jurisdictions' events still go at once.

    It also keeps who reviews adaptations in step: an adaptation found to have nobody and the event
    naming somebody, handled by two consumers at once, are written one after the other, and the second
    sees the first. Transaction-scoped advisory locks; SQLite's writers already run one at a time.
    """
    if not is_postgres(session):
        return
    for tenant in sorted(set(tenants)):
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"notifications:{tenant}", 0))))


def holds_event(session: Session, model, key: dict, as_of: datetime) -> bool:
    """Whether ``model``'s row for ``key`` is as of this event (it was the newest, not an older one arriving late)."""
    conditions = [getattr(model, name) == value for name, value in key.items()]
    return session.scalar(select(model.as_of).where(*conditions)) == as_of


def keep_unheard_adaptation(session: Session, event: Envelope) -> None:
    """Keep an adaptation nobody was told of, for the specialist an event arriving after it names (once)."""
    statement = (postgresql if is_postgres(session) else sqlite).insert(UnheardAdaptation)
    values = {
        "event_id": event.id,
        "tenant": event.tenant,
        "facilitator": event.data["facilitator"],
        "submitted_at": event.time,
        "event": event.to_json(),
    }
    session.execute(statement.values(**values).on_conflict_do_nothing(index_elements=["event_id"]))
    # An event naming a specialist a month late is a dead letter replayed by hand, long after anyone would
    # want the e-mail (the review queue lists the adaptation): a jurisdiction that never names one keeps a
    # month of them, not every adaptation it ever had.
    forget_unheard_adaptations(session, event.tenant, before=event.time - UNHEARD_KEPT_FOR)


UNHEARD_KEPT_FOR = timedelta(days=30)


def take_unheard_adaptations(
    session: Session, tenant: str, *, since: datetime, facilitator: str | None = None
) -> list[Envelope]:
    """The adaptations kept unheard that were submitted at or after ``since`` (one facilitator's, or any),
    oldest first, taken out of the table: whoever takes them tells someone or keeps them again."""
    conditions = [UnheardAdaptation.tenant == tenant, UnheardAdaptation.submitted_at >= since]
    if facilitator is not None:
        conditions.append(UnheardAdaptation.facilitator == facilitator)
    rows = list(
        session.scalars(
            select(UnheardAdaptation)
            .where(*conditions)
            .order_by(UnheardAdaptation.submitted_at, UnheardAdaptation.event_id)
        )
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return [parse_event(row.event) for row in rows]


def forget_unheard_adaptations(session: Session, tenant: str, *, before: datetime) -> None:
    """Drop the adaptations kept unheard that were submitted before ``before``, when the newest default
    specialist was chosen: that specialist was not theirs, and an older choice arriving later changes nothing."""
    session.execute(
        delete(UnheardAdaptation).where(UnheardAdaptation.tenant == tenant, UnheardAdaptation.submitted_at < before)
    )


def _keep_newest(session: Session, model, key: list[str], values: dict, as_of: datetime, *, keep_known=()) -> None:
    """Write ``values`` as ``model``'s row for ``key`` as of an event's time, unless the row holds a newer one
    (an older event arriving late); a column of ``keep_known`` given as None keeps the value the row has.
    One statement, so two consumers handling two events of one row never collide."""
    statement = (postgresql if is_postgres(session) else sqlite).insert(model).values(**values, as_of=as_of)
    changed = {
        name: func.coalesce(statement.excluded[name], getattr(model, name))
        if name in keep_known
        else statement.excluded[name]
        for name in [*values, "as_of"]
        if name not in key
    }
    session.execute(
        statement.on_conflict_do_update(index_elements=key, set_=changed, where=model.as_of <= statement.excluded.as_of)
    )


def reminders_of_sessions(session: Session, session_ids) -> list[Reminder]:
    """The reminders of these sessions, locked in one order (by id)."""
    if not session_ids:
        return []
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.session_id.in_(sorted(set(session_ids))))
            .order_by(Reminder.id)
            .with_for_update()
        )
    )


def reminders_of_session(session: Session, session_id: str, people: list[str] | None = None) -> list[Reminder]:
    """The session's reminders, locked (only ``people``'s when given)."""
    stmt = select(Reminder).where(Reminder.session_id == session_id)
    if people is not None:
        stmt = stmt.where(Reminder.person.in_(people))
    return list(session.scalars(stmt.with_for_update()))


def reminders_of_person(session: Session, tenant: str, person: str, session_ids: list[str]) -> list[Reminder]:
    if not session_ids:
        return []
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.tenant == tenant, Reminder.person == person, Reminder.session_id.in_(session_ids))
            .with_for_update()
        )
    )


def due_reminders(session: Session, now: datetime, limit: int) -> list[Reminder]:
    """Pending reminders due by ``now``, locked; rows another replica holds are skipped, not waited for."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.status == "pending", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def tenant_reminders(tenant: str):
    return select(Reminder).where(Reminder.tenant == tenant)


# --- the delivery log ---------------------------------------------------------------------------


def deliveries(tenant: str, *, recipient: str | None = None, content_kept: bool | None = None, **filters):
    """A tenant's messages, filtered by any of status, channel, template and person, by the address
    they went to whatever its case, and by whether their content is kept."""
    stmt = select(Delivery).where(Delivery.tenant == tenant)
    if recipient:
        stmt = stmt.where(func.lower(Delivery.recipient) == address_key(recipient))
    if content_kept is not None:
        kept = Delivery.content_deleted_at.is_(None)
        stmt = stmt.where(kept if content_kept else ~kept)
    for name, value in filters.items():
        column = {"status": Delivery.status, "channel": Delivery.channel, "template": Delivery.template}.get(
            name, Delivery.person
        )
        if value:
            stmt = stmt.where(column == value)
    return stmt


def delivery(session: Session, tenant: str, delivery_id: str, *, for_update: bool = False) -> Delivery:
    stmt = select(Delivery).where(Delivery.tenant == tenant, Delivery.id == delivery_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise not_found("delivery")
    return row


def email_by_message_id(session: Session, message_id: str) -> Delivery | None:
    """The e-mail sent with this ``Message-ID`` (in any tenant: a report names no jurisdiction), locked."""
    stmt = select(Delivery).where(Delivery.message_id == message_id, Delivery.channel == "email")
    return session.scalars(stmt.with_for_update()).first()


def deliveries_to_send(
    session: Session, now: datetime, stale_before: datetime, limit: int, *, channel: str | None = None
) -> list[Delivery]:
    """Messages due to be sent (on one channel, if given), and those claimed by a sender that never recorded
    the outcome; locked."""
    stmt = select(Delivery).where(
        or_(
            (Delivery.status == "pending") & (Delivery.next_attempt_at <= now),
            (Delivery.status == "sending") & (Delivery.claimed_at < stale_before),
        )
    )
    if channel is not None:
        stmt = stmt.where(Delivery.channel == channel)
    return list(
        session.scalars(
            stmt.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit).with_for_update(skip_locked=True)
        )
    )


def deliveries_by_id(session: Session, ids: list[str]) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(ids)).with_for_update()))


def mark_sent(session: Session, outcomes: list[tuple[str, int, int | None]], now: datetime) -> None:
    """Record a batch's sent messages in one statement run for every row (one round trip, not one each)."""
    if not outcomes:
        return
    table = Delivery.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("sent_id"), table.c.status == "sending")
        .values(
            status="sent",
            sent_at=now,
            latency_ms=bindparam("sent_latency"),
            last_error=None,
            response_status=bindparam("sent_status"),
        )
    )
    session.execute(
        stmt, [{"sent_id": i, "sent_latency": latency, "sent_status": status} for i, latency, status in outcomes]
    )


# --- retention -------------------------------------------------------------------------------------

SETTLED = ("sent", "failed", "digested")


def delete_old_content(session: Session, written_before: datetime, now: datetime, limit: int) -> int:
    """Delete the bodies and invite of up to ``limit`` settled messages written before a time, oldest first."""
    oldest = (
        select(Delivery.id)
        .where(
            Delivery.content_deleted_at.is_(None),
            Delivery.created_at < written_before,
            Delivery.status.in_(SETTLED),
        )
        .order_by(Delivery.content_deleted_at, Delivery.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # replicas running the job at once take different rows
    )
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(oldest.scalar_subquery()))
        .values(text_body="", html_body="", invite=None, content_deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def delete_old_deliveries(session: Session, content_deleted_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` messages whose content was deleted before a time, oldest first."""
    oldest = (
        select(Delivery.id)
        .where(Delivery.content_deleted_at < content_deleted_before)
        .order_by(Delivery.content_deleted_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # replicas running the job at once take different rows
    )
    result = session.execute(
        delete(Delivery).where(Delivery.id.in_(oldest.scalar_subquery())).execution_options(synchronize_session=False)
    )
    return result.rowcount


def delete_old_reminders(session: Session, model, due_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` reminders (``Reminder`` or ``CallReminder``) sent or dropped that were due
    before a time."""
    oldest = (
        select(model.id)
        .where(model.status.in_(("sent", "dropped")), model.due_at < due_before)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        delete(model).where(model.id.in_(oldest.scalar_subquery())).execution_options(synchronize_session=False)
    )
    return result.rowcount


# A message is one per event, address, channel and template: two people of one event who share an
# address (a family's, a centre's) or a supervisor get it once, whichever of them comes first.
ONE_MESSAGE = {"deliveries": ("event_id", "recipient", "channel", "template")}


def add_deliveries(session: Session, rows: list[dict]) -> None:
    """Write messages of the delivery log, every column given but the change marker (its default); a message
    already written to the same address for the same event is left out."""
    insert_many(session, [(Delivery.__table__, rows)], skip_duplicates=ONE_MESSAGE)


def add_notified(session: Session, contacts: list[dict], reminders: list[dict], deliveries: list[dict]) -> None:
    """Write new contact points, reminders and messages in one round trip, every column given but the
    change marker (its default); messages as ``add_deliveries`` does."""
    insert_many(
        session,
        [(ContactPoint.__table__, contacts), (Reminder.__table__, reminders), (Delivery.__table__, deliveries)],
        skip_duplicates=ONE_MESSAGE,
    )


# --- addresses refused for good ---------------------------------------------------------------


def undeliverable_addresses(tenant: str, *, key: str | None = None, cleared: bool | None = None):
    """A tenant's refused addresses (one, by its key): those still set aside (``cleared=False``), those
    cleared, or both."""
    stmt = select(UndeliverableAddress).where(UndeliverableAddress.tenant == tenant)
    if key is not None:
        stmt = stmt.where(UndeliverableAddress.address_key == key)
    if cleared is not None:
        stmt = stmt.where(
            UndeliverableAddress.cleared_at.is_not(None) if cleared else UndeliverableAddress.cleared_at.is_(None)
        )
    return stmt


def undeliverable_address(session: Session, tenant: str, key: str, *, for_update: bool = False):
    stmt = select(UndeliverableAddress).where(
        UndeliverableAddress.tenant == tenant, UndeliverableAddress.address_key == key
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def _of_pairs(pairs):
    return tuple_(UndeliverableAddress.tenant, UndeliverableAddress.address_key).in_(sorted(pairs))


def set_aside(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], UndeliverableAddress]:
    """Of these (tenant, address key) pairs, those set aside now, by pair."""
    if not pairs:
        return {}
    rows = session.scalars(
        select(UndeliverableAddress).where(_of_pairs(pairs), UndeliverableAddress.cleared_at.is_(None))
    )
    return {(row.tenant, row.address_key): row for row in rows}


def set_address_aside(session: Session, values: dict) -> None:
    """Set an address aside (``UndeliverableAddress``'s columns but the clearing), whether or not it was
    before: one statement, so two senders refused by one address at once never collide."""
    statement = (postgresql if is_postgres(session) else sqlite).insert(UndeliverableAddress).values(**values)
    changed = {name: statement.excluded[name] for name in values if name not in ("tenant", "address_key", "created_at")}
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant", "address_key"],
            set_={
                **changed,
                "cleared_at": None,
                "cleared_by": None,
                "updated_at": values["refused_at"],
                "change": ChangeMarker(),
            },
        )
    )


def clear_addresses(session: Session, pairs: set[tuple[str, str]], now: datetime, by: str) -> None:
    """Clear these (tenant, address key) pairs where they are set aside: their messages are sent again."""
    if not pairs:
        return
    session.execute(
        update(UndeliverableAddress)
        .where(_of_pairs(pairs), UndeliverableAddress.cleared_at.is_(None))
        .values(cleared_at=now, cleared_by=by)
        .execution_options(synchronize_session=False)
    )


def people_at(session: Session, tenant: str, keys) -> dict[str, tuple[list, list]]:
    """By address key: the people of a tenant whose e-mail it is, and those whose supervisor's it is, each
    as (person, name)."""
    found: dict[str, tuple[list, list]] = {key: ([], []) for key in keys}
    if not found:
        return found
    email, supervisor = func.lower(ContactPoint.email), func.lower(ContactPoint.supervisor_email)
    rows = session.execute(
        select(email, supervisor, ContactPoint.person, ContactPoint.name)
        .where(ContactPoint.tenant == tenant, or_(email.in_(list(found)), supervisor.in_(list(found))))
        .order_by(ContactPoint.person)
    )
    for own, supervisors, person, name in rows:
        if own in found:
            found[own][0].append((person, name))
        if supervisors in found:
            found[supervisors][1].append((person, name))
    return found


# --- webhooks -----------------------------------------------------------------------------------


def subscriptions(tenant: str):
    return select(WebhookSubscription).where(WebhookSubscription.tenant == tenant)


def subscription(session: Session, tenant: str, subscription_id: str, *, for_update: bool = False):
    stmt = select(WebhookSubscription).where(
        WebhookSubscription.tenant == tenant, WebhookSubscription.id == subscription_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise not_found("webhook subscription")
    return row


def subscription_for_update(session: Session, subscription_id: str) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, subscription_id, with_for_update=True)


def subscriptions_by_id(session: Session, ids: list[str]) -> dict[str, WebhookSubscription]:
    if not ids:
        return {}
    rows = session.scalars(select(WebhookSubscription).where(WebhookSubscription.id.in_(set(ids))))
    return {row.id: row for row in rows}


def active_subscriptions(session: Session, tenant: str) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.tenant == tenant, WebhookSubscription.status == "active"
            )
        )
    )


def note_webhook_success(session: Session, subscription_id: str) -> None:
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.failing_since.is_not(None))
        .values(failing_since=None)
    )


def deliveries_of_subscription_since(session: Session, tenant: str, subscription_id: str, since: datetime):
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.tenant == tenant,
                Delivery.channel == "webhook",
                Delivery.recipient == subscription_id,
                Delivery.created_at >= since,
                Delivery.status.in_(("sent", "failed")),
                Delivery.content_deleted_at.is_(None),  # a payload deleted cannot be sent again
                Delivery.template != TEST_EVENT,  # a test was the answer to one question, asked then
            )
            .with_for_update()
        )
    )


def held_for_digest(session: Session, now: datetime, limit: int) -> list[Delivery]:
    """Messages held for a digest whose window has ended, locked; another replica's are skipped."""
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.status == "held", Delivery.digest_until <= now)
            .order_by(Delivery.digest_until, Delivery.recipient, Delivery.template, Delivery.created_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


# --- jurisdictions ------------------------------------------------------------------------------


def jurisdiction_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Jurisdiction.code)))
