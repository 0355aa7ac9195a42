"""Fixtures of the coaching service: a migrated database, its app, a clock the test moves, and event makers."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from tests.conftest import config_overrides, migrated_context

SERIES = "3f1c2b9e-0000-4000-8000-000000000001"  # the training for trainers, as content would name it


class Clock:
    """A clock the test sets: ``clock.now`` is what the service takes for now."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def coaching_ctx(database, broker, signing_key_file, tmp_path, clock):
    from services.coaching.config import CoachingConfig

    ctx = migrated_context("coaching", CoachingConfig, config_overrides(database, broker, signing_key_file, tmp_path))
    ctx.extra["clock"] = clock
    from services.coaching.models import TrainerSeries
    from tests.helpers import arrange

    arrange(ctx, lambda s: s.add(TrainerSeries(series_id=SERIES, added_by="test", added_at=clock())))
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def coaching_app(coaching_ctx):
    from services.coaching.app import create_app

    app = create_app(coaching_ctx)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def cclient(coaching_app):
    return coaching_app.test_client()


def completion(trainer: str = "trainer-ca-1", *, completed_at: str = "2026-08-31T17:00:00+00:00", **extra) -> dict:
    """The data of a ``scheduling.participant.completed`` of the training for trainers."""
    return {
        "cohort_id": str(uuid.uuid4()),
        "series_id": SERIES,
        "registration_id": str(uuid.uuid4()),
        "participant": trainer,
        "registry_id": None,
        "sessions_attended": 9,
        "hours": 27.0,
        "completed_at": completed_at,
        "certificate_code": uuid.uuid4().hex[:12],
        **extra,
    }


def deliver(ctx, type_: str, data: dict, *, tenant: str = "CA", time: datetime | None = None):
    """Handle one event as the consumer would: handler and inbox in one transaction."""
    from services.coaching.handlers import HANDLERS
    from shared.envelope import make_event, parse_event
    from shared.messaging.topology import SUBSCRIPTIONS

    [sub] = [s for s in SUBSCRIPTIONS if s.consumer == "coaching" and type_ in s.event_types]
    event = parse_event(
        make_event(type_, source="/services/scheduling", subject="x", tenant=tenant, data=data).to_json()
    )
    if time is not None:
        event = dataclasses.replace(event, time=time)
    with ctx.db.unit_of_work() as uow:
        HANDLERS[sub.handler](event, uow)
        uow.commit()
    return event


def open_plan(ctx, trainer: str = "trainer-ca-1", tenant: str = "CA", **extra) -> dict:
    data = completion(trainer, **extra)
    deliver(ctx, "scheduling.participant.completed", data, tenant=tenant)
    return data
