"""Learning communities' calls in scheduling: members from content's events, twelve monthly calls, one moved
or cancelled, attendance, the members' feed, who sees what, bad input, and audio-conferences."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from services.scheduling.community_models import CallAttendance, Community, CommunityCall, CommunityMember
from shared.envelope import make_event, parse_event
from tests.helpers import assert_problem, auth

BACKENDS = ["sqlite", "postgres"]
COMMUNITY = "c0mmun17-0000-4000-8000-000000000001"
OTHER_COMMUNITY = "c0mmun17-0000-4000-8000-000000000002"

NATIONAL = ("national_admin", "US", "nat-1")
FACILITATOR = ("facilitator", "US", "staff-facilitator")  # a national admin would do; a staff member runs calls
STAFF = ("specialist", "CA", "staff-itcc")  # an Initiative staff member, kind "staff"
ANA_CA = ("participant", "CA", "ana-ca")
BO_GU = ("participant", "GU", "bo-gu")
TALA_CTUIR = ("participant", "TX", "tala-tx")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_ADMIN_NOT_MEMBER = ("jurisdiction_admin", "NY", "admin-ny")
OUTSIDER_CA = ("participant", "CA", "someone-else-ca")
ELSEWHERE = ("participant", "OR", "or-person")


def content_event(type_: str, data: dict, *, at: datetime | None = None):
    event = make_event(type_, source="/services/content", subject=data["community_id"], tenant="national", data=data)
    if at is not None:
        import dataclasses

        event = dataclasses.replace(event, time=at)
    return parse_event(event.to_json())


def convened(community_id=COMMUNITY, title="Infant/Toddler Specialist Networks", **extra):
    data = {
        "community_id": community_id,
        "title": title,
        "focus_area": "specialist_networks",
        "status": "active",
        "starts_on": "2027-01-11",
        "planned_months": 12,
        "facilitators": [],
        "time_zone": "America/New_York",
    }
    data.update(extra)
    return content_event("content.community.convened", data)


def joined(member, kind, jurisdiction, community_id=COMMUNITY, verb="member_joined", at=None):
    data = {
        "community_id": community_id,
        "community_title": "Infant/Toddler Specialist Networks",
        "member": member,
        "kind": kind,
        "jurisdiction": jurisdiction,
        "name": None,
        "email": f"{member}@example.org",
        "time_zone": None,
        "language": "en",
    }
    return content_event(f"content.community.{verb}", data, at=at)


def feed(ctx, *events):
    """Hand content's events to scheduling's consumer as the broker would (inbox and all)."""
    from services.scheduling.handlers import HANDLERS
    from shared.messaging.consumer import EventConsumer

    bus = ctx.extra["bus"]
    consumer = EventConsumer(bus, ctx.db, ctx.tables, "scheduling", HANDLERS)
    sub = next(s for s in bus.topology.for_consumer("scheduling") if s.handler == "keep_community")
    for event in events:
        consumer.handle_once(bus.topology.work_queue(sub), event, HANDLERS["keep_community"])


def set_up(ctx):
    feed(
        ctx,
        convened(facilitators=[FACILITATOR[2]]),
        joined(STAFF[2], "staff", None),
        joined(ANA_CA[2], "team_member", "CA"),
        joined(BO_GU[2], "team_member", "GU"),
        joined(TALA_CTUIR[2], "team_member", "TX"),
        convened(OTHER_COMMUNITY, "Quality Rating Systems"),
        joined("zed-or", "team_member", "OR", community_id=OTHER_COMMUNITY),
    )


MONTHLY = {
    "kind": "interactive_call",
    "title": "Monthly community call",
    "agenda": "Introductions\nState updates",
    "local_start": "2027-01-12T14:00:00",
    "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=12",
    "meeting_url": "https://meet.example.org/itsn",
}


def outbox(ctx, prefix="scheduling.community_call."):
    with ctx.db.session() as db:
        rows = db.execute(select(ctx.tables.outbox.event_type, ctx.tables.outbox.body)).all()
    return [json.loads(body) for type_, body in rows if type_.startswith(prefix)]


def counts(ctx):
    with ctx.db.session() as db:
        return (
            db.scalar(select(func.count()).select_from(CommunityCall)),
            db.scalar(select(func.count()).select_from(CallAttendance)),
            len(outbox(ctx)),
        )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_recurrence_rule_makes_twelve_monthly_calls_each_announced_to_the_members(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    response = sclient.post(f"/communities/{COMMUNITY}/calls", json=MONTHLY, headers=auth(tokens, STAFF))
    assert response.status_code == 201, response.json
    calls = response.json["calls"]
    assert len(calls) == 12
    assert response.json["rrule"] == "FREQ=MONTHLY;COUNT=12;BYDAY=2TU"
    # Second Tuesday of each month, 14:00 in New York whatever the season: 19:00Z in winter, 18:00Z in summer.
    assert [c["local_start"][:16] for c in calls[:4]] == [
        "2027-01-12T14:00",
        "2027-02-09T14:00",
        "2027-03-09T14:00",
        "2027-04-13T14:00",
    ]
    assert calls[0]["starts_at"].startswith("2027-01-12T19:00") and calls[3]["starts_at"].startswith("2027-04-13T18:00")
    assert {c["duration_minutes"] for c in calls} == {50}
    assert len({c["id"] for c in calls}) == 12 and {c["series_id"] for c in calls} == {response.json["series_id"]}
    events = outbox(scheduling_ctx)
    assert len(events) == 12
    first = next(e for e in events if e["data"]["call_id"] == calls[0]["id"])
    assert first["type"] == "scheduling.community_call.scheduled" and first["tenant"] == "national"
    assert first["data"]["invitees"] == sorted([STAFF[2], ANA_CA[2], BO_GU[2], TALA_CTUIR[2]])
    assert first["data"]["community_title"] == "Infant/Toddler Specialist Networks"
    assert first["data"]["sequence"] == 0 and first["data"]["local_start"] == "2027-01-12T14:00:00-05:00"

    listed = sclient.get(f"/communities/{COMMUNITY}/calls?limit=5", headers=auth(tokens, ANA_CA))
    assert listed.status_code == 200 and len(listed.json["items"]) == 5 and listed.json["next_cursor"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_one_call_moved_then_another_cancelled_with_a_rising_sequence(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    calls = sclient.post(f"/communities/{COMMUNITY}/calls", json=MONTHLY, headers=auth(tokens, STAFF)).json["calls"]
    target = calls[2]
    read = sclient.get(f"/community-calls/{target['id']}", headers=auth(tokens, STAFF))
    moved = sclient.patch(
        f"/community-calls/{target['id']}",
        json={"starts_at": "2027-03-10T14:00:00-05:00", "reason": "Tuesday clashes with the state budget hearing."},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["sequence"] == 1 and moved.json["starts_at"].startswith("2027-03-10T19:00")
    read = sclient.get(f"/community-calls/{target['id']}", headers=auth(tokens, STAFF))
    cancelled = sclient.patch(
        f"/community-calls/{target['id']}",
        json={"cancelled": True, "reason": "Snow."},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled" and cancelled.json["sequence"] == 2
    mine = [e for e in outbox(scheduling_ctx) if e["data"]["call_id"] == target["id"]]
    assert [(e["type"].rsplit(".", 1)[1], e["data"]["sequence"]) for e in mine] == [
        ("scheduled", 0),
        ("rescheduled", 1),
        ("cancelled", 2),
    ]
    assert mine[1]["data"]["previous_starts_at"].startswith("2027-03-09T19:00")
    # The other eleven are untouched.
    others = sclient.get(f"/communities/{COMMUNITY}/calls?status=scheduled&limit=50", headers=auth(tokens, ANA_CA))
    assert len(others.json["items"]) == 11 and {c["sequence"] for c in others.json["items"]} == {0}
    # A cancelled call stays cancelled.
    read = sclient.get(f"/community-calls/{target['id']}", headers=auth(tokens, STAFF))
    again = sclient.patch(
        f"/community-calls/{target['id']}",
        json={"cancelled": True},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    assert_problem(again, 409, "status")
    # A member who does not run calls may not move one.
    read = sclient.get(f"/community-calls/{calls[3]['id']}", headers=auth(tokens, ANA_CA))
    refused = sclient.patch(
        f"/community-calls/{calls[3]['id']}",
        json={"starts_at": "2027-04-14T14:00:00-04:00"},
        headers=auth(tokens, ANA_CA, **{"If-Match": read.headers["ETag"]}),
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_attendance_and_minutes_of_a_call_that_took_place(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    held = (datetime.now(UTC) - timedelta(days=1)).astimezone().replace(tzinfo=None, microsecond=0)
    body = {
        "kind": "face_to_face",
        "title": "Meeting at the Institute",
        "local_start": held.isoformat(timespec="seconds"),
        "duration_minutes": 120,
        "place": {"venue": "Convention Center", "address": "801 Mt Vernon Pl NW, Washington, DC", "room": "Hall B"},
    }
    call = sclient.post(f"/communities/{COMMUNITY}/calls", json=body, headers=auth(tokens, NATIONAL)).json["calls"][0]
    marks = {"marks": [{"person": ANA_CA[2], "status": "present"}, {"person": BO_GU[2], "status": "absent"}]}
    first = sclient.put(f"/community-calls/{call['id']}/attendance", json=marks, headers=auth(tokens, STAFF))
    assert first.status_code == 200, first.json
    marks["marks"][1]["status"] = "present"  # Bo joined late
    again = sclient.put(f"/community-calls/{call['id']}/attendance", json=marks, headers=auth(tokens, STAFF))
    assert {(m["person"], m["status"]) for m in again.json["marks"]} == {(ANA_CA[2], "present"), (BO_GU[2], "present")}
    assert counts(scheduling_ctx)[1] == 2
    # Marking a stranger writes nothing.
    stray = {"marks": [{"person": TALA_CTUIR[2], "status": "present"}, {"person": "nobody", "status": "present"}]}
    assert_problem(
        sclient.put(f"/community-calls/{call['id']}/attendance", json=stray, headers=auth(tokens, STAFF)), 422, "marks"
    )
    assert counts(scheduling_ctx)[1] == 2
    read = sclient.get(f"/community-calls/{call['id']}", headers=auth(tokens, STAFF))
    minuted = sclient.patch(
        f"/community-calls/{call['id']}",
        json={"minutes": "Agreed to share credential crosswalks by March."},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    assert minuted.status_code == 200 and minuted.json["minutes"].startswith("Agreed")
    assert minuted.json["place"]["room"] == "Hall B"
    # It took place: it is not moved.
    read = sclient.get(f"/community-calls/{call['id']}", headers=auth(tokens, STAFF))
    moved = sclient.patch(
        f"/community-calls/{call['id']}",
        json={"starts_at": "2027-05-01T10:00:00Z"},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    assert_problem(moved, 409, "starts_at")


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_members_calendar_feed(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    calls = sclient.post(f"/communities/{COMMUNITY}/calls", json=MONTHLY, headers=auth(tokens, STAFF)).json["calls"]
    read = sclient.get(f"/community-calls/{calls[1]['id']}", headers=auth(tokens, STAFF))
    sclient.patch(
        f"/community-calls/{calls[1]['id']}",
        json={"cancelled": True},
        headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
    )
    created = sclient.post(f"/communities/{COMMUNITY}/calendar-feeds", headers=auth(tokens, BO_GU))
    assert created.status_code == 201, created.json
    url = created.json["url"].split("://", 1)[1].split("/", 1)[1]
    response = sclient.get("/" + url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 12
    by_uid = {str(e["UID"]): e for e in events}
    cancelled = by_uid[f"{calls[1]['id']}@t4t-platform"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
    assert str(events[0]["DTSTART"].params["TZID"]) == "America/New_York"
    assert calendar.walk("VTIMEZONE")
    # A token for another community, or a wrong token, is a 404; so is the feed of a member who has left.
    assert sclient.get(f"/communities/{OTHER_COMMUNITY}/calendar.ics?token={created.json['token']}").status_code == 404
    assert sclient.get(f"/communities/{COMMUNITY}/calendar.ics?token=nope").status_code == 404
    assert sclient.get(f"/calendars/{created.json['token']}.ics").status_code == 404  # only at the community's address
    # Jurisdiction admins see the space but the feed is the members'; outsiders do not learn it exists.
    assert sclient.post(f"/communities/{COMMUNITY}/calendar-feeds", headers=auth(tokens, CA_ADMIN)).status_code == 403
    assert (
        sclient.post(f"/communities/{COMMUNITY}/calendar-feeds", headers=auth(tokens, OUTSIDER_CA)).status_code == 404
    )
    feed(scheduling_ctx, joined(BO_GU[2], "team_member", "GU", verb="member_left"))
    assert sclient.get("/" + url).status_code == 404


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_who_sees_a_communitys_calls(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    call = sclient.post(
        f"/communities/{COMMUNITY}/calls", json={**MONTHLY, "rrule": None}, headers=auth(tokens, FACILITATOR)
    )
    assert call.status_code == 403  # a facilitator token of the national tenant is refused at the door
    call = sclient.post(
        f"/communities/{COMMUNITY}/calls", json={**MONTHLY, "rrule": None}, headers=auth(tokens, NATIONAL)
    )
    call_id = call.json["calls"][0]["id"]
    matrix = {
        NATIONAL: 200,
        STAFF: 200,
        ANA_CA: 200,
        BO_GU: 200,
        CA_ADMIN: 200,  # a member jurisdiction's admin
        TX_ADMIN_NOT_MEMBER: 404,  # a jurisdiction with no member
        OUTSIDER_CA: 404,  # a member jurisdiction's person who is not a member
        ELSEWHERE: 404,
    }
    for who, status in matrix.items():
        assert sclient.get(f"/communities/{COMMUNITY}/calls", headers=auth(tokens, who)).status_code == status, who
        assert sclient.get(f"/community-calls/{call_id}", headers=auth(tokens, who)).status_code == status, who
    # Members of one community do not see another's calls, nor schedule there.
    other = sclient.post(
        f"/communities/{OTHER_COMMUNITY}/calls", json={**MONTHLY, "rrule": None}, headers=auth(tokens, NATIONAL)
    )
    other_id = other.json["calls"][0]["id"]
    assert sclient.get(f"/community-calls/{other_id}", headers=auth(tokens, ANA_CA)).status_code == 404
    assert sclient.get(f"/community-calls/{other_id}/attendance", headers=auth(tokens, STAFF)).status_code == 404
    assert (
        sclient.post(f"/communities/{OTHER_COMMUNITY}/calls", json=MONTHLY, headers=auth(tokens, STAFF)).status_code
        == 404
    )
    # A member who leaves stops seeing it; the events may come in any order.
    later = datetime.now(UTC) + timedelta(minutes=5)
    feed(
        scheduling_ctx,
        joined(ANA_CA[2], "team_member", "CA", verb="member_left", at=later),
        joined(ANA_CA[2], "team_member", "CA", at=later - timedelta(minutes=1)),  # older, arriving late
    )
    assert sclient.get(f"/community-calls/{call_id}", headers=auth(tokens, ANA_CA)).status_code == 404
    assert sclient.get(f"/community-calls/{call_id}", headers=auth(tokens, CA_ADMIN)).status_code == 404


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_membership_events_delivered_twice_keep_one_member(scheduling_ctx):
    event = joined(ANA_CA[2], "team_member", "CA")
    # The member is announced before the community itself reaches scheduling, and twice.
    feed(scheduling_ctx, event, event, convened(title="Infant/Toddler Credentials"))
    with scheduling_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(CommunityMember)) == 1
        assert db.get(Community, COMMUNITY).title == "Infant/Toddler Credentials"


BAD_BODIES = [
    ({**MONTHLY, "rrule": "FREQ=HOURLY"}, "rrule"),
    ({**MONTHLY, "local_start": "2027-01-13T14:00:00"}, "local_start"),  # not the rule's first occurrence
    ({**MONTHLY, "local_start": "2027-01-12T14:00:00Z"}, "local_start"),
    ({**MONTHLY, "time_zone": "Mars/Olympus"}, "time_zone"),
    ({**MONTHLY, "kind": "webinar"}, "kind"),
    ({**MONTHLY, "meeting_url": None}, "meeting_url"),
    ({**MONTHLY, "kind": "face_to_face", "meeting_url": None}, "place"),
    ({**MONTHLY, "duration_minutes": 0}, "duration_minutes"),
    ({**MONTHLY, "duration_minutes": "50"}, "duration_minutes"),
    ({**MONTHLY, "title": "   "}, "title"),
    ({**MONTHLY, "surprise": 1}, "surprise"),
    ({**MONTHLY, "rrule": "FREQ=MONTHLY;COUNT=5000"}, "rrule"),
]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_input_is_a_problem_and_writes_nothing(scheduling_ctx, sclient, tokens):
    set_up(scheduling_ctx)
    for body, field in BAD_BODIES:
        response = sclient.post(f"/communities/{COMMUNITY}/calls", json=body, headers=auth(tokens, STAFF))
        assert_problem(response, 422, field)
    assert (
        sclient.post(
            f"/communities/{COMMUNITY}/calls",
            data="[1,",
            headers=auth(tokens, STAFF, **{"Content-Type": "application/json"}),
        ).status_code
        == 400
    )
    assert counts(scheduling_ctx) == (0, 0, 0)
    call = sclient.post(f"/communities/{COMMUNITY}/calls", json=MONTHLY, headers=auth(tokens, STAFF)).json["calls"][0]
    read = sclient.get(f"/community-calls/{call['id']}", headers=auth(tokens, STAFF))
    for body, field in [
        ({}, "_schema"),
        ({"cancelled": False}, "cancelled"),
        ({"starts_at": "2027-03-10T14:00:00"}, "starts_at"),
    ]:
        response = sclient.patch(
            f"/community-calls/{call['id']}",
            json=body,
            headers=auth(tokens, STAFF, **{"If-Match": read.headers["ETag"]}),
        )
        assert_problem(response, 422, field)
    assert counts(scheduling_ctx) == (12, 0, 12)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_audio_conferences_anyone_may_register_for_once(scheduling_ctx, sclient, tokens):
    body = {
        "title": "What the learning communities learnt about credentials",
        "starts_at": "2027-06-15T14:00:00-04:00",
        "meeting_url": "https://meet.example.org/national-audio-conference",
    }
    assert sclient.post("/audio-conferences", json=body, headers=auth(tokens, CA_ADMIN)).status_code == 403
    created = sclient.post("/audio-conferences", json=body, headers=auth(tokens, NATIONAL))
    assert created.status_code == 201, created.json
    conference = created.json["id"]
    assert [c["id"] for c in sclient.get("/audio-conferences", headers=auth(tokens, ELSEWHERE)).json["items"]] == [
        conference
    ]
    first = sclient.post(f"/audio-conferences/{conference}/registrations", json={}, headers=auth(tokens, ELSEWHERE))
    again = sclient.post(f"/audio-conferences/{conference}/registrations", json={}, headers=auth(tokens, ELSEWHERE))
    assert (first.status_code, again.status_code) == (201, 200) and first.json["id"] == again.json["id"]
    sclient.post(f"/audio-conferences/{conference}/registrations", json={"name": "Ana"}, headers=auth(tokens, ANA_CA))
    assert (
        len(sclient.get(f"/audio-conferences/{conference}/registrations", headers=auth(tokens, NATIONAL)).json["items"])
        == 2
    )
    assert (
        len(sclient.get(f"/audio-conferences/{conference}/registrations", headers=auth(tokens, ANA_CA)).json["items"])
        == 1
    )
    invitations = [e["data"]["invitees"] for e in outbox(scheduling_ctx) if e["data"]["call_id"] == conference]
    assert invitations == [[ELSEWHERE[2]], [ANA_CA[2]]]  # one invitation each, none for the repeat
    read = sclient.get(f"/community-calls/{conference}", headers=auth(tokens, NATIONAL))
    cancelled = sclient.patch(
        f"/community-calls/{conference}",
        json={"cancelled": True, "reason": "Rescheduled to the Institute."},
        headers=auth(tokens, NATIONAL, **{"If-Match": read.headers["ETag"]}),
    )
    assert cancelled.status_code == 200
    last = [e for e in outbox(scheduling_ctx) if e["data"]["call_id"] == conference][-1]
    assert last["type"].endswith(".cancelled") and last["data"]["invitees"] == sorted([ELSEWHERE[2], ANA_CA[2]])
    assert last["data"]["community_id"] is None and last["data"]["kind"] == "audio_conference"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_an_audio_conference_registrant_may_give_the_address_their_invitation_goes_to(scheduling_ctx, sclient, tokens):
    body = {
        "title": "What the learning communities learnt about caseloads",
        "starts_at": "2027-07-13T14:00:00-04:00",
        "meeting_url": "https://meet.example.org/national-audio-conference",
    }
    conference = sclient.post("/audio-conferences", json=body, headers=auth(tokens, NATIONAL)).json["id"]
    path = f"/audio-conferences/{conference}/registrations"
    before = len(outbox(scheduling_ctx))
    bad = sclient.post(path, json={"email": "not an address"}, headers=auth(tokens, ELSEWHERE))
    assert_problem(bad, 422, "email")
    assert len(outbox(scheduling_ctx)) == before  # nothing written: no registration, no event
    assert sclient.get(path, headers=auth(tokens, ELSEWHERE)).json["items"] == []

    answer = sclient.post(path, json={"name": "Or Person", "email": "or@example.org"}, headers=auth(tokens, ELSEWHERE))
    assert answer.status_code == 201 and "email" not in answer.json  # passed on, not kept
    sclient.post(path, json={}, headers=auth(tokens, ANA_CA))
    first, second = [e["data"] for e in outbox(scheduling_ctx) if e["data"]["call_id"] == conference]
    assert first["registrant"] == {
        "person": ELSEWHERE[2],
        "tenant": "OR",
        "name": "Or Person",
        "email": "or@example.org",
    }
    assert second["registrant"] == {"person": ANA_CA[2], "tenant": "CA", "name": None, "email": None}


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_another_communitys_call_cannot_be_changed_or_marked_and_bad_marks_write_nothing(
    scheduling_ctx, sclient, tokens
):
    set_up(scheduling_ctx)
    held = (datetime.now(UTC) - timedelta(days=1)).astimezone().replace(tzinfo=None, microsecond=0)
    body = {**MONTHLY, "rrule": None, "local_start": held.isoformat(timespec="seconds"), "time_zone": None}
    body = {k: v for k, v in body.items() if v is not None}
    ours = sclient.post(f"/communities/{COMMUNITY}/calls", json=body, headers=auth(tokens, NATIONAL)).json["calls"][0]
    theirs = sclient.post(f"/communities/{OTHER_COMMUNITY}/calls", json=body, headers=auth(tokens, NATIONAL))
    theirs = theirs.json["calls"][0]

    def etag(call) -> str:
        return sclient.get(f"/community-calls/{call['id']}", headers=auth(tokens, NATIONAL)).headers["ETag"]

    before = counts(scheduling_ctx), etag(ours), etag(theirs)
    # A staff member of one community changes and marks nothing of another's: 404, as if it did not exist.
    for who, call in ((STAFF, theirs), (ELSEWHERE, ours), (OUTSIDER_CA, ours)):
        headers = auth(tokens, who, **{"If-Match": etag(call)})
        assert_problem(sclient.patch(f"/community-calls/{call['id']}", json={"cancelled": True}, headers=headers), 404)
        marks = {"marks": [{"person": "zed-or", "status": "present"}]}
        assert_problem(sclient.put(f"/community-calls/{call['id']}/attendance", json=marks, headers=headers), 404)
    # Bad marks and bad changes of a call one runs: problems naming the field.
    for marks in (
        {"marks": [{"person": ANA_CA[2], "status": "late"}]},
        {"marks": [{"person": ANA_CA[2]}]},
        {"marks": "everyone"},
        {"marks": [{"person": ANA_CA[2], "status": "present"}], "minutes": "x"},
    ):
        response = sclient.put(f"/community-calls/{ours['id']}/attendance", json=marks, headers=auth(tokens, STAFF))
        assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json
    for change, name in (({"duration_minutes": 0}, "duration_minutes"), ({"agenda": "x\u202e"}, "agenda")):
        headers = auth(tokens, STAFF, **{"If-Match": etag(ours)})
        assert_problem(sclient.patch(f"/community-calls/{ours['id']}", json=change, headers=headers), 422, name)
    assert (counts(scheduling_ctx), etag(ours), etag(theirs)) == before
