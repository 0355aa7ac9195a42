"""The scheduled checks: due soon at 30 and 7 days, overdue, follow-ups due; each event once, even with two
runners racing on PostgreSQL; and the caseload a specialist starts the day with."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from services.coaching.models import Plan, platform
from services.coaching.use_cases.checks import run_checks, send_notices
from tests.coaching.conftest import open_plan
from tests.helpers import auth

ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
SPECIALIST = ("specialist", "CA", "its-ca")


def race(runners: int, work) -> list:
    """Run ``work`` in ``runners`` threads released at the same moment; what each returned."""
    barrier = threading.Barrier(runners)
    results = []

    def runner():
        barrier.wait()
        results.append(work())

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def notices(ctx) -> list[tuple[str, str]]:
    import json

    with ctx.db.session() as session:
        rows = session.execute(
            select(platform.outbox.event_type, platform.outbox.body)
            .where(
                platform.outbox.event_type.in_(
                    ("coaching.commitment.due_soon", "coaching.commitment.overdue", "coaching.followup.due")
                )
            )
            .order_by(platform.outbox.id)
        ).all()
    return [(t, json.loads(b)["subject"], json.loads(b)["data"].get("days_before")) for t, b in rows]


def test_each_notice_goes_once_as_the_days_pass(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx, completed_at="2026-08-31T17:00:00+00:00")  # due 2027-02-28
    with coaching_ctx.db.session() as session:
        commitment_id = session.scalars(select(Plan)).one().commitment.id
    days = [
        date(2027, 1, 28),
        date(2027, 1, 29),
        date(2027, 1, 30),
        date(2027, 2, 21),
        date(2027, 2, 28),
        date(2027, 3, 1),
        date(2027, 3, 2),
    ]
    for day in days:
        run_checks(coaching_ctx.db, day)
        run_checks(coaching_ctx.db, day)
    assert notices(coaching_ctx) == [
        ("coaching.commitment.due_soon", commitment_id, 30),
        ("coaching.commitment.due_soon", commitment_id, 7),
        ("coaching.commitment.overdue", commitment_id, None),
    ]


def test_a_check_that_starts_late_sends_what_it_owes_once(coaching_ctx):
    open_plan(coaching_ctx, completed_at="2026-08-31T17:00:00+00:00")
    assert run_checks(coaching_ctx.db, date(2027, 2, 25)) == {"due_soon": 2, "overdue": 0, "followup": 0}
    assert run_checks(coaching_ctx.db, date(2027, 2, 25)) == {"due_soon": 0, "overdue": 0, "followup": 0}


def test_a_follow_up_is_due_once_per_date(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx)
    logged = cclient.post(
        "/activities",
        json={
            "trainer": "trainer-ca-1",
            "kind": "coaching",
            "occurred_on": "2026-12-01",
            "duration_minutes": 45,
            "mode": "phone",
            "follow_up_on": "2026-12-10",
        },
        headers=auth(tokens, SPECIALIST),
    )
    assert logged.status_code == 201
    assert run_checks(coaching_ctx.db, date(2026, 12, 9))["followup"] == 0
    assert run_checks(coaching_ctx.db, date(2026, 12, 10))["followup"] == 1
    assert run_checks(coaching_ctx.db, date(2026, 12, 11))["followup"] == 0
    cclient.patch(
        f"/activities/{logged.json['id']}", json={"follow_up_on": "2026-12-20"}, headers=auth(tokens, SPECIALIST)
    )
    assert run_checks(coaching_ctx.db, date(2026, 12, 20))["followup"] == 1
    assert [n[0] for n in notices(coaching_ctx)] == ["coaching.followup.due"] * 2


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_runners_racing_send_each_notice_once(coaching_ctx):
    for n in range(20):
        open_plan(coaching_ctx, trainer=f"trainer-{n}", completed_at="2026-08-31T17:00:00+00:00")
    today = date(2027, 3, 5)  # every commitment overdue

    # First, a runner caught in the act: the second waits on the first's claims, then finds them taken.
    with coaching_ctx.db.unit_of_work() as first:
        assert send_notices(first.session, today)["overdue"] == 20
        results = []
        second = threading.Thread(target=lambda: results.append(run_checks(coaching_ctx.db, today)))
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "the second runner waits for the first's claims"
        first.commit()
    second.join(timeout=10)
    assert results == [{"due_soon": 0, "overdue": 0, "followup": 0}]

    # Then a free-for-all of several runners on new commitments.
    for n in range(20, 60):
        open_plan(coaching_ctx, trainer=f"trainer-{n}", completed_at="2026-08-31T17:00:00+00:00")
    totals = [result["overdue"] for result in race(4, lambda: run_checks(coaching_ctx.db, today))]
    assert sum(totals) == 40
    sent = [subject for kind, subject, _ in notices(coaching_ctx) if kind == "coaching.commitment.overdue"]
    assert len(sent) == len(set(sent)) == 60


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_runners_racing_send_each_kind_of_notice_once(cclient, tokens, coaching_ctx):
    """Not only overdue: the reminders 30 and 7 days before and the follow-ups due go once each too."""
    for n in range(10):
        open_plan(coaching_ctx, trainer=f"week-{n}", completed_at="2026-08-31T17:00:00+00:00")  # due 2027-02-28
        open_plan(coaching_ctx, trainer=f"month-{n}", completed_at="2026-09-20T17:00:00+00:00")  # due 2027-03-20
        logged = cclient.post(
            "/activities",
            json={
                "trainer": f"week-{n}",
                "kind": "coaching",
                "occurred_on": "2026-12-01",
                "duration_minutes": 30,
                "mode": "phone",
                "follow_up_on": "2027-02-20",
            },
            headers=auth(tokens, SPECIALIST),
        )
        assert logged.status_code == 201, logged.json
    today = date(2027, 2, 21)  # a week before the first ten are due (both reminders owed), 27 days before the others
    results = race(4, lambda: run_checks(coaching_ctx.db, today))
    assert len(results) == 4
    assert {kind: sum(r[kind] for r in results) for kind in ("due_soon", "overdue", "followup")} == {
        "due_soon": 30,
        "overdue": 0,
        "followup": 10,
    }
    sent = notices(coaching_ctx)
    assert len(sent) == len(set(sent)) == 40
    assert Counter((kind, days) for kind, _, days in sent) == {
        ("coaching.commitment.due_soon", 30): 20,
        ("coaching.commitment.due_soon", 7): 10,
        ("coaching.followup.due", None): 10,
    }


def test_the_caseload_puts_overdue_first_with_last_contact_and_next_follow_up(cclient, tokens, coaching_ctx, clock):
    from datetime import UTC, datetime

    cclient.patch("/settings", json={"default_specialist": "its-ca"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="on-track", completed_at="2026-11-01T17:00:00+00:00")  # due 2027-05-01
    open_plan(coaching_ctx, trainer="overdue", completed_at="2026-05-15T17:00:00+00:00")  # due 2026-11-15
    open_plan(coaching_ctx, trainer="due-soon", completed_at="2026-06-20T17:00:00+00:00")  # due 2026-12-20
    open_plan(coaching_ctx, trainer="elsewhere", tenant="NY", completed_at="2026-05-15T17:00:00+00:00")
    clock.now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for day, follow in (("2026-11-20", "2026-12-05"), ("2026-11-25", "2026-12-12")):
        cclient.post(
            "/activities",
            json={
                "trainer": "due-soon",
                "kind": "consultation",
                "occurred_on": day,
                "duration_minutes": 30,
                "mode": "virtual",
                "follow_up_on": follow,
            },
            headers=auth(tokens, SPECIALIST),
        )
    caseload = cclient.get("/caseload", headers=auth(tokens, SPECIALIST))
    assert caseload.status_code == 200, caseload.json
    rows = [(i["trainer"], i["status"], i["last_contact"], i["next_follow_up"]) for i in caseload.json["items"]]
    assert rows == [
        ("overdue", "overdue", None, None),
        ("due-soon", "due_soon", "2026-11-25", "2026-12-05"),
        ("on-track", "on_track", None, None),
    ]
    ahead = cclient.get("/caseload?as_of=2027-04-05", headers=auth(tokens, SPECIALIST)).json
    assert [(i["trainer"], i["status"]) for i in ahead["items"]][-1] == ("on-track", "due_soon")
    other = cclient.get("/caseload?specialist=its-ca", headers=auth(tokens, ("specialist", "CA", "its-ca-2")))
    assert other.status_code == 403
    assert len(cclient.get("/caseload?specialist=its-ca", headers=auth(tokens, ADMIN)).json["items"]) == 3
    assert cclient.get("/caseload", headers=auth(tokens, ("coach", "CA", "c"))).status_code == 403
