"""Learning communities' notices, from events shaped exactly as content's and scheduling's contract says:
members' contact points, call invitations with an .ics per invitee, reminders, thread replies (now or in a
digest), through the consumer (and through real RabbitMQ) to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select

from services.notifications.community_models import CallReminder
from services.notifications.models import ContactPoint
from services.notifications.use_cases.community_notices import CommunityNotices, write_due_call_reminders
from services.notifications.use_cases.digests import write_due_digests
from shared.envelope import make_event, parse_event
from shared.messaging.bus import Outgoing, Publisher
from shared.messaging.consumer import EventConsumer
from shared.testing import wait_until
from tests.shared.probe import Running

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
COMMUNITY = "c0mmun17-0000-4000-8000-000000000001"
CALL = "ca11ca11-0000-4000-8000-000000000001"
TITLE = "Infant/Toddler Specialist Networks"
NY = ZoneInfo("America/New_York")

MEMBERS = [  # (sub, kind, jurisdiction, email, time zone, language)
    ("ana-ca", "team_member", "CA", "ana@example.org", "America/Los_Angeles", "en"),
    ("lupe-pr", "team_member", "PR", "lupe@example.org", "America/Puerto_Rico", "es"),
    ("tala-ctuir", "team_member", "CTUIR", "tala@example.org", None, None),
    ("staff-itcc", "staff", None, "staff@example.org", "America/New_York", "en"),
]


def content_event(type_: str, data: dict):
    return make_event(type_, source="/services/content", subject=data["community_id"], tenant="national", data=data)


def joined(sub, kind, jurisdiction, email, time_zone, language, verb="member_joined"):
    return content_event(
        f"content.community.{verb}",
        {
            "community_id": COMMUNITY,
            "community_title": TITLE,
            "member": sub,
            "kind": kind,
            "jurisdiction": jurisdiction,
            "name": sub.split("-")[0].title(),
            "email": email,
            "time_zone": time_zone,
            "language": language,
        },
    )


def call_data(starts_at: datetime, *, sequence=0, invitees=None, **extra) -> dict:
    ends_at = starts_at + timedelta(minutes=50)
    data = {
        "call_id": CALL,
        "community_id": COMMUNITY,
        "community_title": TITLE,
        "kind": "interactive_call",
        "title": "Monthly community call",
        "agenda": "Introductions. State updates.",
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "time_zone": "America/New_York",
        "local_start": starts_at.astimezone(NY).isoformat(),
        "local_end": ends_at.astimezone(NY).isoformat(),
        "place": None,
        "meeting_url": "https://meet.example.org/itsn",
        "invitees": invitees if invitees is not None else sorted(m[0] for m in MEMBERS),
        "sequence": sequence,
        "reason": None,
        "previous_starts_at": None,
    }
    data.update(extra)
    return data


def call_event(verb: str, data: dict):
    return make_event(
        f"scheduling.community_call.{verb}",
        source="/services/scheduling",
        subject=data["call_id"],
        tenant="national",
        data=data,
    )


def replied(reply: int, followers=("ana-ca", "lupe-pr", "staff-itcc"), author="tala-ctuir", thread="thread-1"):
    return content_event(
        "content.thread.replied",
        {
            "community_id": COMMUNITY,
            "community_title": TITLE,
            "thread_id": thread,
            "thread_title": "Credentials crosswalk",
            "reply_id": f"reply-{reply}",
            "author": author,
            "author_name": "Tala",
            "excerpt": f"Reply {reply}: our Tribe maps the CDA onto level 2.",
            "followers": list(followers),
            "replied_at": datetime.now(UTC).isoformat(),
        },
    )


class DeliverCommunity:
    """Hands events to notifications' community handler as the broker would (inbox and all)."""

    def __init__(self, deliver):
        self.deliver = deliver
        ctx = deliver.ctx
        topology = ctx.extra["bus"].topology
        sub = next(s for s in topology.for_consumer("notifications") if s.handler == "notify_community")
        self.queue = topology.work_queue(sub)

    def __call__(self, *events) -> None:
        for event in events:
            parsed = parse_event(event.to_json())
            self.deliver.consumer.handle_once(self.queue, parsed, self.deliver.handlers["notify_community"])


@pytest.fixture
def community(deliver):
    feed = DeliverCommunity(deliver)
    feed(*(joined(*m) for m in MEMBERS))
    return feed


