"""Closing, reopening and cancelling a cohort over HTTP: registrations, sessions, bookings, audit and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Booking, Cohort, Registration, RegistrationAudit, TrainingSession, platform
from shared.envelope import parse_event
from tests.helpers import assert_problem, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]

ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
OTHER_COORDINATOR = ("agency_coordinator", "CA", "coord-elsewhere")
FACILITATOR = ("facilitator", "CA", "fac-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
FIRST_DAY = datetime(2031, 3, 4, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles


def person(n: int) -> tuple[str, str, str]:
    return ("participant", "CA", f"p-{n}")


def make_cohort(ctx, **overrides) -> str:
    """A CA cohort whose agency coord-ca coordinates, its sessions booked for fac-ca; returns its id."""
    overrides.setdefault("sessions", 2)
    overrides.setdefault("first_day", FIRST_DAY)
    with ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, **overrides)
        uow.commit()
        return cohort.id


def register(client, tokens, cohort_id: str, who, participant: str | None = None):
    sub = participant or who[2]
    body = {"name": sub.replace("-", " ").title(), "email": f"{sub}@example.org"}
    if participant is not None:
        body["participant"] = participant
    return client.post(f"/cohorts/{cohort_id}/registrations", json=body, headers=auth(tokens, who))


def registered(client, tokens, cohort_id: str, who, participant: str | None = None) -> dict:
    response = register(client, tokens, cohort_id, who, participant)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def act(client, tokens, cohort_id: str, action: str, who=ADMIN, body: dict | None = None):
    return client.post(f"/cohorts/{cohort_id}/{action}", json=body, headers=auth(tokens, who))


def counts(ctx) -> dict:
    with ctx.db.session() as db:
        return {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (Cohort, TrainingSession, Booking, Registration, RegistrationAudit, platform.outbox)
        }


def snapshot(ctx, cohort_id: str) -> tuple:
    """What a refused request must leave as it was: the cohort, its sessions and registrations."""
    with ctx.db.session() as db:
        cohort = db.get(Cohort, cohort_id)
        sessions = db.execute(
            select(TrainingSession.id, TrainingSession.status, TrainingSession.sequence, TrainingSession.updated_at)
            .where(TrainingSession.cohort_id == cohort_id)
            .order_by(TrainingSession.id)
        ).all()
        registrations = db.execute(
            select(Registration.id, Registration.status, Registration.updated_at)
            .where(Registration.cohort_id == cohort_id)
            .order_by(Registration.id)
        ).all()
        return (cohort.status, cohort.confirmed_count, cohort.updated_at, sessions, registrations)


def outbox_events(ctx, event_type: str) -> list:
    with ctx.db.session() as db:
        rows = db.scalars(
            select(platform.outbox).where(platform.outbox.event_type == event_type).order_by(platform.outbox.id)
        ).all()
        return [parse_event(row.body) for row in rows]


def new_session_elsewhere(client, tokens, ctx):
    """Schedule, in another cohort, a session for fac-ca at the time of the first cohort's first session."""
    other = make_cohort(ctx, sessions=0)
    return client.post(
        f"/cohorts/{other}/sessions",
        headers=auth(tokens, ADMIN),
        json={
            "module_id": "module-1",
            "title": "Session 1",
            "starts_at": FIRST_DAY.isoformat(),
            "ends_at": (FIRST_DAY + timedelta(hours=2)).isoformat(),
            "meeting_url": "https://meet.example.org/x",
            "facilitators": ["fac-ca"],
        },
    )


