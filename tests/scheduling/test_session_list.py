"""The jurisdiction-wide session list: scoped, filtered by time, paged in time order."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import arrange, assert_problem, auth
from tests.scheduling import factories
from tests.scheduling.test_cohorts import CA_ADMIN, NATIONAL, TX_ADMIN


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_sessions_of_the_jurisdiction_in_time_order(sclient, tokens, scheduling_ctx, database):
    start = datetime(2027, 3, 1, 18, tzinfo=UTC)  # 1 March in California
    arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", first_day=start, sessions=3))
    arrange(
        scheduling_ctx,
        lambda db: factories.cohort(
            db, tenant="CA", first_day=start + timedelta(days=1), sessions=3, facilitators=("fac-ca-2",)
        ),
    )
    arrange(
        scheduling_ctx,
        lambda db: factories.cohort(
            db, tenant="TX", time_zone="America/Chicago", first_day=start, sessions=3, facilitators=("fac-tx",)
        ),
    )
    headers = auth(tokens, CA_ADMIN)
    seen, cursor = [], None
    while True:
        page = sclient.get(
            "/sessions", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == 6 and {s["tenant"] for s in seen} == {"CA"}
    assert [s["starts_at"] for s in seen] == sorted(s["starts_at"] for s in seen)
    assert seen[0]["local_start"].startswith("2027-03-01T09:00:00-08:00")

    window = sclient.get(
        "/sessions", query_string={"from": "2027-03-05T00:00:00Z", "to": "2027-03-10T00:00:00Z"}, headers=headers
    ).json["items"]
    assert len(window) == 2 and all("2027-03-05" <= s["starts_at"][:10] < "2027-03-10" for s in window)
    cohort_id = seen[0]["cohort_id"]
    assert {
        s["cohort_id"]
        for s in sclient.get("/sessions", query_string={"cohort_id": cohort_id}, headers=headers).json["items"]
    } == {cohort_id}
    assert len(sclient.get("/sessions", headers=auth(tokens, TX_ADMIN)).json["items"]) == 3
    assert_problem(sclient.get("/sessions", query_string={"from": "soon"}, headers=headers), 422, "from")

    # A facilitator's own sessions, also in pages; a subject's prefix is nobody's; another state's are not listed.
    hers = _all_pages(sclient, headers, {"facilitator": "fac-ca-2", "limit": 2})
    assert len(hers) == 3 and all(s["facilitators"] == ["fac-ca-2"] for s in hers)
    assert _all_pages(sclient, headers, {"facilitator": "fac-ca-", "limit": 2}) == []
    assert _all_pages(sclient, headers, {"facilitator": "fac-tx"}) == []
    assert_problem(
        sclient.get("/sessions", query_string={"facilitator": "f" * 201}, headers=headers), 422, "facilitator"
    )


def _all_pages(client, headers, query, path="/sessions"):
    seen, cursor = [], None
    while True:
        page = client.get(path, query_string={**query, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json.get("next_cursor")
        if not cursor:
            return seen


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_filters_and_cursors_combine_and_a_national_admin_sees_every_jurisdiction(
    sclient, tokens, scheduling_ctx, database
):
    # The list's statements are built once per combination of filters and reused with new values:
    # each combination must still filter by its own values, page after page.
    start = datetime(2027, 3, 1, 18, tzinfo=UTC)
    ca = arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", first_day=start, sessions=4).id)
    arrange(
        scheduling_ctx,
        lambda db: factories.cohort(
            db, tenant="TX", time_zone="America/Chicago", first_day=start, sessions=3, facilitators=("fac-tx",)
        ),
    )
    everyone = _all_pages(sclient, auth(tokens, NATIONAL), {"limit": 2})
    assert len(everyone) == 7 and {s["tenant"] for s in everyone} == {"CA", "TX"}
    assert [s["starts_at"] for s in everyone] == sorted(s["starts_at"] for s in everyone)

    headers = auth(tokens, CA_ADMIN)
    cancelled = everyone[0]["id"] if everyone[0]["tenant"] == "CA" else everyone[1]["id"]
    cancel = sclient.post(f"/sessions/{cancelled}/cancel", headers=headers, json={"reason": "Room flooded"})
    assert cancel.status_code == 200, cancel.json
    assert [s["id"] for s in _all_pages(sclient, headers, {"limit": 1, "status": "cancelled"})] == [cancelled]
    scheduled = _all_pages(
        sclient, headers, {"limit": 1, "status": "scheduled", "cohort_id": ca, "from": "2027-03-01T00:00:00Z"}
    )
    assert len(scheduled) == 3 and cancelled not in {s["id"] for s in scheduled}
    changed = _all_pages(sclient, headers, {"limit": 1, "updated_since": cancel.json["updated_at"]})
    assert [s["id"] for s in changed] == [cancelled]
    assert [s["id"] for s in _all_pages(sclient, headers, {"limit": 1, "updated_since": "2999-01-01T00:00:00Z"})] == []
    assert [
        s["id"]
        for s in sclient.get("/sessions", query_string={"status": "cancelled"}, headers=auth(tokens, TX_ADMIN)).json[
            "items"
        ]
    ] == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_list_follows_changes_and_new_materials(sclient, tokens, scheduling_ctx, database):
    from services.scheduling.handlers import HANDLERS
    from tests.scheduling.test_foundation import published

    start = datetime(2027, 3, 1, 18, tzinfo=UTC)
    arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", first_day=start, sessions=3))
    headers = auth(tokens, CA_ADMIN)
    first = sclient.get("/sessions", headers=headers).json["items"]
    assert all(s["materials"] == [] for s in first)
    with scheduling_ctx.db.unit_of_work() as uow:  # content publishes slides for module 3
        HANDLERS["attach_material_version"](published("m-3", 1), uow)
        uow.commit()
    moved = sclient.post(
        f"/sessions/{first[0]['id']}/reschedule",
        headers=headers,
        json={"starts_at": "2027-03-02T17:00:00Z", "ends_at": "2027-03-02T19:00:00Z", "reason": "Snow day"},
    )
    assert moved.status_code == 200, moved.json
    again = {s["id"]: s for s in sclient.get("/sessions", headers=headers).json["items"]}
    assert again[first[0]["id"]]["starts_at"].startswith("2027-03-02T17:00:00")
    assert [m["title"] for m in again[first[2]["id"]]["materials"]] == ["Deck v1"]
    viewer = sclient.get("/sessions", query_string={"viewer_time_zone": "Pacific/Guam"}, headers=headers).json["items"]
    assert all(s["viewer_time_zone"] == "Pacific/Guam" for s in viewer)


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_participant_lists_her_own_cohorts_and_schedule_among_the_jurisdictions_many(
    sclient, tokens, scheduling_ctx, database
):
    start = datetime(2027, 3, 1, 18, tzinfo=UTC)
    made = {}

    def build(db):
        # Busy California: cohorts starting before hers fill the first pages of every jurisdiction-wide list.
        def one(day: int, **settings):
            return factories.cohort(
                db,
                tenant="CA",
                first_day=start + timedelta(days=day),
                sessions=3,
                facilitators=(f"fac-{day}",),
                **settings,
            )

        for day in range(6):
            one(day)
        seat, waiting, left = one(10), one(11, capacity=1), one(12)
        factories.registration(db, seat, "ana")
        factories.registration(db, waiting, "ben")
        factories.registration(db, waiting, "ana", status="waitlisted")
        factories.registration(db, left, "ana", status="cancelled")
        factories.registration(db, left, "ben")
        made.update(seat=seat.id, waiting=waiting.id, left=left.id)

    arrange(scheduling_ctx, build)
    ana = tokens.headers("participant", "CA", sub="ana")
    # Her cohorts whatever became of her registration (named on My training), in pages like any list.
    mine = _all_pages(sclient, ana, {"registered": "true", "limit": 2}, path="/cohorts")
    assert sorted(c["id"] for c in mine) == sorted(made.values())
    # Her schedule: the sessions of the cohort she holds a seat in, not where she waits or has left.
    schedule = _all_pages(sclient, ana, {"registered": "true", "from": start.isoformat(), "limit": 2})
    assert [s["cohort_id"] for s in schedule] == [made["seat"]] * 3
    assert len(sclient.get("/sessions", query_string={"limit": 200}, headers=ana).json["items"]) == 27
    # The filter is the caller's own: another participant's schedule is hers, nobody else's.
    ben = tokens.headers("participant", "CA", sub="ben")
    theirs = _all_pages(sclient, ben, {"registered": "true"})
    assert {s["cohort_id"] for s in theirs} == {made["waiting"], made["left"]}
    assert_problem(sclient.get("/sessions", query_string={"registered": "maybe"}, headers=ana), 422, "registered")
