"""Recurring series and office hours over HTTP: local time across DST, one and following changes, bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Booking, OccurrenceChange, OfficeHourBooking, RecurringSeries
from services.scheduling.repository import book, session_resources
from services.scheduling.repository import facilitators as directory_repo
from shared.envelope import parse_event
from tests.helpers import arrange, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"

CA_SPECIALIST = ("specialist", "CA", "spec-ca")
CA_OTHER_SPECIALIST = ("specialist", "CA", "spec-ca-2")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_FACILITATOR = ("facilitator", "CA", "fac-ca")
CA_OTHER_FACILITATOR = ("facilitator", "CA", "fac-ca-2")
CA_UNSUPPORTED_FACILITATOR = ("facilitator", "CA", "fac-ca-3")
TX_SPECIALIST = ("specialist", "TX", "spec-tx")
TX_FACILITATOR = ("facilitator", "TX", "fac-ca")  # the same sub in another jurisdiction

LA = ZoneInfo("America/Los_Angeles")


def counts(ctx) -> dict:
    with ctx.db.session() as db:
        return {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (RecurringSeries, OccurrenceChange, OfficeHourBooking, Booking)
        }


def index_rows(ctx, owner_id: str) -> list[Booking]:
    with ctx.db.session() as db:
        return list(db.scalars(select(Booking).where(Booking.owner_id == owner_id).order_by(Booking.starts_at)))


def series_body(**overrides) -> dict:
    body = {
        "kind": "office_hours",
        "title": "Office hours with the Infant/Toddler Specialist",
        "time_zone": "America/Los_Angeles",
        "local_start": "2026-10-20T10:00:00",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=6",
        "meeting_url": "https://meet.example.org/office-hours",
        "slot_minutes": 20,
        "supported_facilitators": ["fac-ca", "fac-ca-2"],
    }
    body.update(overrides)
    return body


def create(client, tokens, who=CA_SPECIALIST, **overrides) -> dict:
    response = client.post("/recurring-series", json=series_body(**overrides), headers=auth(tokens, who))
    assert response.status_code == 201, response.json
    return response.json


def occurrences(client, tokens, series_id: str, who=CA_SPECIALIST, **window) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in window.items())
    response = client.get(f"/recurring-series/{series_id}/occurrences?{query}".rstrip("?"), headers=auth(tokens, who))
    assert response.status_code == 200, response.json
    return response.json["items"]


def next_weekday(weekday: int, zone: ZoneInfo, *, weeks_ahead: int = 1) -> datetime:
    """A date (naive, local) on ``weekday`` at least ``weeks_ahead`` weeks from now: future slots stay future."""
    today = datetime.now(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


# --- local time across daylight-saving changes, and zones without it ---------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("time_zone", "utc_hours", "offsets", "names"),
    [
        (
            "America/Los_Angeles",
            [17, 17, 18, 18],
            ["-07:00", "-07:00", "-08:00", "-08:00"],
            ["PDT", "PDT", "PST", "PST"],
        ),
        ("America/New_York", [14, 14, 15, 15], ["-04:00", "-04:00", "-05:00", "-05:00"], ["EDT", "EDT", "EST", "EST"]),
    ],
)
def test_weekly_series_keeps_local_time_across_the_november_dst_change(
    sclient, tokens, database, time_zone, utc_hours, offsets, names
):
    series = create(sclient, tokens, time_zone=time_zone, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4")

    items = occurrences(sclient, tokens, series["id"])

    starts = [datetime.fromisoformat(o["starts_at"]) for o in items]
    assert [s.date().isoformat() for s in starts] == ["2026-10-20", "2026-10-27", "2026-11-03", "2026-11-10"]
    assert [s.hour for s in starts] == utc_hours  # UTC moves by an hour on 1 November...
    assert [o["local_start"][11:19] for o in items] == ["10:00:00"] * 4  # ...local time does not
    assert [o["local_start"][19:] for o in items] == offsets
    assert [o["zone_abbreviation"] for o in items] == names
    assert all(o["status"] == "scheduled" and o["time_zone"] == time_zone for o in items)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("time_zone", "first_utc", "offset", "name"),
    [
        ("Pacific/Guam", "2026-10-20T00:00:00+00:00", "+10:00", "ChST"),
        ("Pacific/Pago_Pago", "2026-10-20T21:00:00+00:00", "-11:00", "SST"),
    ],
)
def test_series_in_guam_and_pago_pago(sclient, tokens, database, time_zone, first_utc, offset, name):
    series = create(sclient, tokens, time_zone=time_zone, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=26")

    items = occurrences(sclient, tokens, series["id"])

    assert len(items) == 26
    assert items[0]["starts_at"] == first_utc
    assert {o["local_start"][11:] for o in items} == {f"10:00:00{offset}"}
    assert {o["zone_abbreviation"] for o in items} == {name}
    assert {datetime.fromisoformat(o["starts_at"]).hour for o in items} == {datetime.fromisoformat(first_utc).hour}
    window = occurrences(
        sclient, tokens, series["id"], **{"from": "2026-11-01T00:00:00Z", "to": "2026-11-15T00:00:00Z"}
    )
    assert len(window) == 2


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_community_call_convened_by_a_jurisdiction_admin(sclient, tokens, scheduling_ctx, database):
    series = create(
        sclient,
        tokens,
        who=CA_ADMIN,
        kind="community_call",
        title="Learning community call",
        rrule="FREQ=MONTHLY;BYDAY=3TH;COUNT=12",
        local_start="2026-11-19T13:00:00",
        duration_minutes=50,
        slot_minutes=None,
        supported_facilitators=[],
    )

    assert (series["owner"], series["tenant"], series["kind"]) == ("admin-ca", "CA", "community_call")
    items = occurrences(sclient, tokens, series["id"], who=CA_FACILITATOR)
    assert [o["local_start"][:10] for o in items[:3]] == ["2026-11-19", "2026-12-17", "2027-01-21"]
    assert len(index_rows(scheduling_ctx, series["id"])) == 12


# --- bad input, roles, tenancy ------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rrule": "FREQ=SOMETIMES;BYDAY=TUESDAY"}, "rrule"),
        ({"rrule": "BYDAY=TU;COUNT=3"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=3;UNTIL=20261231"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=200"}, "rrule"),
        ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),
        ({"time_zone": "America/Springfield"}, "time_zone"),
        ({"time_zone": "PST"}, "time_zone"),
        ({"local_start": "2026-10-20T10:00:00-07:00"}, "local_start"),
        ({"local_start": "2026-10-19T10:00:00"}, "local_start"),  # a Monday; the rule says Tuesday
        ({"slot_minutes": None}, "slot_minutes"),
        ({"slot_minutes": 90}, "slot_minutes"),
        ({"kind": "community_call", "slot_minutes": None}, "supported_facilitators"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"meeting_url": "javascript:alert(1)"}, "meeting_url"),
        ({"owner": "someone-else"}, "owner"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    sclient, tokens, scheduling_ctx, database, overrides, field
):
    before = counts(scheduling_ctx)

    response = sclient.post("/recurring-series", json=series_body(**overrides), headers=auth(tokens, CA_SPECIALIST))

    assert response.status_code == 422, response.json
    assert response.mimetype == PROBLEM
    assert field in response.json["errors"]
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_who_may_hold_a_series(sclient, tokens, scheduling_ctx, database):
    before = counts(scheduling_ctx)
    facilitator = sclient.post("/recurring-series", json=series_body(), headers=auth(tokens, CA_FACILITATOR))
    admin_office_hours = sclient.post("/recurring-series", json=series_body(), headers=auth(tokens, CA_ADMIN))

    assert (facilitator.status_code, admin_office_hours.status_code) == (403, 403)
    assert counts(scheduling_ctx) == before

    series = create(sclient, tokens)
    assert sclient.get(f"/recurring-series/{series['id']}", headers=auth(tokens, TX_SPECIALIST)).status_code == 404
    assert (
        sclient.get(f"/recurring-series/{series['id']}/occurrences", headers=auth(tokens, TX_SPECIALIST)).status_code
        == 404
    )
    listed = sclient.get("/recurring-series?kind=office_hours", headers=auth(tokens, TX_SPECIALIST)).json
    assert listed["items"] == []
    listed = sclient.get("/recurring-series?owner=spec-ca", headers=auth(tokens, CA_FACILITATOR)).json
    assert [s["id"] for s in listed["items"]] == [series["id"]]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_series_overlapping_the_specialists_bookings_is_refused(sclient, tokens, scheduling_ctx, database):
    def build(db):
        cohort = factories.cohort(
            db,
            first_day=datetime(2026, 11, 3, 12, tzinfo=UTC),
            local_hour=9,
            sessions=1,
            minutes=90,
            book_resources=False,
        )
        session = cohort.sessions[0]
        session.specialist = "spec-ca"
        book(
            db,
            tenant="CA",
            resources=session_resources(session),
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            owner_kind="session",
            owner_id=session.id,
        )
        return session.id

    session_id = arrange(scheduling_ctx, build)  # Tuesday 3 November 2026, 09:00-10:30 in Los Angeles
    before = counts(scheduling_ctx)

    response = sclient.post("/recurring-series", json=series_body(), headers=auth(tokens, CA_SPECIALIST))

    assert response.status_code == 409, response.json
    assert response.mimetype == PROBLEM
    assert [c["session_id"] for c in response.json["conflicts"]] == [session_id]
    assert counts(scheduling_ctx) == before

    series = create(sclient, tokens, local_start="2026-10-20T11:00:00")  # after the session: no overlap
    assert len(index_rows(scheduling_ctx, series["id"])) == 6
    assert {r.resource for r in index_rows(scheduling_ctx, series["id"])} == {"person:spec-ca"}
    again = sclient.post(
        "/recurring-series",
        json=series_body(
            local_start="2026-11-10T11:30:00", kind="meeting", slot_minutes=None, supported_facilitators=[]
        ),
        headers=auth(tokens, CA_SPECIALIST),
    )
    assert again.status_code == 409
    assert {c["series_id"] for c in again.json["conflicts"]} == {series["id"]}
    other = sclient.post("/recurring-series", json=series_body(), headers=auth(tokens, CA_OTHER_SPECIALIST))
    assert other.status_code == 201


# --- one occurrence ----------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_change_one_occurrence(sclient, tokens, scheduling_ctx, database):
    series = create(sclient, tokens)
    url = f"/recurring-series/{series['id']}/occurrences"
    headers = auth(tokens, CA_SPECIALIST)

    moved = sclient.patch(
        f"{url}/20261103T180000Z",
        json={"starts_at": "2026-11-04T13:00:00-08:00", "duration_minutes": 40},
        headers=headers,
    )
    cancelled = sclient.patch(f"{url}/2026-11-10T18:00:00Z", json={"cancelled": True}, headers=headers)

    assert moved.status_code == 200, moved.json
    assert (
        moved.json["status"],
        moved.json["original_start"],
        moved.json["starts_at"],
        moved.json["ends_at"],
        moved.json["sequence"],
    ) == ("moved", "2026-11-03T18:00:00+00:00", "2026-11-04T21:00:00+00:00", "2026-11-04T21:40:00+00:00", 1)
    assert (cancelled.json["status"], cancelled.json["sequence"]) == ("cancelled", 2)
    items = occurrences(sclient, tokens, series["id"])
    assert [o["status"] for o in items] == ["scheduled", "scheduled", "moved", "cancelled", "scheduled", "scheduled"]
    assert sclient.get(f"/recurring-series/{series['id']}", headers=headers).json["sequence"] == 2
    booked = [(r.starts_at.isoformat(), r.ends_at.isoformat()) for r in index_rows(scheduling_ctx, series["id"])]
    assert ("2026-11-04T21:00:00+00:00", "2026-11-04T21:40:00+00:00") in booked
    assert len(booked) == 5  # the cancelled one frees the specialist

    reinstated = sclient.patch(f"{url}/20261110T180000Z", json={"cancelled": False}, headers=headers)
    assert (reinstated.json["status"], reinstated.json["starts_at"]) == ("scheduled", "2026-11-10T18:00:00+00:00")
    assert len(index_rows(scheduling_ctx, series["id"])) == 6
    with scheduling_ctx.db.session() as db:  # back to the rule: no override left for it
        assert db.scalar(select(func.count()).select_from(OccurrenceChange)) == 1

    onto_another = sclient.patch(f"{url}/20261117T180000Z", json={"starts_at": "2026-11-24T18:30:00Z"}, headers=headers)
    assert onto_another.status_code == 409 and "starts_at" in onto_another.json["errors"]
    assert sclient.patch(f"{url}/20261117T190000Z", json={"cancelled": True}, headers=headers).status_code == 404
    assert sclient.patch(f"{url}/not-a-time", json={"cancelled": True}, headers=headers).status_code == 422
    assert sclient.patch(f"{url}/20261117T180000Z", json={}, headers=headers).status_code == 422
    assert (
        sclient.patch(
            f"{url}/20261117T180000Z", json={"cancelled": True}, headers=auth(tokens, CA_OTHER_SPECIALIST)
        ).status_code
        == 403
    )
    assert (
        sclient.patch(
            f"{url}/20261117T180000Z", json={"cancelled": True}, headers=auth(tokens, TX_SPECIALIST)
        ).status_code
        == 404
    )
    by_admin = sclient.patch(f"{url}/20261117T180000Z", json={"cancelled": True}, headers=auth(tokens, CA_ADMIN))
    assert by_admin.status_code == 200


# --- this and following ------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_this_and_following(sclient, tokens, scheduling_ctx, database):
    series = create(sclient, tokens, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=8")
    headers = auth(tokens, CA_SPECIALIST)
    url = f"/recurring-series/{series['id']}"
    sclient.patch(f"{url}/occurrences/20261201T180000Z", json={"cancelled": True}, headers=headers)  # 7th

    response = sclient.post(
        f"{url}/split",
        json={
            "at": "2026-11-10T18:00:00Z",
            "local_start": "2026-11-12T14:00:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=5",
            "title": "Office hours (Thursday afternoons)",
            "duration_minutes": 90,
        },
        headers=headers,
    )

    assert response.status_code == 201, response.json
    ended, following = response.json["ended"], response.json["series"]
    assert ended["rrule"] == "FREQ=WEEKLY;UNTIL=20261110T175959Z;BYDAY=TU"
    assert ended["sequence"] == 2
    assert following["split_from"] == series["id"]
    assert (following["kind"], following["owner"], following["slot_minutes"], following["sequence"]) == (
        "office_hours",
        "spec-ca",
        20,
        0,
    )
    assert following["supported_facilitators"] == ["fac-ca", "fac-ca-2"]
    before = occurrences(sclient, tokens, series["id"])
    after = occurrences(sclient, tokens, following["id"])
    assert [o["local_start"] for o in before] == [
        "2026-10-20T10:00:00-07:00",
        "2026-10-27T10:00:00-07:00",
        "2026-11-03T10:00:00-08:00",
    ]
    assert [o["local_start"][:10] for o in after] == [
        "2026-11-12",
        "2026-11-19",
        "2026-11-26",
        "2026-12-03",
        "2026-12-10",
    ]
    assert {o["local_start"][11:] for o in after} == {"14:00:00-08:00"}
    assert {o["status"] for o in after} == {"scheduled"}  # the cancelled Tuesday went with its rule
    assert len(index_rows(scheduling_ctx, series["id"])) == 3
    assert len(index_rows(scheduling_ctx, following["id"])) == 5
    with scheduling_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(OccurrenceChange)) == 0

    defaults = sclient.post(
        f"/recurring-series/{following['id']}/split", json={"at": "2026-11-26T22:00:00Z"}, headers=headers
    )
    assert defaults.status_code == 201, defaults.json
    assert defaults.json["series"]["rrule"] == "FREQ=WEEKLY;COUNT=3;BYDAY=TH"
    assert defaults.json["series"]["local_start"] == "2026-11-26T14:00:00"

    first = sclient.post(f"{url}/split", json={"at": "2026-10-20T17:00:00Z"}, headers=headers)
    assert first.status_code == 422 and "at" in first.json["errors"]
    garbage = sclient.post(f"{url}/split", json={"at": "2026-10-27T17:00:00Z", "rrule": "FREQ=NEVER"}, headers=headers)
    assert garbage.status_code == 422 and "rrule" in garbage.json["errors"]
    assert (
        sclient.post(
            f"{url}/split", json={"at": "2026-10-27T17:00:00Z"}, headers=auth(tokens, CA_OTHER_SPECIALIST)
        ).status_code
        == 403
    )


# --- office hours ------------------------------------------------------------------------------


def office_hours(client, tokens, **overrides) -> tuple[dict, list[dict]]:
    first = next_weekday(1, LA)  # a Tuesday at least a week ahead
    series = create(client, tokens, local_start=first.replace(hour=10).isoformat(), **overrides)
    slots = client.get(
        f"/office-hours/{series['id']}/slots?to={(first + timedelta(days=1)).date()}T00:00:00Z",
        headers=auth(tokens, CA_FACILITATOR),
    )
    assert slots.status_code == 200, slots.json
    return series, slots.json["items"]


def book_slot(client, tokens, series_id: str, slot_start: str, who=CA_FACILITATOR):
    return client.post(
        f"/office-hours/{series_id}/bookings",
        json={"slot_start": slot_start, "topic": "Adapting"},
        headers=auth(tokens, who),
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_office_hour_booking(sclient, tokens, scheduling_ctx, database):
    series, slots = office_hours(sclient, tokens)
    assert len(slots) == 3 and all(s["available"] for s in slots)
    assert [s["local_start"][11:16] for s in slots] == ["10:00", "10:20", "10:40"]

    booked = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"])

    assert booked.status_code == 201, booked.json
    assert (booked.json["facilitator"], booked.json["status"], booked.json["slot_end"]) == (
        "fac-ca",
        "booked",
        slots[1]["ends_at"],
    )
    assert [r.resource for r in index_rows(scheduling_ctx, booked.json["id"])] == ["person:fac-ca"]
    again = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"], who=CA_OTHER_FACILITATOR)
    assert again.status_code == 409 and again.mimetype == PROBLEM
    unsupported = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"], who=CA_UNSUPPORTED_FACILITATOR)
    assert unsupported.status_code == 403
    specialist = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"], who=CA_OTHER_SPECIALIST)
    assert specialist.status_code == 403
    elsewhere = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"], who=TX_FACILITATOR)
    assert elsewhere.status_code == 404
    off_grid = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"].replace(":00+", ":05+"))
    assert off_grid.status_code == 422 and "slot_start" in off_grid.json["errors"]
    assert counts(scheduling_ctx)["OfficeHourBooking"] == 1

    seen = sclient.get(
        f"/office-hours/{series['id']}/slots?to={slots[-1]['ends_at'].replace('+00:00', 'Z')}",
        headers=auth(tokens, CA_OTHER_FACILITATOR),
    ).json["items"]
    assert [s["available"] for s in seen] == [True, False, True]
    assert seen[1]["booking"] is None  # who booked what is for the specialist and the booker
    mine = sclient.get(f"/office-hours/{series['id']}/slots", headers=auth(tokens, CA_FACILITATOR)).json["items"]
    assert mine[1]["booking"]["topic"] == "Adapting"
    assert (
        sclient.get(f"/office-hours/{series['id']}/slots", headers=auth(tokens, CA_UNSUPPORTED_FACILITATOR)).status_code
        == 403
    )

    cancelled = sclient.post(
        f"/office-hours/{series['id']}/bookings/{booked.json['id']}/cancel", headers=auth(tokens, CA_OTHER_FACILITATOR)
    )
    assert cancelled.status_code == 403
    cancelled = sclient.post(
        f"/office-hours/{series['id']}/bookings/{booked.json['id']}/cancel", headers=auth(tokens, CA_FACILITATOR)
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert index_rows(scheduling_ctx, booked.json["id"]) == []
    rebooked = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"], who=CA_OTHER_FACILITATOR)
    assert rebooked.status_code == 201 and rebooked.json["id"] != booked.json["id"]
    listed = sclient.get(f"/office-hours/{series['id']}/bookings", headers=auth(tokens, CA_SPECIALIST)).json
    assert [b["facilitator"] for b in listed["items"]] == ["fac-ca-2"]
    own = sclient.get(f"/office-hours/{series['id']}/bookings", headers=auth(tokens, CA_FACILITATOR)).json
    assert own["items"] == []


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_booking_names_the_facilitator_as_they_signed_in(sclient, tokens, scheduling_ctx, database):
    series, slots = office_hours(sclient, tokens)
    named = tokens.headers("facilitator", "CA", sub="fac-ca", name="  Fran\n Facilitator ")
    booked = sclient.post(
        f"/office-hours/{series['id']}/bookings", json={"slot_start": slots[0]["starts_at"]}, headers=named
    )
    assert booked.status_code == 201, booked.json
    assert booked.json["facilitator_name"] == "Fran Facilitator"
    seen = sclient.get(f"/office-hours/{series['id']}/slots", headers=auth(tokens, CA_SPECIALIST)).json["items"]
    assert seen[0]["booking"]["facilitator_name"] == "Fran Facilitator"
    # Her certificates name her so too, though she has taken no attendance yet.
    with scheduling_ctx.db.session() as db:
        assert directory_repo.facilitator_names(db, "CA", ["fac-ca"]) == {"fac-ca": "Fran Facilitator"}
    # A token without a name books as before, named by nobody.
    other = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"], who=("facilitator", "CA", "fac-ca-2"))
    assert other.status_code == 201 and other.json["facilitator_name"] is None


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_facilitator_cannot_book_office_hours_while_facilitating(sclient, tokens, scheduling_ctx, database):
    first = next_weekday(1, LA)
    arrange(
        scheduling_ctx,
        lambda db: factories.cohort(
            db,
            first_day=first.replace(hour=12, tzinfo=LA),
            local_hour=10,
            minutes=30,
            sessions=1,
            facilitators=("fac-ca",),
        ),
    )
    series, slots = office_hours(sclient, tokens)

    busy = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"])
    free = book_slot(sclient, tokens, series["id"], slots[2]["starts_at"])

    assert busy.status_code == 409, busy.json
    assert busy.json["conflicts"][0]["resource"] == "person:fac-ca"
    assert free.status_code == 201
    other_slot = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"])  # the session ends 10:30
    assert other_slot.status_code == 409


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_changing_an_occurrence_cancels_the_slots_booked_in_it(sclient, tokens, scheduling_ctx, database):
    series, slots = office_hours(sclient, tokens)
    booking = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"]).json
    original = slots[0]["occurrence_start"].replace("+00:00", "Z")

    moved = sclient.patch(
        f"/recurring-series/{series['id']}/occurrences/{original}",
        json={"duration_minutes": 40},
        headers=auth(tokens, CA_SPECIALIST),
    )

    assert moved.status_code == 200, moved.json
    with scheduling_ctx.db.session() as db:
        assert db.get(OfficeHourBooking, booking["id"]).status == "cancelled"
    assert index_rows(scheduling_ctx, booking["id"]) == []

    cancelled = sclient.post(f"/recurring-series/{series['id']}/cancel", headers=auth(tokens, CA_SPECIALIST))
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert index_rows(scheduling_ctx, series["id"]) == []
    late = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"])
    assert late.status_code == 409


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_times_out_of_range_are_problems_not_errors(sclient, tokens, scheduling_ctx, database):
    series = create(sclient, tokens)
    headers = auth(tokens, CA_SPECIALIST)
    url = f"/recurring-series/{series['id']}"

    far = sclient.patch(
        f"{url}/occurrences/20261027T170000Z", json={"starts_at": "2028-10-27T17:00:00Z"}, headers=headers
    )
    ancient = sclient.patch(f"{url}/occurrences/0001-01-01T00:00:00+01:00", json={"cancelled": True}, headers=headers)
    window = sclient.get(f"/office-hours/{series['id']}/slots?from=0001-01-01T00:00:00Z", headers=headers)
    start = sclient.post(
        "/recurring-series",
        json=series_body(local_start="0001-01-02T10:00:00", rrule="FREQ=WEEKLY;COUNT=2"),
        headers=headers,
    )

    assert (far.status_code, ancient.status_code, window.status_code, start.status_code) == (422, 422, 422, 422)
    assert "starts_at" in far.json["errors"] and "original_start" in ancient.json["errors"]
    assert "from" in window.json["errors"] and "local_start" in start.json["errors"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_changing_a_series_needs_the_etag_it_was_read_with(sclient, tokens, scheduling_ctx, database):
    series = create(sclient, tokens)
    url = f"/recurring-series/{series['id']}"
    read = sclient.get(url, headers=auth(tokens, CA_SPECIALIST))
    etag = read.headers["ETag"]
    change = {"title": "Office hours (Tuesdays)", "supported_facilitators": ["fac-ca"]}

    unconditional = sclient.patch(url, json=change, headers=auth(tokens, CA_SPECIALIST))
    assert (unconditional.status_code, unconditional.mimetype) == (428, PROBLEM)
    stale = sclient.patch(url, json=change, headers={**auth(tokens, CA_SPECIALIST), "If-Match": '"stale"'})
    assert (stale.status_code, stale.mimetype) == (412, PROBLEM)
    assert sclient.get(url, headers=auth(tokens, CA_SPECIALIST)).json["title"] == series["title"]  # unchanged

    changed = sclient.patch(url, json=change, headers={**auth(tokens, CA_SPECIALIST), "If-Match": etag})
    assert changed.status_code == 200, changed.json
    assert (changed.json["title"], changed.json["supported_facilitators"]) == ("Office hours (Tuesdays)", ["fac-ca"])
    assert changed.headers["ETag"] != etag
    # The ETag read before this change no longer matches: a second writer cannot overwrite it blindly.
    again = sclient.patch(url, json={"title": "Mine"}, headers={**auth(tokens, CA_ADMIN), "If-Match": etag})
    assert again.status_code == 412
    other = sclient.patch(url, json={"title": "Theirs"}, headers={**auth(tokens, TX_SPECIALIST), "If-Match": etag})
    assert other.status_code == 404


def office_hour_events(ctx) -> list[tuple[str, str, dict]]:
    """The office-hour events in the outbox, in the order they were staged: (type, tenant, data)."""
    outbox = ctx.tables.outbox
    with ctx.db.session() as db:
        rows = db.scalars(
            select(outbox).where(outbox.event_type.like("scheduling.office_hour.%")).order_by(outbox.id)
        ).all()
        events = [parse_event(row.body) for row in rows]
    return [(e.type, e.tenant, e.data) for e in events]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_booking_and_every_way_it_ends_is_announced(sclient, tokens, scheduling_ctx, database):
    """Coaching opens a draft support activity from the booking and drops it when the slot will not
    happen: by the facilitator's cancel, a moved or cancelled occurrence, or the series cancelled."""
    series, slots = office_hours(sclient, tokens)
    first = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"]).json
    second = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"], who=CA_OTHER_FACILITATOR).json
    third = book_slot(sclient, tokens, series["id"], slots[2]["starts_at"], who=CA_OTHER_FACILITATOR).json
    refused = book_slot(sclient, tokens, series["id"], slots[0]["starts_at"], who=CA_OTHER_FACILITATOR)
    assert refused.status_code == 409

    sclient.post(f"/office-hours/{series['id']}/bookings/{first['id']}/cancel", headers=auth(tokens, CA_FACILITATOR))
    original = slots[0]["occurrence_start"].replace("+00:00", "Z")
    moved = sclient.patch(
        f"/recurring-series/{series['id']}/occurrences/{original}",
        json={"duration_minutes": 40},
        headers=auth(tokens, CA_SPECIALIST),
    )
    assert moved.status_code == 200, moved.json

    events = office_hour_events(scheduling_ctx)
    assert [(t.rsplit(".", 1)[1], d["booking_id"]) for t, _, d in events] == [
        ("booked", first["id"]),
        ("booked", second["id"]),
        ("booked", third["id"]),
        ("cancelled", first["id"]),
        ("cancelled", second["id"]),
        ("cancelled", third["id"]),
    ]
    assert {tenant for _, tenant, _ in events} == {"CA"}
    booked = events[0][2]
    assert booked == {
        "booking_id": first["id"],
        "series_id": series["id"],
        "specialist": "spec-ca",
        "facilitator": "fac-ca",
        "slot_start": datetime.fromisoformat(slots[0]["starts_at"]),
        "slot_end": datetime.fromisoformat(slots[0]["ends_at"]),
        "time_zone": "America/Los_Angeles",
        "topic": "Adapting",
    }
    assert [(d["reason"], d["cancelled_by"]) for _, _, d in events[3:]] == [
        ("booking_cancelled", "fac-ca"),
        ("office_hours_changed", "spec-ca"),
        ("office_hours_changed", "spec-ca"),
    ]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cancelling_office_hours_announces_each_booking_it_ends(sclient, tokens, scheduling_ctx, database):
    series, slots = office_hours(sclient, tokens)
    booking = book_slot(sclient, tokens, series["id"], slots[1]["starts_at"]).json

    cancelled = sclient.post(f"/recurring-series/{series['id']}/cancel", headers=auth(tokens, CA_SPECIALIST))

    assert cancelled.status_code == 200
    ended = [
        (d["booking_id"], d["reason"]) for t, _, d in office_hour_events(scheduling_ctx) if t.endswith("cancelled")
    ]
    assert ended == [(booking["id"], "office_hours_cancelled")]
