"""Registrations over HTTP: seats then the waitlist, promotions, approval, window, roles, tenancy, audit, events."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Cohort, Registration, RegistrationAudit, platform
from services.scheduling.repository import seats
from services.scheduling.use_cases import registrations as use_cases
from shared.db import utcnow
from shared.envelope import parse_event
from tests.helpers import assert_problem, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]

COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
OTHER_COORDINATOR = ("agency_coordinator", "CA", "coord-ca-elsewhere")
ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
FACILITATOR = ("facilitator", "CA", "fac-ca")
OTHER_FACILITATOR = ("facilitator", "CA", "fac-ca-2")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
TX_PARTICIPANT = ("participant", "TX", "p-tx")


def person(n: int | str, tenant: str = "CA") -> tuple[str, str, str]:
    return ("participant", tenant, f"p-{n}")


def make_cohort(ctx, **overrides) -> str:
    """A CA cohort (one session) whose agency is coordinated by coord-ca; returns its id."""
    overrides.setdefault("sessions", 1)
    window = {
        name: overrides.pop(name) for name in ("registration_opens_at", "registration_closes_at") if name in overrides
    }
    with ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, **overrides)
        for name, value in window.items():
            setattr(cohort, name, value)
        uow.commit()
        return cohort.id


def body_for(who: tuple[str, str, str], **extra) -> dict:
    sub = who[2]
    return {"name": sub.replace("-", " ").title(), "email": f"{sub}@example.org", **extra}


def register(client, tokens, cohort_id: str, who, body: dict | None = None, headers: dict | None = None):
    return client.post(
        f"/cohorts/{cohort_id}/registrations",
        json=body if body is not None else body_for(who),
        headers={**auth(tokens, who), **(headers or {})},
    )


def registered(client, tokens, cohort_id: str, who, **extra) -> dict:
    response = register(client, tokens, cohort_id, who, body_for(who, **extra))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def cancel(client, tokens, registration_id: str, who, body: dict | None = None):
    return client.post(f"/registrations/{registration_id}/cancel", json=body, headers=auth(tokens, who))


def counts(ctx) -> dict:
    with ctx.db.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Registration, RegistrationAudit, platform.outbox)
        }


def outbox_events(ctx, verb: str | None = None) -> list:
    with ctx.db.session() as session:
        stmt = select(platform.outbox).where(platform.outbox.event_type.like("scheduling.registration.%"))
        if verb:
            stmt = stmt.where(platform.outbox.event_type == f"scheduling.registration.{verb}")
        return [parse_event(row.body) for row in session.scalars(stmt.order_by(platform.outbox.id))]


def audit(ctx, registration_id: str) -> list[RegistrationAudit]:
    with ctx.db.session() as session:
        return list(
            session.scalars(
                select(RegistrationAudit)
                .where(RegistrationAudit.registration_id == registration_id)
                .order_by(RegistrationAudit.at, RegistrationAudit.id)
            )
        )


def taken(ctx, cohort_id: str) -> tuple[int, int]:
    """(seats held, waitlist spots handed out) of the cohort."""
    with ctx.db.session() as session:
        return factories.spots_taken(session, cohort_id)


def statuses(client, tokens, cohort_id: str) -> dict[str, tuple[str, int | None]]:
    page = client.get(f"/cohorts/{cohort_id}/registrations?limit=200", headers=auth(tokens, ADMIN))
    assert page.status_code == 200, page.json
    return {item["participant"]: (item["status"], item["waitlist_position"]) for item in page.json["items"]}


# --- seats, then the waitlist ------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_seat_left_free_while_people_wait_goes_to_them_not_to_a_newcomer(sclient, tokens, scheduling_ctx, database):
    # As after a process died holding a seat it had claimed: one seat free, one person waiting.
    with scheduling_ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, capacity=1, sessions=1)
        waiting = factories.registration(uow.session, cohort, "p-0", status="waitlisted")
        uow.commit()
        cohort_id, waiting_id = cohort.id, waiting.id
    newcomer = registered(sclient, tokens, cohort_id, person(1))
    assert (newcomer["status"], newcomer["waitlist_position"]) == ("waitlisted", 2)  # behind p-0

    assert use_cases.hand_on_all_free_seats(scheduling_ctx.db) == 1  # what the worker runs periodically
    assert statuses(sclient, tokens, cohort_id) == {"p-0": ("confirmed", None), "p-1": ("waitlisted", 2)}
    assert taken(scheduling_ctx, cohort_id) == (1, 2)
    promoted = outbox_events(scheduling_ctx, "promoted")
    assert [e.data["registration_id"] for e in promoted] == [waiting_id]
    assert use_cases.hand_on_all_free_seats(scheduling_ctx.db) == 0  # nothing left to do


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_waitlist_outgrows_the_spots_made_in_advance(sclient, tokens, scheduling_ctx, database, monkeypatch):
    monkeypatch.setattr(seats, "WAITLIST_BATCH", 2)  # one seat, two waitlist spots made with the cohort
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    made = [registered(sclient, tokens, cohort_id, person(n)) for n in range(8)]
    assert [(r["status"], r["waitlist_position"]) for r in made] == [("confirmed", None)] + [
        ("waitlisted", position) for position in range(1, 8)
    ]
    assert taken(scheduling_ctx, cohort_id) == (1, 7)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_seats_while_they_last_then_the_waitlist_in_order(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    made = [registered(sclient, tokens, cohort_id, person(n), registry_id=f"R-{n}") for n in range(4)]
    assert [(r["status"], r["waitlist_position"]) for r in made] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    first = made[0]
    assert (first["participant"], first["tenant"], first["cohort_id"], first["source"]) == (
        "p-0",
        "CA",
        cohort_id,
        "self",
    )
    assert first["registry_id"] == "R-0" and first["email"] == "p-0@example.org"
    assert taken(scheduling_ctx, cohort_id) == (2, 2)

    events = outbox_events(scheduling_ctx)
    assert [e.type for e in events] == ["scheduling.registration.confirmed"] * 2 + [
        "scheduling.registration.waitlisted"
    ] * 2
    assert events[2].subject == made[2]["id"] and events[2].tenant == "CA"
    assert events[2].data["waitlist_position"] == 1 and events[2].data["by"] == "p-2"
    assert events[0].data["email"] == "p-0@example.org"
    for registration in made:
        [entry] = audit(scheduling_ctx, registration["id"])
        assert (entry.action, entry.by, entry.detail["status"]) == (
            "registered",
            registration["participant"],
            registration["status"],
        )

    location = register(sclient, tokens, cohort_id, person(9))
    assert location.headers["Location"].endswith(f"/registrations/{location.json['id']}")
    mine = sclient.get(location.headers["Location"], headers=auth(tokens, person(9)))
    assert mine.status_code == 200 and mine.json["waitlist_position"] == 3
    assert sclient.get(f"/registrations/{first['id']}", headers=auth(tokens, FACILITATOR)).status_code == 200


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_one_registration_per_person_and_a_cancelled_one_is_taken_up_again(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    first = registered(sclient, tokens, cohort_id, person(1))
    before = counts(scheduling_ctx)
    assert_problem(register(sclient, tokens, cohort_id, person(1)), 409, "participant")
    on_behalf = register(sclient, tokens, cohort_id, COORDINATOR, body_for(person(1), participant="p-1"))
    assert_problem(on_behalf, 409, "participant")
    assert counts(scheduling_ctx) == before

    assert cancel(sclient, tokens, first["id"], person(1), {"reason": "Schedule conflict"}).status_code == 200
    waitlisted = registered(sclient, tokens, cohort_id, person(2))
    assert waitlisted["status"] == "confirmed"  # the freed seat
    again = registered(sclient, tokens, cohort_id, person(1), registry_id="R-new")
    assert again["id"] == first["id"]  # the same row, reused
    assert (again["status"], again["waitlist_position"], again["cancelled_reason"], again["registry_id"]) == (
        "waitlisted",
        1,
        None,
        "R-new",
    )
    assert [entry.action for entry in audit(scheduling_ctx, first["id"])] == ["registered", "cancelled", "registered"]
    assert audit(scheduling_ctx, first["id"])[-1].detail["registered_again"] is True
    with scheduling_ctx.db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Registration).where(Registration.participant == "p-1")) == 1
        )


# --- cancellation and promotion -----------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cancellation_promotes_the_first_on_the_waitlist(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    made = {n: registered(sclient, tokens, cohort_id, person(n)) for n in range(5)}  # p-2, p-3, p-4 wait

    # Only the participant or a manager cancels; others of the jurisdiction learn nothing or are refused.
    before = counts(scheduling_ctx)
    assert_problem(cancel(sclient, tokens, made[0]["id"], person(3)), 404)
    assert_problem(cancel(sclient, tokens, made[0]["id"], FACILITATOR), 403)
    assert_problem(cancel(sclient, tokens, made[0]["id"], OTHER_COORDINATOR), 403)
    assert_problem(
        sclient.post(
            f"/registrations/{made[0]['id']}/cancel",
            data="reason=x",
            content_type="application/x-www-form-urlencoded",
            headers=auth(tokens, person(0)),
        ),
        415,
    )
    assert_problem(cancel(sclient, tokens, made[0]["id"], person(0), {"reason": "x" * 2001}), 422, "reason")
    assert_problem(cancel(sclient, tokens, made[0]["id"], person(0), {"status": "x"}), 422, "status")
    assert counts(scheduling_ctx) == before

    cancelled = cancel(sclient, tokens, made[0]["id"], person(0), {"reason": "Moved away"})
    assert cancelled.status_code == 200, cancelled.json
    assert (cancelled.json["status"], cancelled.json["cancelled_reason"]) == ("cancelled", "Moved away")
    assert statuses(sclient, tokens, cohort_id) == {
        "p-0": ("cancelled", None),
        "p-1": ("confirmed", None),
        "p-2": ("confirmed", None),
        "p-3": ("waitlisted", 2),
        "p-4": ("waitlisted", 3),
    }
    [cancel_event] = outbox_events(scheduling_ctx, "cancelled")
    [promoted_event] = outbox_events(scheduling_ctx, "promoted")
    assert (cancel_event.subject, cancel_event.data["by"]) == (made[0]["id"], "p-0")
    assert (promoted_event.subject, promoted_event.data["status"], promoted_event.data["participant"]) == (
        made[2]["id"],
        "confirmed",
        "p-2",
    )
    assert promoted_event.correlationid == cancel_event.correlationid
    promoted_audit = audit(scheduling_ctx, made[2]["id"])
    assert [entry.action for entry in promoted_audit] == ["registered", "promoted"]
    assert promoted_audit[-1].detail == {"status": "confirmed", "from_waitlist_position": 1, "cause": "cancellation"}
    assert_problem(cancel(sclient, tokens, made[0]["id"], person(0)), 409, "status")

    # A manager cancels someone on the waitlist: no seat is freed, nobody is promoted.
    assert cancel(sclient, tokens, made[3]["id"], COORDINATOR).status_code == 200
    assert len(outbox_events(scheduling_ctx, "promoted")) == 1
    # A confirmed participant cancels with no body at all: the next in line (p-4) is promoted.
    bare = sclient.post(f"/registrations/{made[1]['id']}/cancel", headers=auth(tokens, person(1)))
    assert bare.status_code == 200, bare.json
    assert statuses(sclient, tokens, cohort_id)["p-4"] == ("confirmed", None)
    assert taken(scheduling_ctx, cohort_id) == (2, 3)  # positions are never handed out twice


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_raising_capacity_promotes_in_waitlist_order(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    made = {n: registered(sclient, tokens, cohort_id, person(n)) for n in range(6)}  # p-1..p-5 wait, 1..5
    assert cancel(sclient, tokens, made[2]["id"], person(2)).status_code == 200  # position 2 leaves the line
    url = f"/cohorts/{cohort_id}/capacity"

    before = counts(scheduling_ctx)
    assert_problem(sclient.put(url, json={"capacity": 3}, headers=auth(tokens, person(0))), 403)
    assert_problem(sclient.put(url, json={"capacity": 3}, headers=auth(tokens, OTHER_COORDINATOR)), 403)
    assert_problem(sclient.put(url, json={"capacity": 3}, headers=auth(tokens, TX_ADMIN)), 404)
    assert_problem(sclient.put(url, json={"capacity": 0}, headers=auth(tokens, COORDINATOR)), 422, "capacity")
    assert_problem(sclient.put(url, json={"capacity": "many"}, headers=auth(tokens, COORDINATOR)), 422, "capacity")
    assert_problem(
        sclient.put(url, json={"capacity": 3, "confirmed": 9}, headers=auth(tokens, COORDINATOR)), 422, "confirmed"
    )
    assert_problem(sclient.put(url, data="capacity=3", headers=auth(tokens, COORDINATOR)), 415)
    assert counts(scheduling_ctx) == before

    raised = sclient.put(url, json={"capacity": 3}, headers=auth(tokens, COORDINATOR))
    assert raised.status_code == 200, raised.json
    assert raised.json["promoted"] == [made[1]["id"], made[3]["id"]]
    assert {k: raised.json[k] for k in ("capacity", "confirmed", "waitlisted", "pending_approval", "seats_free")} == {
        "capacity": 3,
        "confirmed": 3,
        "waitlisted": 2,
        "pending_approval": 0,
        "seats_free": 0,
    }
    assert [e.subject for e in outbox_events(scheduling_ctx, "promoted")] == [made[1]["id"], made[3]["id"]]
    assert audit(scheduling_ctx, made[3]["id"])[-1].detail["cause"] == "capacity"
    assert statuses(sclient, tokens, cohort_id)["p-4"] == ("waitlisted", 4)

    before = counts(scheduling_ctx)
    lowered = sclient.put(url, json={"capacity": 2}, headers=auth(tokens, ADMIN))
    assert_problem(lowered, 409, "capacity")
    assert counts(scheduling_ctx) == before
    with scheduling_ctx.db.session() as session:
        assert session.get(Cohort, cohort_id).capacity == 3

    more = sclient.put(url, json={"capacity": 10}, headers=auth(tokens, ADMIN))
    assert more.json["promoted"] == [made[4]["id"], made[5]["id"]] and more.json["seats_free"] == 5
    shown = sclient.get(url, headers=auth(tokens, FACILITATOR))
    assert shown.status_code == 200 and shown.json["confirmed"] == 5 and shown.json["promoted"] == []
    assert_problem(sclient.get(url, headers=auth(tokens, person(0))), 403)
    # Nobody left waiting: a later registration gets a free seat at once.
    assert registered(sclient, tokens, cohort_id, person(7))["status"] == "confirmed"


# --- approval -----------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_approval_flow(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1, requires_approval=True)
    pending = {n: registered(sclient, tokens, cohort_id, person(n)) for n in range(4)}
    assert {r["status"] for r in pending.values()} == {"pending_approval"}
    assert outbox_events(scheduling_ctx) == []  # nothing to announce until a decision

    def act(verb, n, who=COORDINATOR, **kwargs):
        return sclient.post(f"/registrations/{pending[n]['id']}/{verb}", headers=auth(tokens, who), **kwargs)

    before = counts(scheduling_ctx)
    assert_problem(act("approve", 0, person(0)), 403)
    assert_problem(act("approve", 0, FACILITATOR), 403)
    assert_problem(act("approve", 0, OTHER_COORDINATOR), 403)
    assert_problem(act("approve", 0, TX_ADMIN), 404)
    assert_problem(act("decline", 0, json={"reason": 5}), 422, "reason")
    assert counts(scheduling_ctx) == before

    first = act("approve", 0)
    assert first.status_code == 200 and first.json["status"] == "confirmed"
    second = act("approve", 1, ADMIN)
    assert (second.json["status"], second.json["waitlist_position"]) == ("waitlisted", 1)
    declined = act("decline", 2, json={"reason": "Not in the agency's service area"})
    assert (declined.json["status"], declined.json["cancelled_reason"]) == (
        "cancelled",
        "Not in the agency's service area",
    )
    assert act("decline", 3).json["cancelled_reason"]  # a default reason when none is given
    assert_problem(act("approve", 0), 409, "status")
    assert_problem(act("decline", 1), 409, "status")

    assert [(e.type.rsplit(".", 1)[1], e.subject) for e in outbox_events(scheduling_ctx)] == [
        ("confirmed", pending[0]["id"]),
        ("waitlisted", pending[1]["id"]),
        ("cancelled", pending[2]["id"]),
        ("cancelled", pending[3]["id"]),
    ]
    assert [(a.action, a.by) for a in audit(scheduling_ctx, pending[0]["id"])] == [
        ("registered", "p-0"),
        ("approved", "coord-ca"),
    ]
    assert audit(scheduling_ctx, pending[2]["id"])[-1].action == "declined"

    # When the confirmed participant leaves, the approved one waiting is promoted.
    assert cancel(sclient, tokens, pending[0]["id"], person(0)).status_code == 200
    assert statuses(sclient, tokens, cohort_id)["p-1"] == ("confirmed", None)

    # A coordinator's own registration of someone is their approval: no pending step.
    by_coordinator = register(sclient, tokens, cohort_id, COORDINATOR, body_for(person(8), participant="p-8"))
    assert by_coordinator.status_code == 201, by_coordinator.json
    assert (by_coordinator.json["status"], by_coordinator.json["source"]) == ("waitlisted", "coordinator")


# --- the registration window ---------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_registration_outside_the_window_is_refused(sclient, tokens, scheduling_ctx, database):
    now = utcnow()
    closed = make_cohort(
        scheduling_ctx, registration_opens_at=now - timedelta(days=10), registration_closes_at=now - timedelta(days=1)
    )
    not_yet = make_cohort(scheduling_ctx, registration_opens_at=now + timedelta(days=1))
    is_open = make_cohort(
        scheduling_ctx, registration_opens_at=now - timedelta(days=1), registration_closes_at=now + timedelta(days=1)
    )
    before = counts(scheduling_ctx)
    late = assert_problem(register(sclient, tokens, closed, person(1)), 409, "registration_closes_at")
    assert late["registration_closes_at"]
    assert_problem(register(sclient, tokens, not_yet, person(1)), 409, "registration_opens_at")
    assert counts(scheduling_ctx) == before
    assert taken(scheduling_ctx, closed) == (0, 0)
    assert registered(sclient, tokens, is_open, person(1))["status"] == "confirmed"
    # A coordinator adds a latecomer after the window closed.
    late_add = register(sclient, tokens, closed, COORDINATOR, body_for(person(2), participant="p-2"))
    assert late_add.status_code == 201 and late_add.json["status"] == "confirmed"

    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(Cohort, is_open).status = "cancelled"
        uow.commit()
    assert_problem(register(sclient, tokens, is_open, person(3)), 409, "cohort")


# --- bad input, roles and tenancy: refused with nothing written --------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_registrations_are_refused_with_nothing_written(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx)
    me = person(1)
    before = counts(scheduling_ctx)
    assert_problem(register(sclient, tokens, cohort_id, me, {}), 422, "name", "email")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, email="not-an-email")), 422, "email")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, name="")), 422, "name")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, status="confirmed")), 422, "status")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, tenant="TX")), 422, "tenant")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, participant="")), 422, "participant")
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(me, registry_id="r" * 101)), 422, "registry_id")
    assert_problem(register(sclient, tokens, cohort_id, me, ["a list"]), 422)
    assert_problem(
        sclient.post(
            f"/cohorts/{cohort_id}/registrations",
            data="name=x",
            headers=auth(tokens, me),
            content_type="application/x-www-form-urlencoded",
        ),
        415,
    )
    assert_problem(
        sclient.post(
            f"/cohorts/{cohort_id}/registrations", data="{", headers=auth(tokens, me), content_type="application/json"
        ),
        400,
    )
    assert_problem(sclient.post(f"/cohorts/{cohort_id}/registrations", json=body_for(me)), 401)
    # A participant cannot register someone else; an unknown cohort is a 404.
    assert_problem(register(sclient, tokens, cohort_id, me, body_for(person(2), participant="p-2")), 403)
    assert_problem(register(sclient, tokens, "no-such-cohort", me), 404)
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_another_jurisdiction_gets_404_and_writes_nothing(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    confirmed = registered(sclient, tokens, cohort_id, person(1))
    waiting = registered(sclient, tokens, cohort_id, person(2))
    before = counts(scheduling_ctx)
    for who in (TX_ADMIN, TX_PARTICIPANT, ("agency_coordinator", "TX", "coord-ca")):
        assert_problem(register(sclient, tokens, cohort_id, who), 404)
        assert_problem(register(sclient, tokens, cohort_id, who, body_for(person(5), participant="p-5")), 404)
        assert_problem(sclient.get(f"/cohorts/{cohort_id}/registrations", headers=auth(tokens, who)), 404)
        assert_problem(sclient.get(f"/registrations/{confirmed['id']}", headers=auth(tokens, who)), 404)
        assert_problem(cancel(sclient, tokens, confirmed["id"], who), 404)
        assert_problem(sclient.get(f"/cohorts/{cohort_id}/capacity", headers=auth(tokens, who)), 404)
        assert sclient.get("/me/registrations", headers=auth(tokens, who)).json["items"] == []
    for verb in ("approve", "decline"):
        assert_problem(sclient.post(f"/registrations/{waiting['id']}/{verb}", headers=auth(tokens, TX_ADMIN)), 404)
    assert_problem(
        sclient.put(f"/cohorts/{cohort_id}/capacity", json={"capacity": 5}, headers=auth(tokens, TX_ADMIN)), 404
    )
    assert_problem(sclient.get(f"/registrations/{confirmed['id']}/audit", headers=auth(tokens, TX_ADMIN)), 404)
    assert counts(scheduling_ctx) == before
    assert statuses(sclient, tokens, cohort_id) == {"p-1": ("confirmed", None), "p-2": ("waitlisted", 1)}
    # The same sub in the right jurisdiction is the participant again.
    assert sclient.get(f"/registrations/{confirmed['id']}", headers=auth(tokens, person(1))).status_code == 200
    # A national admin sees every jurisdiction.
    national = ("national_admin", "US", "admin-us")
    assert sclient.get(f"/registrations/{confirmed['id']}", headers=auth(tokens, national)).status_code == 200


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_lists_of_registrations(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    other_cohort = make_cohort(scheduling_ctx, capacity=5)
    made = [registered(sclient, tokens, cohort_id, person(n)) for n in range(7)]
    registered(sclient, tokens, other_cohort, person(0))
    url = f"/cohorts/{cohort_id}/registrations"

    # The waitlist in its order, page by page.
    first = sclient.get(f"{url}?status=waitlisted&limit=2", headers=auth(tokens, COORDINATOR))
    assert first.status_code == 200, first.json
    assert [i["waitlist_position"] for i in first.json["items"]] == [1, 2]
    assert 'rel="next"' in first.headers["Link"]
    seen = [i["id"] for i in first.json["items"]]
    cursor = first.json["next_cursor"]
    while cursor:
        page = sclient.get(f"{url}?status=waitlisted&limit=2&cursor={cursor}", headers=auth(tokens, ADMIN))
        seen += [i["id"] for i in page.json["items"]]
        cursor = page.json.get("next_cursor")
    assert seen == [r["id"] for r in made[2:]]

    confirmed = sclient.get(f"{url}?status=confirmed", headers=auth(tokens, FACILITATOR))
    assert {i["participant"] for i in confirmed.json["items"]} == {"p-0", "p-1"}
    everything = sclient.get(url, headers=auth(tokens, ("integration", "CA", "state-registry")))
    assert len(everything.json["items"]) == 7
    assert_problem(sclient.get(f"{url}?status=maybe", headers=auth(tokens, ADMIN)), 422, "status")
    assert_problem(sclient.get(f"{url}?cursor=garbage", headers=auth(tokens, ADMIN)), 422, "cursor")
    assert_problem(sclient.get(url, headers=auth(tokens, OTHER_FACILITATOR)), 403)
    assert_problem(sclient.get(url, headers=auth(tokens, OTHER_COORDINATOR)), 403)
    assert_problem(sclient.get(url, headers=auth(tokens, person(0))), 403)
    assert_problem(sclient.get("/cohorts/nope/registrations", headers=auth(tokens, ADMIN)), 404)

    # A participant sees their own registrations across cohorts, and no one else's.
    mine = sclient.get("/me/registrations", headers=auth(tokens, person(0)))
    assert {i["cohort_id"] for i in mine.json["items"]} == {cohort_id, other_cohort}
    assert sclient.get("/me/registrations?status=waitlisted", headers=auth(tokens, person(0))).json["items"] == []
    assert_problem(sclient.get(f"/registrations/{made[1]['id']}", headers=auth(tokens, person(0))), 404)
    assert_problem(sclient.get("/registrations/nope", headers=auth(tokens, ADMIN)), 404)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_audit_trail_and_idempotent_registration(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    keyed = {"Idempotency-Key": "reg-p0-1"}
    first = register(sclient, tokens, cohort_id, person(0), headers=keyed)
    again = register(sclient, tokens, cohort_id, person(0), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert counts(scheduling_ctx)["Registration"] == 1
    assert_problem(
        register(sclient, tokens, cohort_id, person(0), body_for(person(0), name="Other"), headers=keyed),
        422,
        "Idempotency-Key",
    )
    # A refused create with a key frees the key (and, on SQLite, the write lock) at once: no wait, no 500.
    started = time.monotonic()
    assert_problem(register(sclient, tokens, cohort_id, person(0), headers={"Idempotency-Key": "dup"}), 409)
    assert time.monotonic() - started < 5
    assert_problem(register(sclient, tokens, cohort_id, person(0), headers={"Idempotency-Key": "dup"}), 409)

    waiting = registered(sclient, tokens, cohort_id, person(1))
    cancel(sclient, tokens, first.json["id"], COORDINATOR, {"reason": "No-show at session 1"})
    trail = sclient.get(f"/registrations/{waiting['id']}/audit", headers=auth(tokens, COORDINATOR))
    assert trail.status_code == 200, trail.json
    assert [(e["action"], e["by"]) for e in trail.json["items"]] == [("registered", "p-1"), ("promoted", "coord-ca")]
    assert all(e["at"] for e in trail.json["items"])
    cancelled = sclient.get(f"/registrations/{first.json['id']}/audit", headers=auth(tokens, ADMIN)).json["items"]
    assert cancelled[-1]["detail"] == {
        "status": "cancelled",
        "previous_status": "confirmed",
        "reason": "No-show at session 1",
    }
    assert_problem(sclient.get(f"/registrations/{waiting['id']}/audit", headers=auth(tokens, person(1))), 403)
    assert_problem(sclient.get(f"/registrations/{waiting['id']}/audit", headers=auth(tokens, OTHER_COORDINATOR)), 403)
