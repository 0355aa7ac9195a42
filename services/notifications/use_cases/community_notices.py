"""Learning communities' notices: members' contact points, call invitations (.ics) and reminders, thread
replies (now or in a digest) and published syntheses.

Community events carry the national tenant, but each person's contact point and preferences live under
their own jurisdiction (where their tokens set them): messages are written per person under that
jurisdiction, found from the community's memberships, else from a contact point the person already has.
Runs inside the consumer's transaction, like ``notify``: an event handled twice writes its messages once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from services.notifications.community_models import CallReminder, CommunityMembership, KnownCall
from services.notifications.domain.contacts import takes_contact
from services.notifications.domain.invites import invite
from services.notifications.domain.kinds import CALL_REMINDER, COMMUNITY_LEFT, KINDS, is_critical
from services.notifications.domain.reminders import due_times
from services.notifications.models import ContactPoint
from services.notifications.use_cases.notify import Notifier, as_sent, lead_time
from shared.envelope import Envelope
from shared.jurisdictions import NATIONAL

LANGUAGES = ("en", "es")


class CommunityNotices:
    """Turns community events into rows of the delivery log, through the notifier's writing and templates."""

    def __init__(self, notifier: Notifier):
        self.notifier = notifier

    @property
    def clock(self):
        return self.notifier.clock

    def handle(self, event: Envelope, uow) -> int:
        event = as_sent(event)
        session = uow.session
        if event.type in ("content.community.member_joined", "content.community.member_left"):
            self._membership(session, event)
            if event.type.endswith("member_joined"):
                return self._invite_newcomer(session, event)
            return self._cancel_for_leaver(session, event)
        if event.type.startswith("scheduling.community_call."):
            return self._call_changed(session, event)
        if event.type == "content.thread.replied":
            return self._thread_replied(session, event)
        return self._synthesis_published(session, event)

    # --- who is where ------------------------------------------------------------------------------

    def _membership(self, session, event: Envelope) -> None:
        data, at = event.data, event.time
        joined = event.type.endswith("member_joined")
        tenant = data.get("jurisdiction") or NATIONAL
        row = session.get(CommunityMembership, (data["community_id"], data["member"]))
        if row is not None and row.announced_at > at:
            return  # an older announcement arriving late
        row = row or CommunityMembership(community_id=data["community_id"], person=data["member"])
        row.tenant, row.active, row.announced_at = tenant, joined, at
        session.add(row)
        if joined:
            contact = session.scalars(
                select(ContactPoint).where(ContactPoint.tenant == tenant, ContactPoint.person == data["member"])
            ).first()
            if contact is None:
                contact = ContactPoint(tenant=tenant, person=data["member"], language="en")
                session.add(contact)
            # What the member gave content keeps the contact point current, unless a name and e-mail were
            # given since (a registration, a state system); what they left out changes nothing.
            if (data.get("email") or data.get("name")) and takes_contact(contact.contact_given_at, at):
                contact.email = data.get("email") or contact.email
                contact.name = data.get("name") or contact.name
                contact.contact_given_at = at
            if data.get("time_zone"):
                contact.time_zone = data["time_zone"]
            if data.get("language") in LANGUAGES:
                contact.language = data["language"]
        else:
            calls = select(KnownCall.call_id).where(KnownCall.community_id == data["community_id"])
            for reminder in session.scalars(
                select(CallReminder).where(
                    CallReminder.person == data["member"],
                    CallReminder.call_id.in_(calls),
                    CallReminder.status == "pending",
                )
            ):
                reminder.status = "dropped"
        session.flush()

    def _tenants(self, session, community_id: str | None, people: list[str]) -> dict[str, list[str]]:
        """{jurisdiction: people}: a member's from the community, anyone else's from a contact point they have."""
        found: dict[str, str] = {}
        if community_id and people:
            for row in session.scalars(
                select(CommunityMembership).where(
                    CommunityMembership.community_id == community_id, CommunityMembership.person.in_(people)
                )
            ):
                found[row.person] = row.tenant
        rest = [p for p in people if p not in found]
        if rest:
            for contact in session.scalars(
                select(ContactPoint)
                .where(ContactPoint.person.in_(rest), ContactPoint.email.is_not(None))
                .order_by(ContactPoint.updated_at.desc())
            ):
                found.setdefault(contact.person, contact.tenant)
        groups: dict[str, list[str]] = defaultdict(list)
        for person in people:
            if person in found:
                groups[found[person]].append(person)
        return groups

    # --- calls ---------------------------------------------------------------------------------------

    def _call_changed(self, session, event: Envelope) -> int:
        data = event.data
        cancelled = event.type.endswith(".cancelled")
        known = session.get(KnownCall, data["call_id"])
        if known is not None and known.sequence > data["sequence"]:
            return 0  # an older change arriving late: the newer one already told everyone
        if known is None:
            known = KnownCall(call_id=data["call_id"], community_id=data.get("community_id"))
            session.add(known)
        known.sequence, known.cancelled, known.data = data["sequence"], cancelled, dict(data)
        known.starts_at = datetime.fromisoformat(data["starts_at"])
        people = sorted(set(data.get("invitees") or []))
        self._registrant(session, data.get("registrant"), event.time)
        # An audio-conference's registration invites its one registrant: the others keep their reminders.
        only = data["kind"] == "audio_conference" and event.type.endswith(".scheduled")
        groups = self._tenants(session, data.get("community_id"), people)
        self._arrange_reminders(session, known, groups, only=only)
        kind = KINDS[event.type]
        critical_at = known.starts_at
        if data.get("previous_starts_at"):
            critical_at = min(critical_at, datetime.fromisoformat(data["previous_starts_at"]))
        critical = is_critical(kind.template, critical_at, self.clock())
        as_session = {**data, "session_id": data["call_id"]}  # one UID with scheduling's feeds: <call id>@t4t-platform

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "title": data["title"],
                "community": data.get("community_title") or "",
                "agenda": data.get("agenda") or "",
                "reason": data.get("reason") or "",
                "session": self.notifier._details(data, contact, language),
                "invite": invite(
                    kind.invite,
                    [as_session],
                    attendee=contact.email,
                    organizer=self.notifier.organizer,
                    stamp=event.time,
                ),
            }

        written = 0
        for tenant, members in sorted(groups.items()):
            written += self.notifier.tell(
                session, tenant, event.id, event.type, kind.template, members, context, critical=critical, about=data
            )
        return written

    def _registrant(self, session, registrant: dict | None, at) -> None:
        """An audio-conference's registrant is often no member of anything here: the address they gave on
        registering becomes their contact point (under their own jurisdiction), so the invitation reaches them."""
        if not registrant or not registrant.get("email"):
            return
        contact = session.scalars(
            select(ContactPoint).where(
                ContactPoint.tenant == registrant["tenant"], ContactPoint.person == registrant["person"]
            )
        ).first()
        if contact is None:
            contact = ContactPoint(tenant=registrant["tenant"], person=registrant["person"], language="en")
            session.add(contact)
        if takes_contact(contact.contact_given_at, at):  # unless a name and e-mail were given since
            contact.email = registrant["email"]
            contact.name = registrant.get("name") or contact.name
            contact.contact_given_at = at
        session.flush()

    def _invite_newcomer(self, session, event: Envelope) -> int:
        """A member who joins after calls were scheduled gets an invitation to each upcoming one."""
        data = event.data
        person = data["member"]
        row = session.get(CommunityMembership, (data["community_id"], person))
        if row is None or not row.active or row.announced_at != event.time:
            return 0  # a newer leave already applies
        upcoming = session.scalars(
            select(KnownCall)
            .where(
                KnownCall.community_id == data["community_id"],
                KnownCall.cancelled.is_(False),
                KnownCall.starts_at > self.clock(),
            )
            .order_by(KnownCall.starts_at)
        )
        kind = KINDS["scheduling.community_call.scheduled"]
        written = 0
        for known in upcoming:
            call = known.data
            if person in (call.get("invitees") or []):
                continue
            known.data = {**call, "invitees": sorted({*(call.get("invitees") or []), person})}
            self._arrange_reminders(session, known, {row.tenant: [person]}, only=True)
            as_session = {**call, "session_id": call["call_id"]}

            def context(contact: ContactPoint, language: str, call=call, as_session=as_session) -> dict:
                return {
                    "title": call["title"],
                    "community": call.get("community_title") or "",
                    "agenda": call.get("agenda") or "",
                    "reason": "",
                    "session": self.notifier._details(call, contact, language),
                    "invite": invite(
                        "REQUEST",
                        [as_session],
                        attendee=contact.email,
                        organizer=self.notifier.organizer,
                        stamp=event.time,
                    ),
                }

            # Keyed by the joining and the call: one invitation per upcoming call, once.
            written += self.notifier.tell(
                session,
                row.tenant,
                f"{event.id}:{known.call_id}",
                event.type,
                kind.template,
                [person],
                context,
                about=call,
            )
        return written

    def _cancel_for_leaver(self, session, event: Envelope) -> int:
        """A member who leaves gets one message whose CANCEL takes the community's upcoming calls they were
        invited to out of their calendar (scheduling's later changes of those calls no longer name them)."""
        data = event.data
        person = data["member"]
        row = session.get(CommunityMembership, (data["community_id"], person))
        if row is None or row.active or row.announced_at != event.time:
            return 0  # a newer joining already applies: their invitations stand
        calls = []
        for known in session.scalars(
            select(KnownCall)
            .where(
                KnownCall.community_id == data["community_id"],
                KnownCall.cancelled.is_(False),
                KnownCall.starts_at > self.clock(),
            )
            .order_by(KnownCall.starts_at, KnownCall.call_id)
        ):
            if person not in (known.data.get("invitees") or []):
                continue
            known.data = {**known.data, "invitees": [p for p in known.data["invitees"] if p != person]}
            # A SEQUENCE above the one of the invitation they hold, so their calendar takes the CANCEL.
            calls.append({**known.data, "session_id": known.call_id, "sequence": known.sequence + 1})
        if not calls:
            return 0

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "community": data.get("community_title") or "",
                "calls": [
                    {"title": call["title"], "when": self.notifier._details(call, contact, language)["when"]}
                    for call in calls
                ],
                "invite": invite(
                    "CANCEL", calls, attendee=contact.email, organizer=self.notifier.organizer, stamp=event.time
                ),
            }

        # Keyed by the leaving: handled twice, it still writes one message.
        return self.notifier.tell(
            session, row.tenant, event.id, event.type, COMMUNITY_LEFT.template, [person], context, about=data
        )

    def _arrange_reminders(self, session, known: KnownCall, groups: dict[str, list[str]], *, only: bool) -> None:
        """Keep the call's reminders in step: moved with it, dropped when it is cancelled or a person is no
        longer invited (``only``: arrange those of the people named, leave the others as they are)."""
        tenant_of = {person: tenant for tenant, people in groups.items() for person in people}
        existing = list(session.scalars(select(CallReminder).where(CallReminder.call_id == known.call_id)))
        due = {} if known.cancelled else due_times(known.starts_at, self.notifier.config.reminder_minutes, self.clock())
        for reminder in existing:
            if only and reminder.person not in tenant_of:
                continue
            at = due.get(reminder.minutes_before)
            if reminder.person not in tenant_of or at is None:
                if reminder.status == "pending":
                    reminder.status = "dropped"
                continue
            if reminder.due_at != at or reminder.status == "dropped":
                reminder.due_at, reminder.status = at, "pending"
        have = {(r.person, r.minutes_before) for r in existing}
        for person, tenant in sorted(tenant_of.items()):
            for minutes, at in due.items():
                if (person, minutes) not in have:
                    session.add(
                        CallReminder(
                            tenant=tenant,
                            call_id=known.call_id,
                            person=person,
                            minutes_before=minutes,
                            due_at=at,
                            status="pending",
                        )
                    )

    def remind(self, session, reminder: CallReminder) -> int:
        """Write the message of one due reminder (once: the reminder and its due time key it)."""
        known = session.get(KnownCall, reminder.call_id)
        reminder.status = "sent"
        if known is None or known.cancelled or known.starts_at <= self.clock():
            reminder.status = "dropped"
            return 0
        data, minutes = known.data, reminder.minutes_before

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "title": data["title"],
                "community": data.get("community_title") or "",
                "lead_time": lead_time(minutes, language),
                "session": self.notifier._details(data, contact, language),
            }

        key = f"call-reminder:{reminder.id}:{reminder.due_at.isoformat()}"
        return self.notifier.tell(
            session,
            reminder.tenant,
            key,
            "community_call.reminder",
            CALL_REMINDER.template,
            [reminder.person],
            context,
            about=data,
        )

    # --- threads and syntheses -------------------------------------------------------------------------

    def _thread_replied(self, session, event: Envelope) -> int:
        data = event.data
        followers = sorted(set(data.get("followers") or []) - {data["author"]})
        template = KINDS[event.type].template

        def context(contact: ContactPoint, language: str) -> dict:
            return {
                "community": data["community_title"],
                "thread": data["thread_title"],
                "author": data.get("author_name") or data["author"],
                "excerpt": data["excerpt"],
                # One digest line per thread, however many replies it had in the window.
                "digest_key": f"thread:{data['thread_id']}",
            }

        written = 0
        for tenant, people in sorted(self._tenants(session, data["community_id"], followers).items()):
            written += self.notifier.tell(session, tenant, event.id, event.type, template, people, context, about=data)
        return written

    def _synthesis_published(self, session, event: Envelope) -> int:
        data = event.data
        members = sorted(
            session.scalars(
                select(CommunityMembership.person).where(
                    CommunityMembership.community_id == data["community_id"], CommunityMembership.active.is_(True)
                )
            )
        )
        template = KINDS[event.type].template

        def context(contact: ContactPoint, language: str) -> dict:
            return {"community": data["community_title"], "title": data["title"], "digest_key": data["synthesis_id"]}

        written = 0
        for tenant, people in sorted(self._tenants(session, data["community_id"], members).items()):
            written += self.notifier.tell(session, tenant, event.id, event.type, template, people, context, about=data)
        return written


def write_due_call_reminders(db, notices: CommunityNotices, *, now: datetime | None = None, limit: int = 500) -> int:
    """Turn the call reminders due by ``now`` into messages; replicas skip rows another holds."""
    from shared.db import utcnow

    now = now or utcnow()
    handled = 0
    while True:
        with db.unit_of_work() as uow:
            due = list(
                uow.session.scalars(
                    select(CallReminder)
                    .where(CallReminder.status == "pending", CallReminder.due_at <= now)
                    .order_by(CallReminder.due_at, CallReminder.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            for reminder in due:
                notices.remind(uow.session, reminder)
            uow.commit()
        handled += len(due)
        if len(due) < limit:
            return handled
