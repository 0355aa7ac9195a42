"""Events into messages: who hears of an event, in which language and zone, with which invite.

Runs inside the consumer's transaction (the inbox row commits with the messages it writes), so an
event handled twice writes its messages once; the delivery log's unique key holds even when two
consumers race on one event.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from datetime import UTC, date, datetime, timedelta

from services.notifications import repository as repo
from services.notifications.domain.contacts import takes_contact
from services.notifications.domain.invites import invite
from services.notifications.domain.kinds import (
    DIGESTIBLE,
    KINDS,
    REMINDER,
    WEBHOOK_ONLY,
    digest_window_end,
    is_critical,
    wants,
)
from services.notifications.domain.pages import page_of
from services.notifications.domain.reminders import due_times
from services.notifications.domain.unsubscribe import link_for
from services.notifications.domain.when import day, hours, session_details
from services.notifications.models import ContactPoint, Delivery, KnownSession, Reminder, TrainerSpecialist
from services.notifications.rendering import Renderer
from shared.db import new_id, utcnow
from shared.envelope import Envelope
from shared.events import CATALOGUE

CHANNEL = "email"
GENERIC_TITLE = {"en": "your training cohort", "es": "su grupo de formación"}
COMMITMENT_TITLE = {"en": "delivering the training in your community", "es": "impartir la formación en su comunidad"}
FOLLOWUP_TITLE = {"en": "your follow-up with {trainer}", "es": "su seguimiento con {trainer}"}


class Notifier:
    """Turns events into rows of the delivery log (and reminders), ready for the sender."""

    def __init__(self, config, renderer: Renderer | None = None, clock=lambda: datetime.now(UTC)):
        self.config = config
        self.renderer = renderer or Renderer(portal_url=config.portal_url)
        self.clock = clock
        self.mail_domain = config.mail_from.rsplit("@", 1)[-1].strip(" >") or "t4t.localhost"

    # --- events -----------------------------------------------------------------------------

    def handle(self, event: Envelope, uow, lookups: Lookups | None = None) -> int:
        """Write the messages ``event`` causes; return how many."""
        if lookups is None:
            repo.hold_jurisdictions(uow.session, [event.tenant])
            return self._handle_with_own_lookups(event, uow)
        event = as_sent(event)
        data, tenant, session = event.data, event.tenant, uow.session
        self.to_webhooks(session, event, lookups)
        if event.type in WEBHOOK_ONLY:
            return 0
        kind = KINDS[event.type]
        if event.type.startswith("scheduling.session."):
            return self._session_changed(event, session, lookups)
        if event.type.startswith("scheduling.registration."):
            return self._registration_changed(event, session, lookups)

        def tell(people: list[str], context) -> int:
            """Write this event's messages to ``people``, ``context(contact, language)`` filling its template."""
            return self.tell(
                session, tenant, event.id, event.type, kind.template, people, context, lookups=lookups, about=data
            )

        if event.type.startswith("scheduling.request."):
            person = data.get("requested_by")
            context = {"reason": data.get("reason")}
        elif event.type == "scheduling.participant.completed":
            person = data["participant"]
            lookups.name_people(tenant, {person: data.get("participant_name")})
            context = {
                "title": data.get("cohort_title"),
                "sessions": data["sessions_attended"],
                "hours": data["hours"],
                "code": data["certificate_code"],
            }
            return tell(
                [person],
                lambda contact, lang: {**context, "hours": hours(context["hours"], lang), "digest_key": event.subject},
            )
        elif event.type == "content.adaptation.reviewed":
            person = data["facilitator"]
            lookups.name_people(tenant, {data.get("reviewer"): data.get("reviewer_name")})
            context = {
                "decision": data["decision"],
                "comments": data.get("comments") or "",
                "revision": data["revision"],
                "reviewer": data.get("reviewer_name"),
            }
        elif event.type == "content.adaptation.submitted":
            return self._adaptation_submitted(event, session, lookups)
        elif event.type.startswith("coaching.plan."):
            # A trainer's plan opened, or another specialist assigned: the trainer and that specialist hear.
            trainer, specialist = data["trainer"], data.get("specialist")
            if specialist:
                repo.remember_trainer_specialist(
                    session, tenant, trainer, specialist, event.time, trainer_name=data.get("trainer_name")
                )
                if repo.holds_event(session, TrainerSpecialist, {"tenant": tenant, "trainer": trainer}, event.time):
                    # The trainer's adaptations submitted since they were given this specialist, handled
                    # before this event arrived, found nobody: this specialist hears of them now.
                    self.tell_unheard_adaptations(
                        session, tenant, since=event.time, facilitator=trainer, lookups=lookups
                    )
            lookups.name_people(tenant, {trainer: data.get("trainer_name"), specialist: data.get("specialist_name")})
            due = date.fromisoformat(str(data["due_on"]))
            names = {"trainer": data.get("trainer_name") or trainer, "specialist": data.get("specialist_name")}
            return tell(
                [trainer, specialist] if specialist else [trainer],
                lambda contact, lang: {
                    **names,
                    "to_specialist": contact.person == specialist,
                    "due": day(due, lang),
                    "digest_key": event.subject,
                },
            )
        elif event.type.startswith("coaching.commitment."):
            # The trainer's commitment to deliver the training; an overdue or fulfilled one is their specialist's too.
            person, specialist = data["trainer"], data.get("specialist")
            extra = [specialist] if event.type.endswith((".overdue", ".fulfilled")) and specialist else []
            due = date.fromisoformat(str(data["due_on"]))
            fulfilled = date.fromisoformat(str(data["fulfilled_on"])) if data.get("fulfilled_on") else None
            # Commitment events carry no names: the specialist reads the name the trainer's plan events gave.
            known = repo.trainer_specialist(session, tenant, person) if extra else None
            context = {"digest_key": event.subject, "trainer": (known and known.trainer_name) or person}
            return tell(
                [person, *extra],
                lambda contact, lang: {
                    **context,
                    "due": day(due, lang),
                    "fulfilled": day(fulfilled, lang) if fulfilled else None,
                    "title": COMMITMENT_TITLE[lang],
                    "to_specialist": contact.person == specialist and contact.person != person,
                },
            )
        else:  # coaching.followup.due: whoever logged the activity set the follow-up
            person = data["author"]
            follow_up_on = date.fromisoformat(str(data["follow_up_on"]))
            known = repo.trainer_specialist(session, tenant, data["trainer"])
            context = {"trainer": (known and known.trainer_name) or data["trainer"]}
            return tell(
                [person],
                lambda contact, lang: {
                    **context,
                    "due": day(follow_up_on, lang),
                    "title": FOLLOWUP_TITLE[lang].format(trainer=context["trainer"]),
                    "digest_key": event.subject,
                },
            )
        if not person:
            return 0
        context["digest_key"] = event.subject
        return tell([person], lambda contact, lang: context)

    def _adaptation_submitted(self, event: Envelope, session, lookups: Lookups) -> int:
        """The trainer's specialist reviews it, as coaching's plan events last named them. A facilitator with
        none (trained before the platform: no plan) has the jurisdiction's default specialist told. With
        neither known, it is kept for the event naming one that may still arrive (``tell_unheard_adaptations``)."""
        data, tenant = event.data, event.tenant
        lookups.name_people(tenant, {data["facilitator"]: data.get("facilitator_name")})
        pair = repo.trainer_specialist(session, tenant, data["facilitator"])
        person = pair.specialist if pair is not None else repo.default_specialist(session, tenant)
        if not person:
            repo.keep_unheard_adaptation(session, event)
            return 0
        position, module_title = data.get("module_position"), data.get("module_title")
        context = {
            "title": data["title"],
            "facilitator": data.get("facilitator_name") or data["facilitator"],
            "module": f"{position}, {module_title}" if position and module_title else module_title,
            "revision": data["revision"],
            "changed": sum(1 for d in (data.get("components") or {}).values() if d != "kept"),
            "as_default": pair is None,
            "digest_key": event.subject,
        }
        template = KINDS[event.type].template
        return self.tell(
            session,
            tenant,
            event.id,
            event.type,
            template,
            [person],
            lambda contact, lang: context,
            lookups=lookups,
            about=data,
        )

    def tell_unheard_adaptations(
        self, session, tenant: str, *, since: datetime, facilitator: str | None = None, lookups: Lookups | None = None
    ) -> int:
        """Tell the specialist now known of the adaptations submitted since ``since`` that found nobody when they
        were handled (one facilitator's, or any in the jurisdiction); return how many messages were written.

        An adaptation and the event naming its specialist come from two services, and the adaptation may be
        handled first although written after: kept unheard then, it is told now, as if it had come second.
        """
        own = lookups is None
        lookups = lookups or Lookups(session)
        written = sum(
            self._adaptation_submitted(event, session, lookups)
            for event in repo.take_unheard_adaptations(session, tenant, since=since, facilitator=facilitator)
        )
        if own:
            lookups.finish()
        return written

    def _handle_with_own_lookups(self, event: Envelope, uow) -> int:
        lookups = Lookups(uow.session)
        written = self.handle(event, uow, lookups)
        lookups.finish()
        return written

    def handle_many(self, events: list[Envelope], uow) -> int:
        """Write the messages of several events in one transaction, in their order; return how many.

        What the events read (contact points, preferences, subscriptions, the cohorts' sessions and
        their reminders) is loaded once for a run of events, not once per event. A session's change
        may add sessions and reminders the loaded ones do not show: it is handled on its own, and
        the events after it load again.
        """
        repo.hold_jurisdictions(uow.session, {event.tenant for event in events})
        written, run = 0, []
        for event in [*events, None]:
            if event is not None and not event.type.startswith("scheduling.session."):
                run.append(event)
                continue
            if run:
                lookups = Preloaded(uow.session, run)
                written += sum(self.handle(e, uow, lookups) for e in run)
                lookups.finish()
                run = []
            if event is not None:
                written += self._handle_with_own_lookups(event, uow)  # its jurisdiction is held already
        return written

    def _session_changed(self, event: Envelope, session, lookups: Lookups) -> int:
        data, tenant = event.data, event.tenant
        cancelled = event.type.endswith(".cancelled")
        known = repo.known_session(session, data["session_id"], for_update=True)
        if known is not None and known.sequence > data["sequence"]:
            return 0  # an older change arriving late: the newer one already told everyone
        if known is None:
            known = KnownSession(session_id=data["session_id"], tenant=tenant, cohort_id=data["cohort_id"])
            session.add(known)
        known.sequence, known.cancelled, known.data = data["sequence"], cancelled, dict(data)
        known.starts_at = datetime.fromisoformat(data["starts_at"])
        people = sorted(set(data.get("registrant_ids") or []))
        self._arrange_reminders(session, known, people, lookups)
        template = KINDS[event.type].template
        critical_at = known.starts_at
        if data.get("previous_starts_at"):
            critical_at = min(critical_at, datetime.fromisoformat(data["previous_starts_at"]))
        critical = is_critical(template, critical_at, self.clock())
        audience = sorted(set(people) | set(data.get("facilitators") or []))
        method = KINDS[event.type].invite

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "title": data["title"],
                "reason": data.get("reason") or "",
                "session": self._details(data, contact, language),
                "invite": invite(method, [data], attendee=contact.email, organizer=self.organizer, stamp=event.time),
            }

        return self.tell(
            session,
            tenant,
            event.id,
            event.type,
            template,
            audience,
            context,
            critical=critical,
            lookups=lookups,
            about=data,
        )

    def _registration_changed(self, event: Envelope, session, lookups: Lookups) -> int:
        data, tenant = event.data, event.tenant
        person, email, name = data["participant"], data.get("email"), data.get("participant_name")
        language = data.get("participant_language")
        given = datetime.fromisoformat(data["contact_given_at"]) if data.get("contact_given_at") else None
        contact = lookups.contact_point_for_update(tenant, person)
        # Rosters and registrations carry the e-mail, name and language a person gave; the latest given
        # keeps the contact point current, and what an event leaves out changes nothing.
        if contact is None:
            if email:
                contact = lookups.add_contact_point(tenant, person, email, name, given, language)
        elif takes_contact(contact.contact_given_at, given) and (
            (email and contact.email != email)
            or (name and contact.name != name)
            or (language and contact.language != language)
            or (given and given != contact.contact_given_at)
        ):
            contact.email, contact.name = email or contact.email, name or contact.name
            contact.language = language or contact.language
            contact.contact_given_at = given or contact.contact_given_at
            lookups.changed_contact_point(contact)
        sessions = [s for s in lookups.sessions_of_cohort(tenant, data["cohort_id"]) if not s.cancelled]
        upcoming = [s for s in sessions if s.starts_at > self.clock()]
        confirmed = data["status"] == "confirmed"
        for known in upcoming:
            people = set(known.data.get("registrant_ids") or [])
            people = people | {person} if confirmed else people - {person}
            known.data = {**known.data, "registrant_ids": sorted(people)}
        if confirmed:
            for known in upcoming:
                self._arrange_reminders(session, known, [person], lookups, only=True)
        else:
            for reminder in lookups.reminders_of_person(tenant, person, [s.session_id for s in upcoming]):
                if reminder.status == "pending":
                    reminder.status = "dropped"
        kind = KINDS[event.type]
        method = kind.invite

        def context(contact: ContactPoint, language: str) -> dict:
            first = upcoming[0].data if upcoming else None
            return {
                # Events published before scheduling named the cohort fall back to a generic title.
                "title": data.get("cohort_title") or GENERIC_TITLE[language],
                "cohort": data.get("cohort_title"),
                "waitlist_position": data.get("waitlist_position"),
                "sessions_count": len(upcoming) if method else 0,
                "session": self._details(first, contact, language) if first and method == "REQUEST" else None,
                "invite": invite(
                    method,
                    [s.data for s in upcoming],
                    attendee=contact.email,
                    organizer=self.organizer,
                    stamp=event.time,
                )
                if method and upcoming
                else None,
            }

        return self.tell(
            session, tenant, event.id, event.type, kind.template, [person], context, lookups=lookups, about=data
        )

    def to_webhooks(self, session, event: Envelope, lookups: Lookups | None = None) -> int:
        """One signed message per active subscription of the tenant that asked for this event type."""
        if lookups is None:
            lookups = Lookups(session)
            written = self.to_webhooks(session, event, lookups)
            lookups.finish()
            return written
        body = None
        written = 0
        for hook in lookups.subscriptions(event.tenant):
            if event.type not in hook.event_types:
                continue
            body = body or event.to_json()
            lookups.add_delivery(
                self._message_row(
                    event.tenant,
                    event.id,
                    event.type,
                    recipient=hook.id,
                    person=None,
                    channel="webhook",
                    template=event.type,
                    message_id=f"msg_{uuid.uuid4().hex}",
                    language="",
                    subject=event.type,
                    text_body=body,
                    html_body="",
                    invite=None,
                )
            )
            written += 1
        return written

    # --- reminders --------------------------------------------------------------------------

    def _arrange_reminders(
        self, session, known: KnownSession, people: list[str], lookups: Lookups, *, only: bool = False
    ) -> None:
        """Keep the session's reminders in step with it: moved with it, dropped when it is cancelled.

        ``only``: arrange the reminders of ``people`` alone (a registration); otherwise ``people`` are
        every confirmed registrant, and the reminders of anyone else are dropped.
        """
        # A registration reads its own person's reminders, not the whole cohort's once per registrant.
        existing = lookups.reminders_of_session(known.session_id, people if only else None)
        due = {} if known.cancelled else due_times(known.starts_at, self.config.reminder_minutes, self.clock())
        wanted = set(people)
        for reminder in existing:
            at = due.get(reminder.minutes_before)
            if reminder.person not in wanted or at is None:
                if reminder.status == "pending":
                    reminder.status = "dropped"
                continue
            if reminder.due_at != at or reminder.status == "dropped":
                reminder.due_at, reminder.status = at, "pending"
        have = {(r.person, r.minutes_before) for r in existing}
        for person in sorted(wanted):
            for minutes, at in due.items():
                if (person, minutes) not in have:
                    lookups.add_reminder(known.tenant, known.session_id, person, minutes, at)

    def remind(self, session, reminder: Reminder) -> int:
        """Write the message of one due reminder (once: the reminder and its due time key it)."""
        known = repo.known_session(session, reminder.session_id)
        reminder.status = "sent"
        if known is None or known.cancelled or known.starts_at <= self.clock():
            reminder.status = "dropped"
            return 0
        data = known.data
        minutes = reminder.minutes_before

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "title": data["title"],
                "minutes_before": minutes,
                "lead_time": lead_time(minutes, language),
                "session": self._details(data, contact, language),
            }

        key = f"reminder:{reminder.id}:{reminder.due_at.isoformat()}"
        return self.tell(
            session, known.tenant, key, "session.reminder", REMINDER.template, [reminder.person], context, about=data
        )

    # --- writing messages -------------------------------------------------------------------

    @property
    def organizer(self) -> str:
        return self.config.mail_from.rsplit("<", 1)[-1].strip(" >")

    def tell(
        self,
        session,
        tenant: str,
        event_id: str,
        event_type: str,
        template: str,
        people,
        context,
        *,
        critical=False,
        lookups: Lookups | None = None,
        about: dict | None = None,
    ) -> int:
        """Write one message per person who is reachable and wants it (plus a supervisor's copy where asked).

        ``about``: the event's data (a reminder's session or call), which names the portal's page each
        person's message links to."""
        if lookups is None:
            lookups = Lookups(session)
            written = self.tell(
                session,
                tenant,
                event_id,
                event_type,
                template,
                people,
                context,
                critical=critical,
                lookups=lookups,
                about=about,
            )
            lookups.finish()
            return written
        people = list(dict.fromkeys(people))
        contacts = lookups.contact_points(tenant, people)
        default = lookups.jurisdiction_preference(tenant, template)
        overrides = lookups.person_overrides(tenant, people, template, CHANNEL)
        written = 0
        copies: dict[str, tuple[str, dict, list[str]]] = {}  # supervisor's address -> (language, values, people)
        for person in people:
            contact = contacts.get(person)
            if contact is None or not contact.email:
                continue  # nobody to write to; the delivery log only holds messages that can go
            enabled, digest = overrides.get(person, (None, "none"))
            if not wants(
                template,
                CHANNEL,
                jurisdiction_default=default.email if default is not None else None,
                person_override=enabled,
                critical=critical,
            ):
                continue
            language = contact.language if contact.language in GENERIC_TITLE else "en"
            values = context(contact, language)
            unsubscribe = self.unsubscribe_link(tenant, person, template)
            rendered = self.renderer.render(
                template,
                language,
                values,
                page=page_of(template, about, person),
                unsubscribe=bool(unsubscribe),
                greet=True,
            ).for_reader(name=contact.name, unsubscribe=unsubscribe)
            message = self._email_row(
                tenant, event_id, event_type, template, contact.email, person, language, rendered, values
            )
            if digest != "none" and template in DIGESTIBLE and not critical:
                # Held for the person's digest: one message per window, one line per thing it is about.
                message["status"] = "held"
                message["digest_until"] = digest_window_end(self.clock(), digest)
                message["digest_key"] = str(values.get("digest_key") or event_id)[:200]
            lookups.add_delivery(message)
            written += 1
            if default is not None and default.copy_supervisor and contact.supervisor_email:
                copies.setdefault(contact.supervisor_email, (language, values, []))[2].append(contact.email)
        # One copy per supervisor, naming each of their people; after the people's own messages, so that a
        # supervisor who is one of them gets their own message (one message per address and event).
        for address, (language, values, emails) in copies.items():
            copy_of = ", ".join(dict.fromkeys(emails))
            copy = self.renderer.render(template, language, {**values, "invite": None}, copy_of=copy_of)
            lookups.add_delivery(
                self._email_row(tenant, event_id, event_type, template, address, None, language, copy, {})
            )
            written += 1
        return written

    def unsubscribe_link(self, tenant: str, person: str | None, template: str) -> str | None:
        """The link the e-mail's footer and its List-Unsubscribe header give (None: no link)."""
        config = self.config
        return link_for(config.unsubscribe_secret, config.public_base_url, tenant, person, template)

    def _delivery(self, tenant, event_id, event_type, template, recipient, person, language, rendered, values):
        """One e-mail of the delivery log, to add to a session."""
        return Delivery(
            **self._email_row(tenant, event_id, event_type, template, recipient, person, language, rendered, values)
        )

    def _email_row(self, tenant, event_id, event_type, template, recipient, person, language, rendered, values):
        return self._message_row(
            tenant,
            event_id,
            event_type,
            recipient=recipient,
            person=person,
            channel=CHANNEL,
            template=template,
            message_id=f"<{uuid.uuid4()}@{self.mail_domain}>",
            language=language,
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            invite=values.get("invite"),
        )

    def _message_row(self, tenant: str, event_id: str, event_type: str, **values) -> dict:
        """A row of the delivery log with every column but its change marker (see ``Preloaded.finish``)."""
        now = self.clock()
        return {
            "id": new_id(),
            "tenant": tenant,
            "event_id": event_id,
            "event_type": event_type,
            **values,
            "status": "pending",
            "attempts": 0,
            "ambiguous_sends": 0,
            "last_error": None,
            "created_at": utcnow(),
            "next_attempt_at": now,
            "claimed_at": None,
            "sent_at": None,
            "latency_ms": None,
            "response_status": None,
            "digest_until": None,
            "digest_key": None,
        }

    def _details(self, data: dict | None, contact: ContactPoint, language: str) -> dict | None:
        return None if data is None else session_details(data, contact.time_zone, language)


