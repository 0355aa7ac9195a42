"""A commitment's due date counts from the day of the completion where the jurisdiction is, not in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.coaching.domain.commitments import completion_day, due_date
from services.coaching.models import Commitment
from tests.coaching.conftest import deliver, open_plan


def test_the_completion_day_is_the_jurisdictions():
    evening_in_california = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert completion_day(evening_in_california, "America/Los_Angeles").isoformat() == "2026-02-28"
    assert completion_day(evening_in_california, "UTC").isoformat() == "2026-03-01"
    assert due_date(completion_day(evening_in_california, "America/Los_Angeles"), 6).isoformat() == "2026-08-28"


def due_on(ctx, trainer: str) -> str:
    with ctx.db.session() as session:
        return session.scalars(select(Commitment.due_on).where(Commitment.trainer == trainer)).one().isoformat()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_late_evening_completion_is_due_six_months_from_that_local_day(coaching_ctx, database):
    # 19:00 in California on 28 February is 03:00 UTC on 1 March.
    open_plan(coaching_ctx, "trainer-ca-late", completed_at="2026-03-01T03:00:00+00:00")
    assert due_on(coaching_ctx, "trainer-ca-late") == "2026-08-28"
    # A Tribe announced by scheduling uses the zone it was announced with (Pacific/Guam: already 2 March).
    deliver(
        coaching_ctx,
        "scheduling.jurisdiction.added",
        {"code": "TGU", "name": "A Tribe of Guam", "kind": "tribe", "default_time_zone": "Pacific/Guam"},
        tenant="US",
    )
    open_plan(coaching_ctx, "trainer-tgu", tenant="TGU", completed_at="2026-03-01T17:00:00+00:00")
    assert due_on(coaching_ctx, "trainer-tgu") == "2026-09-02"
