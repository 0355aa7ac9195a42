"""The backfill opens the plans of completions recorded before coaching ran, from scheduling's REST API over
real HTTP, once: running it again, or after the events, opens nothing new; plans without a name get it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.coaching.backfill import backfill, http_getter
from services.coaching.models import Plan, TrainerSeries
from services.scheduling.models import Cohort
from shared.testing import drop_pg_schema, unique_name
from shared.testing.contract import serving
from tests.coaching.conftest import deliver
from tests.conftest import config_overrides, migrated_context
from tests.helpers import arrange as arrange_rows
from tests.scheduling.conftest import scheduling_app, scheduling_ctx, sclient  # noqa: F401
from tests.scheduling.test_training_hours import arrange


@pytest.fixture
def coaching_side(database, broker, signing_key_file, tmp_path):
    """Coaching on a database of its own, beside scheduling's."""
    from services.coaching.config import CoachingConfig

    if database["backend"] == "postgres":
        own = {**database, "schema": unique_name("coaching")}
    else:
        own = {**database, "url": f"sqlite:///{tmp_path / 'coaching.db'}"}
    ctx = migrated_context("coaching", CoachingConfig, config_overrides(own, broker, signing_key_file, tmp_path))
    yield ctx
    ctx.db.dispose()
    if database["backend"] == "postgres":
        drop_pg_schema(own["schema"])


def plans(ctx) -> list[Plan]:
    with ctx.db.session() as session:
        return list(session.scalars(select(Plan).options(selectinload(Plan.commitment)).order_by(Plan.trainer)))


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_the_backfill_opens_each_missing_plan_once(sclient, scheduling_app, scheduling_ctx, tokens, coaching_side):
    cohort_id, regs, _ = arrange(
        sclient,
        scheduling_ctx,
        tokens,
        participants=(("ana-lopez", "REG-1001"), ("ben-cho", None), ("cy-diaz", None)),
        attended={"ana-lopez": 9, "ben-cho": 2, "cy-diaz": 3},
    )
    with scheduling_ctx.db.session() as session:
        series_id = session.get(Cohort, cohort_id).series_id
    arrange_rows(coaching_side, lambda s: s.add(TrainerSeries(series_id=series_id, added_by="test")))
    # Ana's completion reached coaching as an event; Cy's was recorded before coaching ran.
    deliver(
        coaching_side,
        "scheduling.participant.completed",
        {
            "cohort_id": cohort_id,
            "series_id": series_id,
            "registration_id": regs["ana-lopez"],
            "participant": "ana-lopez",
            "registry_id": "REG-1001",
            "sessions_attended": 9,
            "hours": 18.0,
            "completed_at": "2026-10-01T18:00:00+00:00",
            "certificate_code": "abc",
        },
    )
    with serving(scheduling_app) as url:
        get = http_getter(url, tokens.token("national_admin", "US", sub="operator"))
        first = backfill(coaching_side.db, get)
        again = backfill(coaching_side.db, get)
    assert first == {"completions": 2, "opened": 1, "existing": 1, "other_series": 0}
    assert again == {"completions": 2, "opened": 0, "existing": 2, "other_series": 0}
    ana, cy = plans(coaching_side)
    assert (ana.trainer, ana.opened_by, ana.registry_id) == ("ana-lopez", "event", "REG-1001")
    assert (cy.trainer, cy.opened_by, cy.tenant, cy.registration_id) == ("cy-diaz", "backfill", "CA", regs["cy-diaz"])
    # Names as registered in scheduling: Cy's read with the completion, Ana's (her event predates names) filled in.
    assert (ana.trainer_name, cy.trainer_name) == ("Ana Lopez", "Cy Diaz")
    assert cy.commitment.due_on.isoformat() > cy.completed_at.date().isoformat()
