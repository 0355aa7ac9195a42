"""The bench's own tools: the SQL an endpoint runs, replayed for other inputs, does what the API does;
the national year is skewed as real jurisdictions are."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import national_year, same_sql
from services.scheduling.models import Registration, RegistrationAudit, TrainingSession, platform
from tests.scheduling.factories import cohort


def _connect(database):
    url = make_url(database["url"]).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url, options=f"-csearch_path={database['schema']} -ctimezone=UTC")


def test_a_year_gives_big_states_ten_times_a_small_territory():
    counts = national_year.cohorts_per_jurisdiction(1.0)

    assert counts["CA"] == counts["TX"] == pytest.approx(10 * counts["GU"], rel=0.05)
    assert sum(counts.values()) == pytest.approx(national_year.COHORTS, rel=0.01)
    assert min(national_year.cohorts_per_jurisdiction(0.001).values()) == 2  # one per half at any scale


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_replayed_get_answers_for_the_session_asked(scheduling_ctx, scheduling_app, tokens, database):
    with scheduling_ctx.db.unit_of_work() as uow:
        cohort(uow.session, sessions=2)
        uow.commit()
    with scheduling_ctx.db.session() as db:
        first, second = db.scalars(select(TrainingSession.id).order_by(TrainingSession.starts_at)).all()
    headers = tokens.headers("jurisdiction_admin", "CA")

    response, steps = same_sql.capture(
        scheduling_app, "GET", f"/sessions/{first}", headers, {"session_id": first, "tenant": "CA"}
    )
    with _connect(database) as conn:
        rows = same_sql.replay(
            conn, steps, {"session_id": first, "tenant": "CA"}, {"session_id": second, "tenant": "CA"}
        )

    assert response.status_code == 200
    assert ("input", "session_id") in steps[0].sources.values()  # the id asked is the replay's input
    assert second in rows[0][0] and first not in rows[0][0]


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("keyed", [True, False], ids=["with key", "without key"])
def test_a_replayed_registration_writes_the_rows_the_api_writes(
    scheduling_ctx, scheduling_app, tokens, database, keyed
):
    with scheduling_ctx.db.unit_of_work() as uow:
        captured, replayed = cohort(uow.session, sessions=1).id, cohort(uow.session, sessions=1).id
        uow.commit()
    headers = {**tokens.headers("participant", "CA", sub="ana-lopez"), "Content-Type": "application/json"}
    sample = {"cohort_id": captured, "participant": "ana-lopez", "tenant": "CA"}
    inputs = {"cohort_id": replayed, "participant": "ben-okafor", "tenant": "CA"}
    if keyed:
        headers["Idempotency-Key"] = sample["key"] = str(uuid.uuid4())
        inputs["key"] = str(uuid.uuid4())

    response, steps = same_sql.capture(
        scheduling_app,
        "POST",
        f"/cohorts/{captured}/registrations",
        headers,
        sample,
        json={"name": "Ana", "email": "ana@example.org"},
    )
    with _connect(database) as conn:
        same_sql.replay(conn, steps, sample, inputs)

    assert response.status_code == 201
    Outbox = platform.outbox
    with scheduling_ctx.db.session() as db:
        ben = db.scalars(select(Registration).where(Registration.cohort_id == replayed)).one()
        assert (ben.participant, ben.status) == ("ben-okafor", "confirmed")
        assert (
            db.scalar(
                select(func.count()).select_from(RegistrationAudit).where(RegistrationAudit.registration_id == ben.id)
            )
            == 1
        )
        events = db.scalars(select(Outbox.body).where(Outbox.body.contains(ben.id))).all()
        assert len(events) == 1 and replayed in events[0]
        assert db.scalar(select(func.count()).select_from(Registration)) == 2  # the captured one and ben
    if keyed:
        with _connect(database) as conn:
            stored = conn.execute(
                "SELECT status_code, response_body FROM idempotency_keys WHERE key = %s", (inputs["key"],)
            ).fetchall()
        assert len(stored) == 1 and stored[0][0] == 201 and ben.id in stored[0][1]
