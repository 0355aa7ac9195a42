"""Calendar feeds over HTTP, read back with vobject (a parser independent of the icalendar that writes them)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select

from services.scheduling.models import CalendarFeed, TrainingSession
from tests.helpers import arrange, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"

CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_OTHER_COORDINATOR = ("agency_coordinator", "CA", "coord-ca-2")
CA_FACILITATOR = ("facilitator", "CA", "fac-ca")
CA_OTHER_FACILITATOR = ("facilitator", "CA", "fac-ca-2")
CA_SPECIALIST = ("specialist", "CA", "spec-ca")
CA_PARTICIPANT = ("participant", "CA", "pat-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")

FIRST_DAY = datetime(2026, 10, 13, 20, tzinfo=UTC)  # weekly sessions that cross the November DST change


def new_feed(client, tokens, who, kind: str, subject: str | None = None) -> dict:
    body = {"kind": kind} | ({"subject": subject} if subject else {})
    response = client.post("/calendar-feeds", json=body, headers=auth(tokens, who))
    assert response.status_code == 201, response.json
    return response.json


def fetch(client, feed: dict):
    return client.get(urlsplit(feed["url"]).path)  # no Authorization header: the token is the credential


def parse(client, feed: dict):
    response = fetch(client, feed)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    return vobject.readOne(response.get_data(as_text=True))


def events(calendar) -> dict[str, object]:
    """The VEVENTs without RECURRENCE-ID, by UID."""
    return {e.uid.value: e for e in calendar.vevent_list if "recurrence-id" not in e.contents}


def value(event, name: str, default=None):
    return event.contents[name][0].value if name in event.contents else default


def session_rows(ctx, cohort_id: str) -> list[TrainingSession]:
    with ctx.db.session() as db:
        return list(
            db.scalars(
                select(TrainingSession)
                .where(TrainingSession.cohort_id == cohort_id)
                .order_by(TrainingSession.starts_at)
            )
        )


# --- cohort feeds ------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cohort_feed_parses_with_stable_uids_sequence_status_and_vtimezone(sclient, tokens, scheduling_ctx, database):
    def build(db):
        agency = factories.agency(db)
        room = factories.room(db, agency)
        return factories.cohort(db, agency_row=agency, room_row=room, format="hybrid", first_day=FIRST_DAY).id

    cohort_id = arrange(scheduling_ctx, build)
    sessions = session_rows(scheduling_ctx, cohort_id)
    feed = new_feed(sclient, tokens, CA_COORDINATOR, "cohort", cohort_id)

    calendar = parse(sclient, feed)

    assert [tz.tzid.value for tz in calendar.vtimezone_list] == ["America/Los_Angeles"]
    found = events(calendar)
    assert set(found) == {f"{s.id}@t4t-platform" for s in sessions}
    for session in sessions:
        event = found[f"{session.id}@t4t-platform"]
        start = event.dtstart.value
        assert start.astimezone(UTC) == session.starts_at and event.dtend.value.astimezone(UTC) == session.ends_at
        assert start.hour == 9  # local wall time, before and after 1 November
        assert (value(event, "sequence"), value(event, "status")) == ("0", "CONFIRMED")
        assert value(event, "location") == "Room A, Community Center, 100 Main St, Oakland, CA"
        assert value(event, "url") == "https://meet.example.org/rbc"
        assert value(event, "summary").endswith(session.title)
        assert value(event, "dtstamp") is not None
    offsets = {found[f"{s.id}@t4t-platform"].dtstart.value.utcoffset() for s in sessions}
    assert offsets == {timedelta(hours=-7), timedelta(hours=-8)}

    def change(db):
        rescheduled, cancelled = (db.get(TrainingSession, sessions[1].id), db.get(TrainingSession, sessions[2].id))
        rescheduled.starts_at += timedelta(hours=1)
        rescheduled.ends_at += timedelta(hours=1)
        rescheduled.sequence += 1
        cancelled.status, cancelled.cancel_reason = "cancelled", "Venue closed"
        cancelled.sequence += 1

    arrange(scheduling_ctx, change)
    after = events(parse(sclient, feed))

    assert set(after) == set(found)  # the same UIDs: calendars update events instead of adding new ones
    moved, gone = after[f"{sessions[1].id}@t4t-platform"], after[f"{sessions[2].id}@t4t-platform"]
    assert (value(moved, "sequence"), value(moved, "status"), moved.dtstart.value.hour) == ("1", "CONFIRMED", 10)
    assert (value(gone, "sequence"), value(gone, "status")) == ("1", "CANCELLED")
    assert "Venue closed" in value(gone, "description")
    assert value(after[f"{sessions[0].id}@t4t-platform"], "sequence") == "0"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("time_zone", "offset", "name"),
    [
        ("Pacific/Guam", timedelta(hours=10), "ChST"),
        ("Pacific/Pago_Pago", timedelta(hours=-11), "SST"),
    ],
)
def test_sessions_in_guam_and_pago_pago_render_in_their_zone(
    sclient, tokens, scheduling_ctx, database, time_zone, offset, name
):
    tenant = "GU" if time_zone == "Pacific/Guam" else "AS"
    cohort_id = arrange(
        scheduling_ctx,
        lambda db: (
            factories.cohort(
                db, tenant=tenant, time_zone=time_zone, first_day=FIRST_DAY, facilitators=("fac-island",)
            ).id
        ),
    )
    feed = new_feed(sclient, tokens, ("jurisdiction_admin", tenant, f"admin-{tenant}"), "cohort", cohort_id)

    calendar = parse(sclient, feed)

    assert [tz.tzid.value for tz in calendar.vtimezone_list] == [time_zone]
    starts = [e.dtstart.value for e in calendar.vevent_list]
    assert len(starts) == 9
    assert {s.utcoffset() for s in starts} == {offset}
    assert {s.tzname() for s in starts} == {name}
    assert {s.hour for s in starts} == {9}
    expected = [s.starts_at for s in session_rows(scheduling_ctx, cohort_id)]
    assert sorted(s.astimezone(UTC) for s in starts) == expected


# --- personal feeds ----------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_participant_feed_holds_confirmed_registrations_and_office_hour_bookings(
    sclient, tokens, scheduling_ctx, database
):
    def build(db):
        confirmed = factories.cohort(db, first_day=FIRST_DAY, sessions=3)
        waitlisted = factories.cohort(db, first_day=FIRST_DAY, sessions=3, local_hour=15)
        factories.registration(db, confirmed, "pat-ca")
        factories.registration(db, waitlisted, "pat-ca", status="waitlisted", position=1)
        factories.registration(db, waitlisted, "pat-other")
        return confirmed.id

    cohort_id = arrange(scheduling_ctx, build)
    feed = new_feed(sclient, tokens, CA_PARTICIPANT, "participant")

    assert (feed["kind"], feed["subject"], feed["tenant"]) == ("participant", "pat-ca", "CA")
    found = events(parse(sclient, feed))
    assert set(found) == {f"{s.id}@t4t-platform" for s in session_rows(scheduling_ctx, cohort_id)}

    someone_else = sclient.post(
        "/calendar-feeds", json={"kind": "participant", "subject": "pat-other"}, headers=auth(tokens, CA_PARTICIPANT)
    )
    assert someone_else.status_code == 403 and someone_else.mimetype == PROBLEM


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_facilitator_feed_holds_their_sessions_and_office_hour_bookings(sclient, tokens, scheduling_ctx, database):
    def build(db):
        mine = factories.cohort(db, first_day=FIRST_DAY, sessions=2, facilitators=("fac-ca", "fac-ca-9"))
        factories.cohort(db, first_day=FIRST_DAY, sessions=2, facilitators=("fac-ca-2",), local_hour=15)
        return mine.id

    cohort_id = arrange(scheduling_ctx, build)
    tuesday = _next_tuesday()
    series = sclient.post(
        "/recurring-series",
        json={
            "kind": "office_hours",
            "title": "Office hours",
            "time_zone": "America/Chicago",
            "local_start": tuesday.isoformat(),
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;COUNT=4",
            "slot_minutes": 30,
            "supported_facilitators": ["fac-ca"],
        },
        headers=auth(tokens, CA_SPECIALIST),
    ).json
    slot = sclient.get(f"/office-hours/{series['id']}/slots", headers=auth(tokens, CA_FACILITATOR)).json["items"][0]
    booking = sclient.post(
        f"/office-hours/{series['id']}/bookings",
        json={"slot_start": slot["starts_at"], "topic": "Fidelity questions"},
        headers=auth(tokens, CA_FACILITATOR),
    ).json
    feed = new_feed(sclient, tokens, CA_FACILITATOR, "facilitator")

    calendar = parse(sclient, feed)

    found = events(calendar)
    sessions = {f"{s.id}@t4t-platform" for s in session_rows(scheduling_ctx, cohort_id)}
    assert set(found) == sessions | {f"{booking['id']}@t4t-platform"}
    office = found[f"{booking['id']}@t4t-platform"]
    assert (value(office, "status"), value(office, "description")) == ("CONFIRMED", "Fidelity questions")
    assert office.dtstart.value.astimezone(UTC).isoformat() == slot["starts_at"]
    assert sorted(tz.tzid.value for tz in calendar.vtimezone_list) == ["America/Chicago", "America/Los_Angeles"]

    sclient.post(f"/office-hours/{series['id']}/bookings/{booking['id']}/cancel", headers=auth(tokens, CA_FACILITATOR))
    office = events(parse(sclient, feed))[f"{booking['id']}@t4t-platform"]
    assert (value(office, "status"), value(office, "sequence")) == ("CANCELLED", "1")


def _next_tuesday() -> datetime:
    today = datetime.now(ZoneInfo("America/Chicago")).replace(tzinfo=None, hour=11, minute=0, second=0, microsecond=0)
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_owned_series_render_as_rrule_events_with_exdate_and_recurrence_id(sclient, tokens, scheduling_ctx, database):
    headers = auth(tokens, CA_SPECIALIST)
    series = sclient.post(
        "/recurring-series",
        json={
            "kind": "office_hours",
            "title": "Office hours",
            "time_zone": "America/Los_Angeles",
            "local_start": "2026-10-20T10:00:00",
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=6",
            "slot_minutes": 30,
            "supported_facilitators": ["fac-ca"],
        },
        headers=headers,
    ).json
    feed = new_feed(sclient, tokens, CA_SPECIALIST, "facilitator")
    uid = f"{series['id']}@t4t-platform"
    first = events(parse(sclient, feed))[uid]
    assert value(first, "sequence") == "0"
    url = f"/recurring-series/{series['id']}/occurrences"
    sclient.patch(f"{url}/20261103T180000Z", json={"cancelled": True}, headers=headers)
    sclient.patch(f"{url}/20261110T180000Z", json={"starts_at": "2026-11-12T15:00:00-08:00"}, headers=headers)

    calendar = parse(sclient, feed)

    master = events(calendar)[uid]
    assert value(master, "sequence") == "2"
    assert value(master, "rrule") == "FREQ=WEEKLY;COUNT=6;BYDAY=TU"
    assert [d.astimezone(UTC) for d in value(master, "exdate")] == [datetime(2026, 11, 3, 18, tzinfo=UTC)]
    (override,) = [e for e in calendar.vevent_list if "recurrence-id" in e.contents]
    assert override.uid.value == uid and value(override, "sequence") == "2"
    assert value(override, "recurrence-id").astimezone(UTC) == datetime(2026, 11, 10, 18, tzinfo=UTC)
    assert override.dtstart.value.astimezone(UTC) == datetime(2026, 11, 12, 23, tzinfo=UTC)
    # vobject's own expansion of RRULE minus EXDATE agrees with the service's occurrences.
    expanded = [d.astimezone(UTC) for d in master.getrruleset(addRDate=True)]
    api = sclient.get(url, headers=headers).json["items"]
    assert expanded == sorted(datetime.fromisoformat(o["original_start"]) for o in api if o["status"] != "cancelled")
    assert {d.astimezone(ZoneInfo("America/Los_Angeles")).hour for d in expanded} == {10}


# --- tokens, revocation, roles -----------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_token_is_shown_once_stored_hashed_and_revocable(sclient, tokens, scheduling_ctx, database):
    cohort_id = arrange(scheduling_ctx, lambda db: factories.cohort(db, first_day=FIRST_DAY, sessions=1).id)
    feed = new_feed(sclient, tokens, CA_FACILITATOR, "cohort", cohort_id)
    token = feed["token"]

    assert feed["url"].endswith(f"/calendars/{token}.ics")
    with scheduling_ctx.db.session() as db:
        row = db.get(CalendarFeed, feed["id"])
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr([getattr(row, c.key) for c in CalendarFeed.__table__.columns])
    listed = sclient.get("/calendar-feeds", headers=auth(tokens, CA_FACILITATOR)).json["items"]
    assert [f["id"] for f in listed] == [feed["id"]] and "token" not in listed[0] and "url" not in listed[0]
    assert fetch(sclient, feed).status_code == 200

    assert sclient.post(f"/calendar-feeds/{feed['id']}/revoke", headers=auth(tokens, TX_ADMIN)).status_code == 404
    assert (
        sclient.post(f"/calendar-feeds/{feed['id']}/revoke", headers=auth(tokens, CA_OTHER_FACILITATOR)).status_code
        == 403
    )
    revoked = sclient.post(f"/calendar-feeds/{feed['id']}/revoke", headers=auth(tokens, CA_FACILITATOR))
    assert revoked.status_code == 200 and revoked.json["revoked"] is True

    gone = fetch(sclient, feed)
    assert gone.status_code == 404 and gone.mimetype == PROBLEM
    unknown = sclient.get("/calendars/not-a-token.ics")
    assert unknown.status_code == 404 and unknown.mimetype == PROBLEM


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_who_may_create_a_cohort_feed(sclient, tokens, scheduling_ctx, database):
    cohort_id = arrange(scheduling_ctx, lambda db: factories.cohort(db, first_day=FIRST_DAY, sessions=1).id)

    def create(who, subject=cohort_id):
        return sclient.post("/calendar-feeds", json={"kind": "cohort", "subject": subject}, headers=auth(tokens, who))

    assert create(CA_ADMIN).status_code == 201
    assert create(CA_COORDINATOR).status_code == 201
    assert create(CA_FACILITATOR).status_code == 201
    assert create(CA_OTHER_COORDINATOR).status_code == 403
    assert create(CA_OTHER_FACILITATOR).status_code == 403
    assert create(CA_PARTICIPANT).status_code == 403
    assert create(TX_ADMIN).status_code == 404
    assert create(CA_ADMIN, subject="no-such-cohort").status_code == 404
    missing = sclient.post("/calendar-feeds", json={"kind": "cohort"}, headers=auth(tokens, CA_ADMIN))
    assert missing.status_code == 422 and "subject" in missing.json["errors"]
    wrong_kind = sclient.post("/calendar-feeds", json={"kind": "everyone"}, headers=auth(tokens, CA_ADMIN))
    assert wrong_kind.status_code == 422 and "kind" in wrong_kind.json["errors"]
    with scheduling_ctx.db.session() as db:
        assert len(db.scalars(select(CalendarFeed)).all()) == 3


def test_feed_tokens_never_reach_the_logs(capsys):
    """The feed URL is the credential: the request log shows the path with the token redacted."""
    from flask import Flask

    from shared.http import api as http_api

    app = Flask("t")
    with app.test_request_context("/calendars/s3cret-token.ics"):
        from flask import request

        request.view_args = {"token": "s3cret-token"}
        assert http_api._loggable_path() == "/calendars/<redacted>.ics"