def invite_of(message):
    """The message's calendar invite, read by an independent iCalendar parser (vobject)."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return vobject.readOne(part.get_content())


def next_month() -> datetime:
    return (datetime.now(UTC) + timedelta(days=30)).replace(hour=19, minute=0, second=0, microsecond=0)


@BOTH
def test_members_contact_points_come_from_content_each_under_their_jurisdiction(notifications_ctx, community):
    with notifications_ctx.db.session() as db:
        rows = {
            (c.tenant, c.person): (c.name, c.email, c.language, c.time_zone) for c in db.scalars(select(ContactPoint))
        }
    assert rows == {
        ("CA", "ana-ca"): ("Ana", "ana@example.org", "en", "America/Los_Angeles"),
        ("PR", "lupe-pr"): ("Lupe", "lupe@example.org", "es", "America/Puerto_Rico"),
        ("CTUIR", "tala-ctuir"): ("Tala", "tala@example.org", "en", None),
        ("US", "staff-itcc"): ("Staff", "staff@example.org", "en", "America/New_York"),
    }


@BOTH
def test_each_invitee_gets_an_invitation_then_an_update_then_a_cancellation_of_one_uid(
    notifications_ctx, community, deliver, smtp_server
):
    starts = next_month()
    scheduled = call_event("scheduled", call_data(starts))
    community(scheduled, scheduled)  # redelivered under the same id: handled once
    assert deliver.send() == 4
    [lupe] = smtp_server.to("lupe@example.org")
    assert lupe["Subject"] == f"Invitación: Monthly community call ({TITLE})"
    assert "Orden del día: Introductions. State updates." in lupe.get_body(("plain",)).get_content()
    for address in ("ana@example.org", "lupe@example.org", "tala@example.org", "staff@example.org"):
        [message] = smtp_server.to(address)
        cal = invite_of(message)
        assert cal.method.value == "REQUEST"
        assert cal.vevent.uid.value == f"{CALL}@t4t-platform" and cal.vevent.sequence.value == "0"
        assert cal.vevent.dtstart.value == starts
        assert cal.vevent.attendee.value == f"mailto:{address}"
    ana_text = smtp_server.to("ana@example.org")[0].get_body(("plain",)).get_content()
    assert "PST" in ana_text or "PDT" in ana_text  # in Ana's own zone, with the call's zone beside it

    with notifications_ctx.db.session() as db:
        due = {(r.person, r.minutes_before): r.due_at for r in db.scalars(select(CallReminder))}
    assert len(due) == 8 and due[("ana-ca", 60)] == starts - timedelta(hours=1)

    moved = starts + timedelta(days=1)
    community(
        call_event(
            "rescheduled", call_data(moved, sequence=1, reason="Budget hearing.", previous_starts_at=starts.isoformat())
        )
    )
    deliver.send()
    update = smtp_server.to("tala@example.org")[-1]
    assert update["Subject"].startswith("Moved: Monthly community call")
    cal = invite_of(update)
    assert (cal.method.value, cal.vevent.uid.value, cal.vevent.sequence.value) == (
        "REQUEST",
        f"{CALL}@t4t-platform",
        "1",
    )
    with notifications_ctx.db.session() as db:
        assert {r.due_at for r in db.scalars(select(CallReminder).where(CallReminder.minutes_before == 60))} == {
            moved - timedelta(hours=1)
        }

    community(call_event("cancelled", call_data(moved, sequence=2, reason="Snow.")))
    community(call_event("rescheduled", call_data(starts, sequence=1)))  # an older change arriving late
    deliver.send()
    cancel = smtp_server.to("staff@example.org")[-1]
    cal = invite_of(cancel)
    assert (cal.method.value, cal.vevent.uid.value, cal.vevent.sequence.value) == (
        "CANCEL",
        f"{CALL}@t4t-platform",
        "2",
    )
    assert len(smtp_server.to("staff@example.org")) == 3
    with notifications_ctx.db.session() as db:
        assert {r.status for r in db.scalars(select(CallReminder))} == {"dropped"}


@BOTH
def test_a_member_who_joins_later_is_invited_to_the_upcoming_calls_once(
    notifications_ctx, community, deliver, smtp_server
):
    starts = next_month()
    community(call_event("scheduled", call_data(starts)))
    past = call_data(datetime.now(UTC) - timedelta(days=2), call_id="ca11ca11-0000-4000-8000-000000000002")
    community(call_event("scheduled", past))
    deliver.send()
    newcomer = joined("kai-hi", "team_member", "HI", "kai@example.org", "Pacific/Honolulu", "en")
    community(newcomer, newcomer)
    deliver.send()
    [message] = smtp_server.to("kai@example.org")  # the upcoming call only, once
    cal = invite_of(message)
    assert (cal.method.value, cal.vevent.uid.value) == ("REQUEST", f"{CALL}@t4t-platform")
    assert "HST" in message.get_body(("plain",)).get_content()
    with notifications_ctx.db.session() as db:
        assert {r.minutes_before for r in db.scalars(select(CallReminder).where(CallReminder.person == "kai-hi"))} == {
            1440,
            60,
        }


@BOTH
def test_reminders_before_a_call_and_none_for_a_member_who_left(notifications_ctx, community, deliver, smtp_server):
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    community(call_event("scheduled", call_data(starts)))
    community(joined(*MEMBERS[1], verb="member_left"))
    notices = CommunityNotices(notifications_ctx.extra["notifier"])
    assert write_due_call_reminders(notifications_ctx.db, notices, now=starts - timedelta(minutes=59)) == 3
    assert write_due_call_reminders(notifications_ctx.db, notices, now=starts - timedelta(minutes=59)) == 0
    deliver.send()
    [reminder] = [m for m in smtp_server.to("ana@example.org") if m["Subject"].startswith("Reminder")]
    assert "starts in 1 hour" in reminder.get_body(("plain",)).get_content()
    assert not [m for m in smtp_server.to("lupe@example.org") if m["Subject"].startswith("Recordatorio")]


@BOTH
def test_a_reply_tells_each_follower_but_its_author_at_once_or_in_one_digest_line(
    notifications_ctx, community, deliver, smtp_server, nclient, tokens
):
    # Lupe takes thread replies in an hourly digest, set with her own (Puerto Rico) token.
    answer = nclient.put(
        "/contact-points/lupe-pr/preferences/thread_replied",
        json={"channel": "email", "enabled": True, "digest": "hourly"},
        headers=tokens.headers("participant", "PR", sub="lupe-pr"),
    )
    assert answer.status_code == 200, answer.json
    community(replied(1), replied(2), replied(3), replied(1, thread="thread-2"))
    deliver.send()
    ana = smtp_server.to("ana@example.org")
    assert len(ana) == 4
    assert ana[0]["Subject"] == f"New reply in “Credentials crosswalk” ({TITLE})"
    assert "Reply 1: our Tribe maps the CDA onto level 2." in ana[0].get_body(("plain",)).get_content()
    assert "Reply 1" in ana[0].get_body(("html",)).get_content()
    assert smtp_server.to("tala@example.org") == []  # the author
    assert smtp_server.to("lupe@example.org") == []  # held for her digest

    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert write_due_digests(notifications_ctx.db, notifications_ctx.extra["notifier"], now=later) == 1
    deliver.send()
    [digest] = smtp_server.to("lupe@example.org")
    text = digest.get_body(("plain",)).get_content()
    # Four replies in two threads make two lines, one per thread (the latest reply's).
    assert "(4 avisos sobre 2 asuntos)" in text
    assert text.count("- Nueva respuesta") == 2


@BOTH
def test_a_published_synthesis_tells_the_members(notifications_ctx, community, deliver, smtp_server):
    community(
        content_event(
            "content.synthesis.published",
            {
                "community_id": COMMUNITY,
                "community_title": TITLE,
                "synthesis_id": "synth-1",
                "title": "What specialist networks learnt in year one",
                "published_at": datetime.now(UTC).isoformat(),
            },
        )
    )
    assert deliver.send() == 4
    [message] = smtp_server.to("tala@example.org")
    assert message["Subject"] == f"Published: What specialist networks learnt in year one ({TITLE})"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_through_rabbitmq_members_get_invitations_and_followers_a_reply_notice(notifications_ctx, deliver, smtp_server):
    ctx = notifications_ctx
    bus = ctx.extra["bus"]
    starts = next_month()
    events = [
        *(joined(*m) for m in MEMBERS),
        call_event("scheduled", call_data(starts)),
        replied(1),
    ]
    consumer = EventConsumer(bus, ctx.db, ctx.tables, "notifications", deliver.handlers, prefetch=10)
    with Running(consumer):
        wait_until(consumer.ready.is_set, message="notifications' consumer to be ready")
        with bus.connection(publishing=True) as conn:
            bus.declare(conn.default_channel)
            publisher = Publisher(bus, conn)
            for event in events:
                publisher.publish(Outgoing(event.id, bus.topology.exchange, event.type, json.dumps(event.to_dict())))
        # Published one after another, they may be handled in any order across queues: wait for all.
        wait_until(
            lambda: deliver.send() >= 0 and len(smtp_server.messages) >= 7,
            timeout=60,
            message="four invitations and three reply notices",
        )
    deliver.send()
    for address in ("ana@example.org", "lupe@example.org", "tala@example.org", "staff@example.org"):
        invitations = [m for m in smtp_server.to(address) if list(m.iter_attachments())]
        assert len(invitations) == 1, address
        cal = invite_of(invitations[0])
        assert cal.vevent.uid.value == f"{CALL}@t4t-platform" and cal.method.value == "REQUEST"
    notices = [
        m for m in smtp_server.messages if "reply" in m["Subject"].lower() or "respuesta" in m["Subject"].lower()
    ]
    assert sorted(m["To"] for m in notices) == ["ana@example.org", "lupe@example.org", "staff@example.org"]


@BOTH
def test_a_member_who_leaves_gets_one_cancel_of_the_upcoming_calls_they_were_invited_to(
    notifications_ctx, community, deliver, smtp_server
):
    starts = next_month()
    later = {**call_data(starts + timedelta(days=28), sequence=1), "call_id": "ca11ca11-0000-4000-8000-000000000003"}
    past = {**call_data(datetime.now(UTC) - timedelta(days=2)), "call_id": "ca11ca11-0000-4000-8000-000000000002"}
    community(
        call_event("scheduled", call_data(starts)), call_event("rescheduled", later), call_event("scheduled", past)
    )
    deliver.send()
    before = len(smtp_server.to("lupe@example.org"))
    left = joined(*MEMBERS[1], verb="member_left")
    community(left, left)  # redelivered under the same id: one message
    deliver.send()
    [message] = smtp_server.to("lupe@example.org")[before:]
    assert message["Subject"] == f"Ha dejado {TITLE}"  # in Lupe's language
    cal = invite_of(message)
    assert cal.method.value == "CANCEL"
    # The two upcoming calls, each under the UID of its invitation with a higher SEQUENCE; the past one is left.
    assert sorted((e.uid.value, e.sequence.value) for e in cal.vevent_list) == [
        (f"{CALL}@t4t-platform", "1"),
        ("ca11ca11-0000-4000-8000-000000000003@t4t-platform", "2"),
    ]
    assert all(e.attendee.value == "mailto:lupe@example.org" for e in cal.vevent_list)
    assert len(smtp_server.to("ana@example.org")) == 3  # the others hear nothing of it
    # Back and gone again: invited to both calls anew, then one CANCEL again.
    community(joined(*MEMBERS[1]), joined(*MEMBERS[1], verb="member_left"))
    deliver.send()
    assert [m["Subject"].split(":")[0] for m in smtp_server.to("lupe@example.org")[before + 1 :]] == [
        "Invitación",
        "Invitación",
        f"Ha dejado {TITLE}",
    ]


@BOTH
def test_an_audio_conference_registrant_without_a_contact_point_gets_the_address_they_gave(
    notifications_ctx, deliver, smtp_server
):
    feed = DeliverCommunity(deliver)
    conference = call_data(
        next_month(),
        call_id="a0d10c0f-0000-4000-8000-000000000001",
        community_id=None,
        community_title=None,
        kind="audio_conference",
        invitees=["or-person"],
    )
    registered = {**conference, "registrant": {"person": "or-person", "tenant": "OR", "name": None, "email": None}}
    feed(call_event("scheduled", registered))  # no address given, none known: nobody to write to
    assert deliver.send() == 0
    registered["registrant"] = {"person": "or-person", "tenant": "OR", "name": "Or", "email": "or@example.org"}
    feed(call_event("scheduled", registered))
    deliver.send()
    [message] = smtp_server.to("or@example.org")
    cal = invite_of(message)
    assert (cal.method.value, cal.vevent.uid.value) == ("REQUEST", "a0d10c0f-0000-4000-8000-000000000001@t4t-platform")
    with notifications_ctx.db.session() as db:
        [contact] = db.scalars(select(ContactPoint).where(ContactPoint.person == "or-person"))
    assert (contact.tenant, contact.email, contact.name) == ("OR", "or@example.org", "Or")
    # Its later changes reach them at that address, like any registrant's.
    feed(call_event("cancelled", {**conference, "sequence": 1, "invitees": ["or-person"]}))
    deliver.send()
    assert invite_of(smtp_server.to("or@example.org")[-1]).method.value == "CANCEL"