# --- close and reopen -----------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_closing_stops_registrations_and_reopening_takes_them_again(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx)
    ana = registered(sclient, tokens, cohort_id, person(1))

    closed = act(sclient, tokens, cohort_id, "close", COORDINATOR)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"
    assert act(sclient, tokens, cohort_id, "close").json["status"] == "closed"  # idempotent
    assert_problem(register(sclient, tokens, cohort_id, person(2)), 409, "cohort")
    assert_problem(register(sclient, tokens, cohort_id, ADMIN, participant="p-3"), 409, "cohort")

    # Existing registrations and sessions go on: nothing of them changed, and sessions are still scheduled.
    shown = sclient.get(f"/registrations/{ana['id']}", headers=auth(tokens, person(1))).json
    assert shown["status"] == "confirmed"
    sessions = sclient.get(f"/cohorts/{cohort_id}/sessions", headers=auth(tokens, ADMIN)).json["items"]
    assert {s["status"] for s in sessions} == {"scheduled"}

    reopened = act(sclient, tokens, cohort_id, "reopen", COORDINATOR)
    assert reopened.status_code == 200, reopened.json
    assert reopened.json["status"] == "open"
    assert act(sclient, tokens, cohort_id, "reopen").json["status"] == "open"  # idempotent
    assert registered(sclient, tokens, cohort_id, person(2))["status"] == "confirmed"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_patch_does_not_change_status(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx)
    etag = sclient.get(f"/cohorts/{cohort_id}", headers=auth(tokens, ADMIN)).headers["ETag"]
    assert_problem(
        sclient.patch(
            f"/cohorts/{cohort_id}", json={"status": "closed"}, headers=auth(tokens, ADMIN, **{"If-Match": etag})
        ),
        422,
        "status",
    )
    assert sclient.get(f"/cohorts/{cohort_id}", headers=auth(tokens, ADMIN)).json["status"] == "open"


