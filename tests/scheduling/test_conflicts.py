"""Double-booking: a facilitator, specialist or room is never in two sessions at once, across cohorts and tenants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Booking, TrainingSession, platform
from tests.helpers import arrange, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"

CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")

# The other cohort's session: Tuesday 4 March 2031, 09:00-11:00 in Chicago = 15:00-17:00 UTC.
OTHER_START = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)


def counts(ctx) -> dict:
    with ctx.db.session() as db:
        return {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (TrainingSession, Booking, platform.outbox)
        }


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    for field in fields:
        assert field in response.json.get("errors", {}), response.json
    return response.json


def other_session(ctx, *, tenant: str = "TX", facilitators=("fac-shared",), room=False, hours: int = 2):
    """One booked session of a cohort in another jurisdiction (Chicago time), optionally in a room."""

    def build(db):
        agency = factories.agency(db, tenant)
        room_row = factories.room(db, agency, time_zone="America/Chicago") if room else None
        cohort = factories.cohort(
            db,
            tenant=tenant,
            time_zone="America/Chicago",
            facilitators=facilitators,
            first_day=OTHER_START,
            sessions=1,
            minutes=hours * 60,
            agency_row=agency,
            room_row=room_row,
            format="hybrid" if room else "virtual",
        )
        session = db.scalars(select(TrainingSession).where(TrainingSession.cohort_id == cohort.id)).one()
        return session, room_row

    return arrange(ctx, build)


def ca_cohort(ctx, *, format: str = "virtual", facilitators=("fac-ca",)):
    return arrange(
        ctx, lambda db: factories.cohort(db, tenant="CA", format=format, facilitators=facilitators, sessions=0)
    )


def schedule(client, tokens, cohort_id: str, starts_at: str, ends_at: str, who=CA_ADMIN, **extra):
    body = {
        "module_id": "module-1",
        "title": "Session 1",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "meeting_url": "https://meet.example.org/rbc",
        **extra,
    }
    return client.post(f"/cohorts/{cohort_id}/sessions", json=body, headers=auth(tokens, who))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_facilitator_booked_in_another_jurisdictions_cohort_is_refused(sclient, tokens, scheduling_ctx, database):
    other, _ = other_session(scheduling_ctx)
    cohort = ca_cohort(scheduling_ctx, facilitators=("fac-ca", "fac-shared"))
    before = counts(scheduling_ctx)

    # 08:00-10:00 in Los Angeles is 16:00-18:00 UTC: overlaps 15:00-17:00.
    refused = schedule(sclient, tokens, cohort.id, "2031-03-04T08:00:00-08:00", "2031-03-04T10:00:00-08:00")
    body = assert_problem(refused, 409, "conflicts")
    [conflict] = body["conflicts"]
    assert conflict["resource"] == "person:fac-shared"
    assert conflict["session_id"] == other.id
    assert conflict["owner_kind"] == "session"
    assert "title" not in conflict  # another jurisdiction's session is named by id only
    assert other.id in body["errors"]["conflicts"][0]
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_room_booked_by_another_cohort_is_refused_and_named(sclient, tokens, scheduling_ctx, database):
    other, room = other_session(scheduling_ctx, tenant="CA", facilitators=("fac-other",), room=True)
    cohort = ca_cohort(scheduling_ctx, format="in_person")
    before = counts(scheduling_ctx)
    refused = schedule(
        sclient, tokens, cohort.id, "2031-03-04T16:30:00Z", "2031-03-04T18:00:00Z", room_id=room.id, meeting_url=None
    )
    body = assert_problem(refused, 409, "conflicts")
    [conflict] = body["conflicts"]
    assert conflict["resource"] == f"room:{room.id}"
    assert (conflict["session_id"], conflict["title"], conflict["cohort_id"]) == (
        other.id,
        other.title,
        other.cohort_id,
    )
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_specialist_cannot_be_in_two_sessions(sclient, tokens, scheduling_ctx, database):
    cohort = ca_cohort(scheduling_ctx)
    other = ca_cohort(scheduling_ctx, facilitators=("fac-ca-2",))
    first = schedule(sclient, tokens, cohort.id, "2031-03-04T17:00:00Z", "2031-03-04T19:00:00Z", specialist="spec-ca")
    assert first.status_code == 201, first.json
    refused = schedule(sclient, tokens, other.id, "2031-03-04T18:00:00Z", "2031-03-04T20:00:00Z", specialist="spec-ca")
    assert assert_problem(refused, 409)["conflicts"][0]["resource"] == "person:spec-ca"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_adjacent_sessions_do_not_conflict(sclient, tokens, scheduling_ctx, database):
    other_session(scheduling_ctx)
    cohort = ca_cohort(scheduling_ctx, facilitators=("fac-shared",))
    # Ends exactly when the other starts (15:00 UTC), and starts exactly when it ends (17:00 UTC).
    before = schedule(sclient, tokens, cohort.id, "2031-03-04T05:00:00-08:00", "2031-03-04T07:00:00-08:00")
    after = schedule(sclient, tokens, cohort.id, "2031-03-04T17:00:00Z", "2031-03-04T18:30:00Z")
    assert (before.status_code, after.status_code) == (201, 201), (before.json, after.json)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_reschedule_into_a_conflict_is_refused_and_changes_nothing(sclient, tokens, scheduling_ctx, database):
    other, _ = other_session(scheduling_ctx)
    cohort = ca_cohort(scheduling_ctx, facilitators=("fac-shared",))
    created = schedule(sclient, tokens, cohort.id, "2031-03-05T09:00:00-08:00", "2031-03-05T11:00:00-08:00")
    assert created.status_code == 201, created.json
    created = created.json
    before = counts(scheduling_ctx)

    refused = sclient.post(
        f"/sessions/{created['id']}/reschedule",
        headers=auth(tokens, CA_ADMIN),
        json={"starts_at": "2031-03-04T16:00:00Z", "ends_at": "2031-03-04T18:00:00Z", "reason": "Room change"},
    )
    assert assert_problem(refused, 409, "conflicts")["conflicts"][0]["session_id"] == other.id
    assert counts(scheduling_ctx) == before
    shown = sclient.get(f"/sessions/{created['id']}", headers=auth(tokens, CA_ADMIN)).json
    assert (shown["starts_at"], shown["ends_at"], shown["sequence"]) == (created["starts_at"], created["ends_at"], 0)
    with scheduling_ctx.db.session() as db:
        [booking] = db.scalars(select(Booking).where(Booking.owner_id == created["id"])).all()
        assert booking.starts_at == datetime(2031, 3, 5, 17, 0, tzinfo=UTC)

    # Moving within its own slot never conflicts with itself.
    nudged = sclient.post(
        f"/sessions/{created['id']}/reschedule",
        headers=auth(tokens, CA_ADMIN),
        json={"starts_at": "2031-03-05T09:30:00-08:00", "ends_at": "2031-03-05T11:30:00-08:00", "reason": "Traffic"},
    )
    assert nudged.status_code == 200, nudged.json


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cancelled_sessions_slot_can_be_taken(sclient, tokens, scheduling_ctx, database):
    other, _ = other_session(scheduling_ctx)
    cancelled = sclient.post(
        f"/sessions/{other.id}/cancel", json={"reason": "Facilitator ill"}, headers=auth(tokens, TX_ADMIN)
    )
    assert cancelled.status_code == 200, cancelled.json
    cohort = ca_cohort(scheduling_ctx, facilitators=("fac-shared",))
    taken = schedule(sclient, tokens, cohort.id, "2031-03-04T07:00:00-08:00", "2031-03-04T09:00:00-08:00")
    assert taken.status_code == 201, taken.json
