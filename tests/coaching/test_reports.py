"""Fidelity observations and trends; reports for states as JSON and CSV with lossless sync; the reach
cascade; consent to national roll-ups, recorded and withdrawable, withheld jurisdictions never shown."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.coaching.models import FidelityObservation
from tests.coaching.conftest import deliver, open_plan
from tests.coaching.test_plans import attendance, session_event
from tests.helpers import arrange, assert_problem, auth

# Every test on both engines: the embedded default and PostgreSQL.
pytestmark = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)

ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
SPECIALIST = ("specialist", "CA", "its-ca")
NATIONAL = ("national_admin", "US", "national")
STATE = ("integration", "CA", "ca-registry")


def observe(cclient, tokens, day, decisions, who=SPECIALIST, practice="primary-caregiving"):
    body = {
        "trainer": "trainer-ca-1",
        "session_position": 3,
        "practice": practice,
        "observed_on": day,
        "checklist": [{"component": f"c{n}", "decision": d} for n, d in enumerate(decisions)],
    }
    return cclient.post("/observations", json=body, headers=auth(tokens, who))


def test_fidelity_scores_and_the_trend_over_time(cclient, tokens, coaching_ctx):
    first = observe(cclient, tokens, "2026-10-01", ["kept", "dropped", "adapted", "dropped"])
    assert first.status_code == 201, first.json
    assert first.json["score"] == 0.375
    observe(cclient, tokens, "2026-11-01", ["kept", "kept", "adapted", "kept"])
    trend = cclient.get("/observations/trend?trainer=trainer-ca-1", headers=auth(tokens, ADMIN)).json
    assert [o["score"] for o in trend["observations"]] == [0.375, 0.875]
    assert (trend["average"], trend["trend"]) == (0.625, "improving")
    assert_problem(observe(cclient, tokens, "2026-11-02", ["perfect"]), 422, "checklist")
    assert_problem(observe(cclient, tokens, "2026-11-02", []), 422, "checklist")
    assert observe(cclient, tokens, "2026-11-02", ["kept"], who=("coach", "CA", "c")).status_code == 403
    with coaching_ctx.db.session() as session:  # the refused ones wrote nothing
        assert session.scalar(select(func.count()).select_from(FidelityObservation)) == 2
    other = cclient.get("/observations/trend?trainer=trainer-ca-1", headers=auth(tokens, ("specialist", "NY", "x")))
    assert other.json["observations"] == []


def log(cclient, tokens, day, kind, minutes):
    body = {
        "trainer": "trainer-ca-1",
        "kind": kind,
        "occurred_on": day,
        "duration_minutes": minutes,
        "mode": "in_person",
        "notes": "=secret",
    }
    response = cclient.post("/activities", json=body, headers=auth(tokens, SPECIALIST))
    assert response.status_code == 201


def test_a_jurisdiction_report_as_json_and_csv(cclient, tokens, coaching_ctx, clock):
    open_plan(coaching_ctx, completed_at="2026-08-31T17:00:00+00:00")
    open_plan(coaching_ctx, trainer="trainer-ca-2", completed_at="2026-05-01T17:00:00+00:00")
    log(cclient, tokens, "2026-10-05", "consultation", 90)
    log(cclient, tokens, "2026-11-05", "consultation", 30)
    log(cclient, tokens, "2026-11-06", "meeting", 60)
    observe(cclient, tokens, "2026-11-01", ["kept", "adapted"])
    report = cclient.get("/reports/summary", headers=auth(tokens, STATE))
    assert report.status_code == 200, report.json
    body = report.json
    assert body["activities_by_kind"]["consultation"] == {"count": 2, "hours": 2.0}
    assert body["activities_by_kind"]["meeting"] == {"count": 1, "hours": 1.0}
    assert body["hours_by_month"] == {"2026-10": 1.5, "2026-11": 1.5}
    assert body["commitments_by_status"] == {"overdue": 1, "due_soon": 0, "on_track": 1, "fulfilled": 0}
    assert body["fidelity"]["average"] == 0.75
    as_csv = cclient.get("/reports/summary?format=csv", headers=auth(tokens, STATE))
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert {"jurisdiction": "CA", "measure": "commitments", "key": "overdue", "value": "1"} in rows
    assert (
        cclient.get("/reports/summary", headers=auth(tokens, ("jurisdiction_admin", "NY", "a"))).json["hours_by_month"]
        == {}
    )


def test_activity_rows_sync_losslessly_and_never_carry_notes(cclient, tokens, coaching_ctx):
    log(cclient, tokens, "2026-10-05", "consultation", 90)
    log(cclient, tokens, "2026-10-06", "coaching", 30)
    first = cclient.get("/reports/activities?changed_after=0&limit=1", headers=auth(tokens, STATE)).json
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = cclient.get(
        f"/reports/activities?changed_after=0&limit=1&cursor={first['next_cursor']}", headers=auth(tokens, STATE)
    ).json
    marker = rest["last_change"]
    assert {i["kind"] for i in first["items"] + rest["items"]} == {"consultation", "coaching"}
    assert cclient.get(f"/reports/activities?changed_after={marker}", headers=auth(tokens, STATE)).json["items"] == []
    log(cclient, tokens, "2026-10-07", "meeting", 15)
    newer = cclient.get(f"/reports/activities?changed_after={marker}", headers=auth(tokens, STATE)).json["items"]
    assert [i["kind"] for i in newer] == ["meeting"]
    as_csv = cclient.get("/reports/activities?format=csv", headers=auth(tokens, STATE)).get_data(as_text=True)
    assert "secret" not in as_csv and "notes" not in as_csv.splitlines()[0]
    assert cclient.get("/reports/activities", headers=auth(tokens, SPECIALIST)).status_code == 403


def test_reach_counts_trainings_delivered_by_graduates_and_the_people_they_reached(coaching_ctx):
    from services.coaching import repository as repo
    from services.coaching.models import DeliverySession, Plan

    def plan(tenant, cohort, trainer):
        return Plan(
            tenant=tenant,
            trainer=trainer,
            series_id="series",
            cohort_id=cohort,
            registration_id=f"reg-{tenant}-{cohort}-{trainer}",
            completed_at=datetime(2026, 8, 31, tzinfo=UTC),
            opened_by="event",
        )

    def held(session_id, tenant, cohort, facilitators, reached, *, was_held=True, cancelled=False):
        return DeliverySession(
            session_id=session_id,
            tenant=tenant,
            cohort_id=cohort,
            series_id="community",
            facilitators=facilitators,
            starts_at=datetime(2027, 1, 5, 17, tzinfo=UTC),
            cancelled=cancelled,
            held_at=datetime(2027, 1, 5, 19, tzinfo=UTC) if was_held else None,
            reached=reached,
        )

    rows = [
        plan("CA", "t4t-1", "ana"),
        plan("CA", "t4t-1", "ben"),
        plan("CA", "t4t-2", "cy"),
        plan("NY", "t4t-9", "ana"),  # the same sub in another jurisdiction: CA's deliveries are not hers
        held("s1", "CA", "c-ana", ["ana"], ["p1", "p2"]),
        held("s2", "CA", "c-ana", ["ana"], ["p2", "p3"]),
        held("s3", "CA", "c-ben", ["ben", "ana"], ["p4"]),  # co-facilitated: one training, counted once
        held("s4", "CA", "c-cy", ["cy"], ["p9"], was_held=False),  # scheduled, never held: not delivered yet
        held("s5", "CA", "c-cy", ["cy"], ["p8"], cancelled=True),  # cancelled: never counts
        held("s6", "CA", "t4t-1", ["ana"], ["p7"]),  # her own training for trainers is not a delivery of it
        held("s7", "NY", "c-other", ["ben"], ["p5"]),  # another jurisdiction's cohort
    ]
    arrange(coaching_ctx, lambda s: s.add_all(rows))
    with coaching_ctx.db.unit_of_work() as uow:
        found = repo.reach(uow.session, ["CA", "NY", "TX"])
        everywhere = repo.reach(uow.session, None)
    assert found == {
        "CA": [
            {"cohort_id": "t4t-1", "graduates": 2, "trainings_delivered": 2, "practitioners_reached": 4},
            {"cohort_id": "t4t-2", "graduates": 1, "trainings_delivered": 0, "practitioners_reached": 0},
        ],
        "NY": [{"cohort_id": "t4t-9", "graduates": 1, "trainings_delivered": 0, "practitioners_reached": 0}],
        "TX": [],
    }
    assert everywhere == {"CA": found["CA"], "NY": found["NY"]}  # every jurisdiction with plans


def test_reach_follows_the_cascade_and_consent_governs_national_views(cclient, tokens, coaching_ctx):
    t4t = open_plan(coaching_ctx, trainer="trainer-ca-1")["cohort_id"]
    open_plan(coaching_ctx, trainer="trainer-ca-2", cohort_id=t4t)
    open_plan(coaching_ctx, trainer="trainer-tribe", tenant="NY")
    for session_id, cohort, trainer in (("s1", "community-a", "trainer-ca-1"), ("s2", "community-b", "trainer-ca-2")):
        deliver(
            coaching_ctx,
            "scheduling.session.scheduled",
            session_event(cohort, session_id, [trainer], "2027-01-05T17:00:00Z"),
        )
        for parent in ("parent-1", "parent-2"):
            deliver(
                coaching_ctx,
                "scheduling.attendance.recorded",
                attendance(cohort, session_id, f"{cohort}-{parent}"),
                time=datetime(2027, 1, 5, 19, tzinfo=UTC),
            )
    reach = cclient.get("/reach", headers=auth(tokens, ADMIN)).json
    assert reach["cohorts"] == [
        {"cohort_id": t4t, "graduates": 2, "trainings_delivered": 2, "practitioners_reached": 4}
    ]

    def national():
        return cclient.get("/reach/national", headers=auth(tokens, NATIONAL)).json

    assert {i["jurisdiction"]: i["status"] for i in national()["items"]} == {"CA": "withheld", "NY": "withheld"}
    assert national()["practitioners_reached"] == 0
    assert "graduates" not in national()["items"][0]

    granted = cclient.put("/consent", json={"national_roll_ups": True}, headers=auth(tokens, ADMIN))
    assert granted.status_code == 200 and granted.json["changed_by"] == "admin-ca"
    items = {i["jurisdiction"]: i for i in national()["items"]}
    assert items["CA"]["practitioners_reached"] == 4 and items["NY"] == {"jurisdiction": "NY", "status": "withheld"}
    summary = cclient.get("/reports/national", headers=auth(tokens, NATIONAL)).json["items"]
    assert [(i["jurisdiction"], i["status"]) for i in summary] == [("CA", "included"), ("NY", "withheld")]
    assert "commitments_by_status" not in summary[1]
    as_csv = cclient.get("/reports/national?format=csv", headers=auth(tokens, NATIONAL)).get_data(as_text=True)
    assert "NY,withheld" in as_csv and "NY,commitments" not in as_csv

    withdrawn = cclient.put("/consent", json={"national_roll_ups": False}, headers=auth(tokens, ADMIN)).json
    assert [h["granted"] for h in withdrawn["history"]] == [True, False]
    assert {i["status"] for i in national()["items"]} == {"withheld"}
    assert (
        cclient.put("/consent", json={"national_roll_ups": True}, headers=auth(tokens, SPECIALIST)).status_code == 403
    )
    assert cclient.get("/reports/national", headers=auth(tokens, ADMIN)).status_code == 403