# --- cancel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cancelling_cancels_sessions_and_registrations_and_frees_the_bookings(
    sclient, tokens, scheduling_ctx, database
):
    cohort_id = make_cohort(scheduling_ctx, sessions=3, capacity=1, requires_approval=True)
    confirmed = registered(sclient, tokens, cohort_id, ADMIN, participant="p-1")
    waitlisted = registered(sclient, tokens, cohort_id, ADMIN, participant="p-2")
    pending = registered(sclient, tokens, cohort_id, person(3))
    assert [r["status"] for r in (confirmed, waitlisted, pending)] == ["confirmed", "waitlisted", "pending_approval"]
    gone = registered(sclient, tokens, cohort_id, person(4))
    assert (
        sclient.post(
            f"/registrations/{gone['id']}/cancel", json={"reason": "Moved"}, headers=auth(tokens, person(4))
        ).status_code
        == 200
    )
    sessions = sclient.get(f"/cohorts/{cohort_id}/sessions", headers=auth(tokens, ADMIN)).json["items"]
    holiday = sessions[-1]
    assert (
        sclient.post(
            f"/sessions/{holiday['id']}/cancel", json={"reason": "Holiday"}, headers=auth(tokens, ADMIN)
        ).status_code
        == 200
    )
    # The facilitator is booked: another cohort cannot have them at the same time.
    assert_problem(new_session_elsewhere(sclient, tokens, scheduling_ctx), 409)
    session_events = len(outbox_events(scheduling_ctx, "scheduling.session.cancelled"))
    registration_events = len(outbox_events(scheduling_ctx, "scheduling.registration.cancelled"))

    response = act(sclient, tokens, cohort_id, "cancel", COORDINATOR, {"reason": "  The host agency closed.  "})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["confirmed_count"]) == ("cancelled", 0)

    after = {
        s["id"]: s for s in sclient.get(f"/cohorts/{cohort_id}/sessions", headers=auth(tokens, ADMIN)).json["items"]
    }
    for before in sessions[:-1]:
        shown = after[before["id"]]
        assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "The host agency closed.")
        assert shown["sequence"] == before["sequence"] + 1
    assert (after[holiday["id"]]["cancel_reason"], after[holiday["id"]]["sequence"]) == ("Holiday", 1)
    with scheduling_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Booking).where(Booking.owner_id.in_(list(after)))) == 0
        rows = {r.participant: r for r in db.scalars(select(Registration).where(Registration.cohort_id == cohort_id))}
        assert {p: (r.status, r.waitlist_position, r.cancelled_reason) for p, r in rows.items()} == {
            "p-1": ("cancelled", None, "The host agency closed."),
            "p-2": ("cancelled", None, "The host agency closed."),
            "p-3": ("cancelled", None, "The host agency closed."),
            "p-4": ("cancelled", None, "Moved"),
        }
        audits = db.scalars(
            select(RegistrationAudit).where(
                RegistrationAudit.registration_id.in_([confirmed["id"], waitlisted["id"], pending["id"]]),
                RegistrationAudit.action == "cancelled",
            )
        ).all()
        assert sorted((a.detail["previous_status"], a.by, a.detail["cause"]) for a in audits) == [
            ("confirmed", "coord-ca", "cohort_cancelled"),
            ("pending_approval", "coord-ca", "cohort_cancelled"),
            ("waitlisted", "coord-ca", "cohort_cancelled"),
        ]

    staged = outbox_events(scheduling_ctx, "scheduling.session.cancelled")[session_events:]
    assert sorted(e.subject for e in staged) == sorted(s["id"] for s in sessions[:-1])
    assert all(
        e.data["reason"] == "The host agency closed." and e.data["registrant_ids"] == ["p-1"] and e.tenant == "CA"
        for e in staged
    )
    staged = outbox_events(scheduling_ctx, "scheduling.registration.cancelled")[registration_events:]
    assert sorted((e.data["participant"], e.data["status"], e.data["by"]) for e in staged) == [
        ("p-1", "cancelled", "coord-ca"),
        ("p-2", "cancelled", "coord-ca"),
        ("p-3", "cancelled", "coord-ca"),
    ]

    # The facilitator is free again at that time.
    assert new_session_elsewhere(sclient, tokens, scheduling_ctx).status_code == 201

    # Cancelled stays cancelled: no reopening, closing or new sessions; cancelling again changes nothing.
    before = counts(scheduling_ctx)
    assert_problem(act(sclient, tokens, cohort_id, "reopen"), 409, "status")
    assert_problem(act(sclient, tokens, cohort_id, "close"), 409, "status")
    assert_problem(
        sclient.post(
            f"/cohorts/{cohort_id}/sessions",
            headers=auth(tokens, ADMIN),
            json={
                "module_id": "m",
                "title": "T",
                "starts_at": "2031-05-01T09:00:00-07:00",
                "ends_at": "2031-05-01T10:00:00-07:00",
                "meeting_url": "https://meet.example.org/y",
            },
        ),
        409,
        "status",
    )
    assert_problem(register(sclient, tokens, cohort_id, person(5)), 409, "cohort")
    again = act(sclient, tokens, cohort_id, "cancel", body={"reason": "Once more"})
    assert again.status_code == 200 and again.json["status"] == "cancelled"
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_refusals_write_nothing(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx)
    registered(sclient, tokens, cohort_id, person(1))
    before, state = counts(scheduling_ctx), snapshot(scheduling_ctx, cohort_id)

    assert_problem(act(sclient, tokens, cohort_id, "cancel", body={}), 422, "reason")
    assert_problem(act(sclient, tokens, cohort_id, "cancel", body={"reason": "   "}), 422, "reason")
    assert_problem(act(sclient, tokens, cohort_id, "cancel", body={"reason": "x", "status": "open"}), 422, "status")
    for action, body in (("close", None), ("reopen", None), ("cancel", {"reason": "Not yours"})):
        assert_problem(act(sclient, tokens, cohort_id, action, TX_ADMIN, body), 404)
        assert_problem(act(sclient, tokens, cohort_id, action, FACILITATOR, body), 403)
        assert_problem(act(sclient, tokens, cohort_id, action, OTHER_COORDINATOR, body), 403)
        assert_problem(act(sclient, tokens, cohort_id, action, person(1), body), 403)
    assert_problem(act(sclient, tokens, "no-such-cohort", "close"), 404)

    assert counts(scheduling_ctx) == before
    assert snapshot(scheduling_ctx, cohort_id) == state