def as_sent(event: Envelope) -> Envelope:
    """The event with its data as its publisher wrote it (JSON values): the consumer hands it over loaded by
    the catalogue's schema, instants as datetimes, which neither a JSON column nor a webhook body takes."""
    schema = _schema(event.type)
    if schema is None:
        return event
    return dataclasses.replace(event, data=schema.dump(event.data))


@functools.cache
def _schema(event_type: str):
    """The catalogue's schema of ``event_type``, built once (building one cost more than dumping with it)."""
    spec = CATALOGUE.get(event_type)
    return spec.schema() if spec is not None else None


def lead_time(minutes: int, language: str) -> str:
    span = timedelta(minutes=minutes)
    hours, rest = divmod(int(span.total_seconds()) // 60, 60)
    if language == "es":
        return f"{hours} hora{'s' if hours != 1 else ''}" if hours and not rest else f"{minutes} minutos"
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours and not rest else f"{minutes} minutes"


@dataclasses.dataclass(slots=True)
class NewContactPoint:
    """A contact point a batch adds, read like a loaded one and written with the batch (``Preloaded.finish``)."""

    id: str
    tenant: str
    person: str
    email: str
    name: str | None = None
    time_zone: str | None = None
    language: str = "en"
    supervisor_email: str | None = None
    contact_given_at: datetime | None = None


@dataclasses.dataclass(slots=True)
class NewReminder:
    """A reminder a batch adds, read and changed like a loaded one until the batch writes it."""

    id: str
    tenant: str
    session_id: str
    person: str
    minutes_before: int
    due_at: datetime
    status: str = "pending"


class Lookups:
    """What handling an event reads, asked of the repository as it is needed (one event at a time)."""

    def __init__(self, session):
        self.session = session
        self._deliveries: list[dict] = []

    def subscriptions(self, tenant: str) -> list:
        return repo.active_subscriptions(self.session, tenant)

    def contact_point_for_update(self, tenant: str, person: str) -> ContactPoint | None:
        return repo.contact_point(self.session, tenant, person, for_update=True)

    def add_contact_point(
        self,
        tenant: str,
        person: str,
        email: str,
        name: str | None,
        given_at: datetime | None = None,
        language: str | None = None,
    ) -> ContactPoint:
        contact = ContactPoint(
            id=new_id(),
            tenant=tenant,
            person=person,
            language=language or "en",
            email=email,
            name=name,
            contact_given_at=given_at,
        )
        self.session.add(contact)
        self.session.flush()  # a second writer of the same person fails here, before any message is written
        return contact

    def changed_contact_point(self, contact: ContactPoint) -> None:
        self.session.flush()

    def name_people(self, tenant: str, names: dict) -> None:
        """Give a name to the contact points that know none, as another service's event names the person (a
        plan its trainer and specialist, an adaptation its facilitator): e-mails greet people by it. A name
        already held (a registration's, a state system's) stays as it is."""
        wanted = {person: name for person, name in names.items() if person and name}
        if not wanted:
            return
        for person, contact in self.contact_points(tenant, list(wanted)).items():
            if not contact.name:
                contact.name = wanted[person]
                self.changed_contact_point(contact)

    def contact_points(self, tenant: str, people: list[str]) -> dict[str, ContactPoint]:
        return repo.contact_points_of(self.session, tenant, people)

    def sessions_of_cohort(self, tenant: str, cohort_id: str) -> list[KnownSession]:
        return repo.sessions_of_cohort(self.session, tenant, cohort_id)

    def reminders_of_session(self, session_id: str, people: list[str] | None = None) -> list[Reminder]:
        """The session's reminders (only ``people``'s when given)."""
        return repo.reminders_of_session(self.session, session_id, people)

    def add_reminder(self, tenant: str, session_id: str, person: str, minutes_before: int, due_at: datetime) -> None:
        self.session.add(
            Reminder(
                id=new_id(),
                tenant=tenant,
                session_id=session_id,
                person=person,
                minutes_before=minutes_before,
                due_at=due_at,
                status="pending",
            )
        )

    def reminders_of_person(self, tenant: str, person: str, session_ids: list[str]) -> list[Reminder]:
        return repo.reminders_of_person(self.session, tenant, person, session_ids)

    def jurisdiction_preference(self, tenant: str, template: str):
        return repo.jurisdiction_preference(self.session, tenant, template)

    def person_overrides(self, tenant: str, people: list[str], template: str, channel: str) -> dict:
        return repo.person_overrides(self.session, tenant, people, template, channel)

    def add_delivery(self, row: dict) -> None:
        self._deliveries.append(row)

    def finish(self) -> None:
        """Write the messages added: one statement for them all, where the ORM spent most of a batch's
        (or a session change's) time building and converting a statement of every row's values
        (bench.pipeline, bench.notifications)."""
        if self._deliveries:
            repo.add_deliveries(self.session, self._deliveries)
        self._deliveries = []


class Preloaded(Lookups):
    """The same for a run of events, loaded for all of them in a few queries per tenant.

    The batch's own writes are kept in step (a contact point or reminder one event adds is what the
    next one finds); a person or cohort the loading did not foresee is asked of the repository.
    """

    def __init__(self, session, events: list[Envelope]):
        super().__init__(session)
        people: dict[str, set[str]] = {}
        cohorts: dict[str, set[str]] = {}
        for event in events:
            people.setdefault(event.tenant, set()).update(p for p in audience(event) if p)
            if event.type.startswith("scheduling.registration."):
                cohorts.setdefault(event.tenant, set()).add(str(event.data["cohort_id"]))
        self._subscriptions: dict[str, list] = {}
        self._defaults: dict[str, dict] = {}
        self._contacts: dict[tuple[str, str], ContactPoint | None] = {}
        self._overrides: dict[tuple[str, str], dict] = {}
        self._cohorts: dict[tuple[str, str], list[KnownSession]] = {}
        # session id -> person -> their reminders of it: a registration looks up its own person's.
        self._reminders: dict[str, dict[str, list[Reminder]]] = {}
        self._new_contacts: list[NewContactPoint] = []
        self._new_reminders: list[NewReminder] = []
        for tenant in sorted(people):
            self._subscriptions[tenant] = repo.active_subscriptions(session, tenant)
            self._defaults[tenant] = repo.jurisdiction_preferences_of(session, tenant)
            found = repo.contact_points_of(session, tenant, people[tenant], for_update=True)
            self._contacts.update({(tenant, p): found.get(p) for p in people[tenant]})
            chosen = repo.overrides_of(session, tenant, people[tenant], CHANNEL)
            for person in people[tenant]:
                self._overrides[(tenant, person)] = {k: v for (p, k), v in chosen.items() if p == person}
            known = repo.sessions_of_cohorts(session, tenant, cohorts.get(tenant, ()))
            for cohort in cohorts.get(tenant, ()):
                self._cohorts[(tenant, cohort)] = [k for k in known if k.cohort_id == cohort]
            ids = [k.session_id for k in known]
            self._reminders.update({i: {} for i in ids})
            for reminder in repo.reminders_of_sessions(session, ids):
                self._reminders[reminder.session_id].setdefault(reminder.person, []).append(reminder)

    def subscriptions(self, tenant: str) -> list:
        if tenant not in self._subscriptions:
            self._subscriptions[tenant] = super().subscriptions(tenant)
        return self._subscriptions[tenant]

    def contact_point_for_update(self, tenant: str, person: str) -> ContactPoint | None:
        if (tenant, person) not in self._contacts:
            self._contacts[(tenant, person)] = super().contact_point_for_update(tenant, person)
        return self._contacts[(tenant, person)]

    def add_contact_point(
        self,
        tenant: str,
        person: str,
        email: str,
        name: str | None,
        given_at: datetime | None = None,
        language: str | None = None,
    ) -> NewContactPoint:
        # Written with the batch's messages (``finish``): the ORM's flush of one row at a time was
        # the largest part of a batch of registrations, and building ORM objects the next (bench.pipeline).
        contact = NewContactPoint(
            id=new_id(),
            tenant=tenant,
            person=person,
            email=email,
            name=name,
            language=language or "en",
            contact_given_at=given_at,
        )
        self._contacts[(tenant, person)] = contact
        self._new_contacts.append(contact)
        return contact

    def changed_contact_point(self, contact: ContactPoint) -> None:
        self._contacts[(contact.tenant, contact.person)] = contact

    def contact_points(self, tenant: str, people: list[str]) -> dict[str, ContactPoint]:
        missing = [p for p in people if (tenant, p) not in self._contacts]
        if missing:
            found = super().contact_points(tenant, missing)
            self._contacts.update({(tenant, p): found.get(p) for p in missing})
        return {p: self._contacts[(tenant, p)] for p in people if self._contacts[(tenant, p)] is not None}

    def sessions_of_cohort(self, tenant: str, cohort_id: str) -> list[KnownSession]:
        if (tenant, cohort_id) not in self._cohorts:
            return super().sessions_of_cohort(tenant, cohort_id)
        return self._cohorts[(tenant, cohort_id)]

    def _reminders_by_person(self, session_id: str) -> dict[str, list[Reminder]]:
        if session_id not in self._reminders:
            self._reminders[session_id] = {}
            for reminder in super().reminders_of_session(session_id):
                self._reminders[session_id].setdefault(reminder.person, []).append(reminder)
        return self._reminders[session_id]

    def reminders_of_session(self, session_id: str, people: list[str] | None = None) -> list[Reminder]:
        by_person = self._reminders_by_person(session_id)
        return [r for p in (by_person if people is None else people) for r in by_person.get(p, ())]

    def add_reminder(self, tenant: str, session_id: str, person: str, minutes_before: int, due_at: datetime) -> None:
        # Written in ``finish`` with the values it has then (a later event of the batch may drop it).
        reminder = NewReminder(new_id(), tenant, session_id, person, minutes_before, due_at)
        self._reminders_by_person(session_id).setdefault(person, []).append(reminder)
        self._new_reminders.append(reminder)

    def finish(self) -> None:
        """Write the contact points, reminders and messages the run added, in one statement."""
        now = utcnow()
        contacts = [
            {
                "id": c.id,
                "tenant": c.tenant,
                "person": c.person,
                "name": c.name,
                "email": c.email,
                "time_zone": c.time_zone,
                "language": c.language,
                "supervisor_email": c.supervisor_email,
                "contact_given_at": c.contact_given_at,
                "created_at": now,
                "updated_at": now,
            }
            for c in self._new_contacts
        ]
        reminders = [
            {
                "id": r.id,
                "tenant": r.tenant,
                "session_id": r.session_id,
                "person": r.person,
                "minutes_before": r.minutes_before,
                "due_at": r.due_at,
                "status": r.status,
            }
            for r in self._new_reminders
        ]
        repo.add_notified(self.session, contacts, reminders, self._deliveries)
        self._new_contacts, self._new_reminders, self._deliveries = [], [], []

    def reminders_of_person(self, tenant: str, person: str, session_ids: list[str]) -> list[Reminder]:
        return [
            r
            for session_id in session_ids
            for r in self.reminders_of_session(session_id, [person])
            if r.tenant == tenant
        ]

    def jurisdiction_preference(self, tenant: str, template: str):
        if tenant not in self._defaults:
            self._defaults[tenant] = repo.jurisdiction_preferences_of(self.session, tenant)
        return self._defaults[tenant].get(template)

    def person_overrides(self, tenant: str, people: list[str], template: str, channel: str) -> dict:
        if channel != CHANNEL or any((tenant, p) not in self._overrides for p in people):
            return super().person_overrides(tenant, people, template, channel)
        return {p: self._overrides[(tenant, p)][template] for p in people if template in self._overrides[(tenant, p)]}


def audience(event: Envelope) -> list[str]:
    """The people an event other than a session's change may write to (what a batch loads ahead)."""
    data = event.data
    if event.type.startswith("scheduling.registration."):
        return [data["participant"]]
    if event.type.startswith("scheduling.request."):
        return [data.get("requested_by")]
    if event.type == "scheduling.participant.completed":
        return [data["participant"]]
    if event.type == "content.adaptation.reviewed":
        return [data["facilitator"]]
    if event.type.startswith(("coaching.commitment.", "coaching.plan.")):
        return [data["trainer"], data.get("specialist")]
    if event.type == "coaching.followup.due":
        return [data["author"]]
    return []
