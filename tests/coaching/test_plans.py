"""Plans: opened once by a completion of the training for trainers, with the jurisdiction's default specialist
and time frame; the time frame agreed and recorded; the status moving with the clock; deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.coaching.models import Commitment, Plan, platform
from tests.coaching.conftest import deliver, open_plan
from tests.helpers import assert_problem, auth

ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
SPECIALIST = ("specialist", "CA", "its-ca")
TRAINER = ("facilitator", "CA", "trainer-ca-1")


def plans_in(ctx) -> list[Plan]:
    with ctx.db.session() as session:
        return list(session.scalars(select(Plan)))


def outbox_types(ctx) -> list[str]:
    with ctx.db.session() as session:
        return list(session.scalars(select(platform.outbox.event_type).order_by(platform.outbox.id)))


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_completion_opens_one_plan_with_the_default_specialist_and_time_frame(cclient, tokens, coaching_ctx):
    changed = cclient.patch(
        "/settings", json={"default_specialist": "its-ca", "default_time_frame_months": 6}, headers=auth(tokens, ADMIN)
    )
    assert changed.status_code == 200, changed.json
    data = open_plan(coaching_ctx, completed_at="2026-08-31T17:00:00+00:00")
    # The same completion again, by another event id (a re-emission) or the backfill, opens nothing new.
    deliver(coaching_ctx, "scheduling.participant.completed", data)
    [plan] = plans_in(coaching_ctx)
    assert (plan.trainer, plan.specialist, plan.tenant, plan.opened_by) == ("trainer-ca-1", "its-ca", "CA", "event")
    assert outbox_types(coaching_ctx) == ["coaching.default_specialist.changed", "coaching.plan.created"]

    shown = cclient.get(f"/plans/{plan.id}", headers=auth(tokens, TRAINER))
    assert shown.status_code == 200
    commitment = shown.json["commitment"]
    assert (commitment["due_on"], commitment["time_frame_months"]) == ("2027-02-28", 6)
    assert commitment["status"] == "on_track" and commitment["agreed_by"] == []


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_the_caseload_and_the_plan_name_the_trainer_as_registered(cclient, tokens, coaching_ctx):
    from shared.envelope import parse_event

    cclient.patch("/settings", json={"default_specialist": "its-ca"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="trainer-ca-1", participant_name="Ana López")
    open_plan(coaching_ctx, trainer="trainer-ca-2")  # a completion published before names were: no name
    caseload = cclient.get("/caseload", headers=auth(tokens, SPECIALIST))
    assert caseload.status_code == 200, caseload.json
    assert sorted((i["trainer"], i["trainer_name"]) for i in caseload.json["items"]) == [
        ("trainer-ca-1", "Ana López"),
        ("trainer-ca-2", None),
    ]
    [plan] = cclient.get("/plans?trainer=trainer-ca-1", headers=auth(tokens, ADMIN)).json["items"]
    assert plan["trainer_name"] == "Ana López"
    assert cclient.get(f"/plans/{plan['id']}", headers=auth(tokens, TRAINER)).json["trainer_name"] == "Ana López"
    with coaching_ctx.db.session() as session:
        bodies = session.scalars(
            select(platform.outbox.body).where(platform.outbox.event_type == "coaching.plan.created")
        ).all()
    assert sorted(str(parse_event(b).data["trainer_name"]) for b in bodies) == ["Ana López", "None"]


def test_a_completion_of_another_series_opens_nothing(coaching_ctx):
    open_plan(coaching_ctx, series_id="another-series")
    assert plans_in(coaching_ctx) == []


def test_the_status_turns_due_soon_then_overdue_as_the_clock_moves(cclient, tokens, coaching_ctx, clock):
    open_plan(coaching_ctx, completed_at="2026-08-31T17:00:00+00:00")
    [plan] = plans_in(coaching_ctx)

    def status() -> str:
        return cclient.get(f"/plans/{plan.id}", headers=auth(tokens, ADMIN)).json["commitment"]["status"]

    assert status() == "on_track"
    clock.now = datetime(2027, 1, 29, 9, tzinfo=UTC)  # 30 days before 28 February
    assert status() == "due_soon"
    clock.now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    assert status() == "overdue"


def test_an_agreed_time_frame_records_who_and_when_and_moves_the_due_date(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx, completed_at="2027-08-31T17:00:00+00:00")
    [plan] = plans_in(coaching_ctx)
    cclient.patch(f"/plans/{plan.id}", json={"specialist": "its-ca"}, headers=auth(tokens, ADMIN))
    agreement = {
        "months": 6,
        "agreed_on": "2027-09-10",
        "agreed_by": [
            {"party": "participant", "name": "Ana Ruiz"},
            {"party": "specialist", "name": "Iris Tan"},
            {"party": "host_agency", "name": "Bay Area Child Care Council"},
        ],
    }
    synced = cclient.get("/plans?changed_after=0", headers=auth(tokens, ("integration", "CA", "registry"))).json
    assert [p["id"] for p in synced["items"]] == [plan.id]
    agreed = cclient.put(f"/plans/{plan.id}/time-frame", json=agreement, headers=auth(tokens, SPECIALIST))
    assert agreed.status_code == 200, agreed.json
    commitment = agreed.json["commitment"]
    assert commitment["due_on"] == "2028-02-29"  # leap year
    assert commitment["agreed_by"] == agreement["agreed_by"]
    assert (commitment["agreed_on"], commitment["agreement_recorded_by"]) == ("2027-09-10", "its-ca")

    # The changed commitment comes to the next sync of the plans.
    resync = cclient.get(
        f"/plans?changed_after={synced['last_change']}", headers=auth(tokens, ("integration", "CA", "registry"))
    ).json["items"]
    assert [(p["id"], p["commitment"]["due_on"]) for p in resync] == [(plan.id, "2028-02-29")]
    nine = {**agreement, "months": 9}
    assert (
        cclient.put(f"/plans/{plan.id}/time-frame", json=nine, headers=auth(tokens, ADMIN)).json["commitment"]["due_on"]
        == "2028-05-31"
    )


def test_a_time_frame_without_the_parties_or_by_someone_else_is_refused(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx)
    [plan] = plans_in(coaching_ctx)
    alone = {"months": 3, "agreed_on": "2026-09-10", "agreed_by": [{"party": "participant", "name": "Ana"}]}
    assert_problem(
        cclient.put(f"/plans/{plan.id}/time-frame", json=alone, headers=auth(tokens, ADMIN)), 422, "agreed_by"
    )
    other = auth(tokens, ("specialist", "CA", "not-their-specialist"))
    full = {
        **alone,
        "agreed_by": [
            *alone["agreed_by"],
            {"party": "specialist", "name": "x"},
            {"party": "jurisdiction", "name": "CA"},
        ],
    }
    assert cclient.put(f"/plans/{plan.id}/time-frame", json=full, headers=other).status_code == 403
    with coaching_ctx.db.session() as session:
        assert session.scalar(select(Commitment.time_frame_months)) == 6


def test_a_delivery_recorded_with_evidence_fulfils_the_commitment(cclient, tokens, coaching_ctx, clock):
    open_plan(coaching_ctx)
    [plan] = plans_in(coaching_ctx)
    clock.now = datetime(2027, 6, 1, tzinfo=UTC)
    recorded = cclient.put(
        f"/plans/{plan.id}/delivery",
        json={"delivered_on": "2027-01-20", "evidence": "Sign-in sheets of three sessions at Oakland Head Start"},
        headers=auth(tokens, ADMIN),
    )
    assert recorded.status_code == 200, recorded.json
    assert recorded.json["commitment"]["status"] == "fulfilled"
    assert recorded.json["commitment"]["fulfilled_by"] == "evidence"
    assert outbox_types(coaching_ctx)[-1] == "coaching.commitment.fulfilled"
    again = cclient.put(
        f"/plans/{plan.id}/delivery", json={"delivered_on": "2027-01-21", "evidence": "x"}, headers=auth(tokens, ADMIN)
    )
    assert again.status_code == 409


def session_event(cohort, session_id, facilitators, starts_at, *, sequence=0):
    return {
        "session_id": session_id,
        "cohort_id": cohort,
        "series_id": "community-series",
        "module_id": None,
        "module_position": 1,
        "title": "Session",
        "format": "in_person",
        "starts_at": starts_at,
        "ends_at": starts_at,
        "time_zone": "America/Los_Angeles",
        "local_start": "x",
        "local_end": "x",
        "facilitators": facilitators,
        "sequence": sequence,
    }


def attendance(cohort, session_id, participant="parent-1"):
    return {
        "session_id": session_id,
        "cohort_id": cohort,
        "registration_id": "r-" + participant,
        "participant": participant,
        "status": "present",
        "minutes": 120,
        "recorded_by": "trainer-ca-1",
    }


def test_facilitating_a_cohort_whose_sessions_are_held_fulfils_the_commitment(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx)
    [plan] = plans_in(coaching_ctx)
    cohort = "cohort-community-1"
    for n, day in ((1, "2027-01-05"), (2, "2027-01-12"), (3, "2027-01-19")):
        deliver(
            coaching_ctx,
            "scheduling.session.scheduled",
            session_event(cohort, f"s{n}", ["trainer-ca-1"], f"{day}T17:00:00Z"),
        )
    deliver(
        coaching_ctx,
        "scheduling.session.cancelled",
        session_event(cohort, "s3", ["trainer-ca-1"], "2027-01-19T17:00:00Z", sequence=1),
    )

    def commitment():
        return cclient.get(f"/plans/{plan.id}", headers=auth(tokens, ADMIN)).json["commitment"]

    assert commitment()["delivery_scheduled_at"] is not None and commitment()["first_session_held_at"] is None
    deliver(
        coaching_ctx,
        "scheduling.attendance.recorded",
        attendance(cohort, "s1"),
        time=datetime(2027, 1, 5, 19, tzinfo=UTC),
    )
    assert commitment()["first_session_held_at"].startswith("2027-01-05") and commitment()["status"] != "fulfilled"
    deliver(
        coaching_ctx,
        "scheduling.attendance.recorded",
        attendance(cohort, "s2"),
        time=datetime(2027, 1, 12, 19, tzinfo=UTC),
    )
    done = commitment()
    assert (done["status"], done["fulfilled_by"], done["delivery_cohort_id"]) == ("fulfilled", "cohort", cohort)
    assert done["fulfilled_on"] == "2027-01-12"
    assert outbox_types(coaching_ctx).count("coaching.commitment.fulfilled") == 1
    # Further attendance changes nothing.
    deliver(coaching_ctx, "scheduling.attendance.recorded", attendance(cohort, "s2", "parent-2"))
    assert outbox_types(coaching_ctx).count("coaching.commitment.fulfilled") == 1


def test_plans_of_another_jurisdiction_are_not_found(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx, tenant="CA")
    [plan] = plans_in(coaching_ctx)
    for who in (
        ("jurisdiction_admin", "NY", "admin-ny"),
        ("specialist", "NY", "its-ny"),
        ("national_admin", "US", "nat"),
    ):
        assert_problem(cclient.get(f"/plans/{plan.id}", headers=auth(tokens, who)), 404)
        assert cclient.get("/plans", headers=auth(tokens, who)).json["items"] == []
    for path, body in ((f"/plans/{plan.id}", {"specialist": "x"}),):
        assert_problem(cclient.patch(path, json=body, headers=auth(tokens, ("jurisdiction_admin", "NY", "a"))), 404)
    assert_problem(
        cclient.put(
            f"/plans/{plan.id}/delivery",
            json={"delivered_on": "2027-01-01", "evidence": "x"},
            headers=auth(tokens, ("jurisdiction_admin", "NY", "a")),
        ),
        404,
    )
    assert (
        cclient.get(f"/plans/{plan.id}", headers=auth(tokens, ("facilitator", "CA", "someone-else"))).status_code == 404
    )
    with coaching_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Plan).where(Plan.specialist.is_not(None))) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_admin_finds_the_trainers_without_a_specialist_and_any_specialists_caseload(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx, trainer="trainer-ca-1")  # no default specialist yet: nobody supports her
    cclient.patch("/settings", json={"default_specialist": "its-ca"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="trainer-ca-2")
    open_plan(coaching_ctx, trainer="trainer-tx-1", tenant="TX")  # another jurisdiction's, also without one

    def caseload(who, **query):
        answer = cclient.get("/caseload", query_string=query, headers=auth(tokens, who))
        assert answer.status_code == 200, answer.json
        return answer.json["specialist"], [item["trainer"] for item in answer.json["items"]]

    assert caseload(ADMIN, unassigned="true") == (None, ["trainer-ca-1"])
    assert caseload(ADMIN, specialist="its-ca") == ("its-ca", ["trainer-ca-2"])
    assert caseload(ADMIN) == ("admin-ca", [])  # their own, as before
    assert caseload(SPECIALIST) == ("its-ca", ["trainer-ca-2"])
    # Only admins see others' trainers or those without a specialist; both at once is not a question.
    assert_problem(cclient.get("/caseload?unassigned=true", headers=auth(tokens, SPECIALIST)), 403)
    assert_problem(cclient.get("/caseload?specialist=other", headers=auth(tokens, SPECIALIST)), 403)
    assert_problem(cclient.get("/caseload?unassigned=true&specialist=its-ca", headers=auth(tokens, ADMIN)), 422)
    assert_problem(cclient.get("/caseload?unassigned=maybe", headers=auth(tokens, ADMIN)), 422)
