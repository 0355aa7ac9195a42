"""The jurisdiction-wide session list: scoped, filtered by time, paged in time order."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.scheduling import factories
from tests.scheduling.test_cohorts import CA_ADMIN, TX_ADMIN, arrange, assert_problem, auth


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_sessions_of_the_jurisdiction_in_time_order(sclient, tokens, scheduling_ctx, database):
    start = datetime(2027, 3, 1, 18, tzinfo=UTC)  # 1 March in California
    arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", first_day=start, sessions=3))
    arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", first_day=start + timedelta(days=1),
                                                        sessions=3, facilitators=("fac-ca-2",)))
    arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="TX", time_zone="America/Chicago",
                                                        first_day=start, sessions=3, facilitators=("fac-tx",)))
    headers = auth(tokens, CA_ADMIN)
    seen, cursor = [], None
    while True:
        page = sclient.get("/sessions", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                           headers=headers)
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == 6 and {s["tenant"] for s in seen} == {"CA"}
    assert [s["starts_at"] for s in seen] == sorted(s["starts_at"] for s in seen)
    assert seen[0]["local_start"].startswith("2027-03-01T09:00:00-08:00")

    window = sclient.get("/sessions", query_string={"from": "2027-03-05T00:00:00Z", "to": "2027-03-10T00:00:00Z"},
                         headers=headers).json["items"]
    assert len(window) == 2 and all("2027-03-05" <= s["starts_at"][:10] < "2027-03-10" for s in window)
    cohort_id = seen[0]["cohort_id"]
    assert {s["cohort_id"] for s in sclient.get("/sessions", query_string={"cohort_id": cohort_id},
                                                headers=headers).json["items"]} == {cohort_id}
    assert len(sclient.get("/sessions", headers=auth(tokens, TX_ADMIN)).json["items"]) == 3
    assert_problem(sclient.get("/sessions", query_string={"from": "soon"}, headers=headers), 422, "from")
