"""Dead letters of messages that are no valid event: one letter across replays, logs of their own."""

from __future__ import annotations

import logging

import pytest
import structlog

from shared.messaging import consumer as consumer_module
from shared.testing import wait_until
from tests.shared import probe
from tests.shared.test_messaging import PAIRS, db, dead_letters, probe_app, publish_raw  # noqa: F401 (db fixture)


@pytest.fixture
def captured(monkeypatch) -> structlog.testing.LogCapture:
    """The consumer's log lines, with the context bound when each was written."""
    lines = structlog.testing.LogCapture()
    monkeypatch.setattr(
        consumer_module,
        "log",
        structlog.wrap_logger(
            structlog.PrintLogger(),
            processors=[structlog.contextvars.merge_contextvars, lines],
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        ),
    )
    return lines


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_replaying_an_invalid_dead_letter_brings_back_the_same_letter(db, broker, tokens, signing_key_file):
    bus = probe.make_bus(broker)
    api = probe_app(db, broker, signing_key_file)
    admin = tokens.headers("national_admin", "US")
    with probe.Running(probe.consumer(db, bus, probe.Probe())) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        publish_raw(bus, "{not json", "garbage")
        wait_until(lambda: dead_letters(db), message="the invalid message filed")
        [letter] = api.get("/dead-letters", headers=admin).json["items"]
        assert letter["event_id"] is None and letter["reason"].startswith("invalid event")

        assert api.post(f"/dead-letters/{letter['id']}/replay", headers=admin).status_code == 202
        with probe.Running(probe.relay(db, bus)):
            wait_until(
                lambda: api.get("/dead-letters", headers=admin).json["items"], message="the replayed message dead again"
            )
    assert [(row.id, row.status) for row in dead_letters(db)] == [(letter["id"], "dead")]
    assert api.get("/dead-letters?status=replayed", headers=admin).json["items"] == []


@pytest.mark.parametrize("database,broker", [PAIRS[0]], indirect=True)
def test_log_lines_of_an_unparseable_message_carry_no_earlier_event(db, broker, captured):
    """An invalid message's log lines name its queue and message id, not the event handled before it."""
    bus = probe.make_bus(broker)
    event = probe.material_event("Before the garbage", correlationid="request-before-the-garbage")
    with probe.Running(probe.consumer(db, bus, probe.Probe())) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        publish_raw(bus, event.to_json(), event.id)
        wait_until(lambda: probe.effects(db, event.id), message="the valid event handled")
        publish_raw(bus, "{not json", "garbage")
        wait_until(lambda: dead_letters(db), message="the invalid message filed")
    handled = next(line for line in captured.entries if line["event"] == "event handled")
    assert handled["correlationid"] == "request-before-the-garbage" and handled["event_id"] == event.id
    dead = next(line for line in captured.entries if line["event"] == "dead-lettering message")
    assert dead["message_id"] == "garbage" and dead["queue"] == bus.topology.work_queue(probe.SUBSCRIPTION)
    assert not {"correlationid", "event_id", "event_type", "tenant"} & dead.keys(), dead


class Talkative(probe.Probe):
    """The probe's handler, logging a line for each event as a service's handler may."""

    def record_material(self, event, uow) -> None:
        consumer_module.log.info("handler ran", title=event.data["title"])
        super().record_material(event, uow)


@pytest.mark.parametrize("database,broker", [PAIRS[0]], indirect=True)
def test_a_batch_logs_each_event_with_its_own_ids_and_its_handler_lines_with_no_single_events(db, broker, captured):
    """Lines logged while a batch is handled name its queue and size, not one of its events; each
    event's "event handled" line names that event."""
    bus = probe.make_bus(broker)
    events = [probe.material_event(f"event {n}", correlationid=f"request-{n}") for n in range(5)]
    for event in events:
        publish_raw(bus, event.to_json(), event.id)
    with probe.Running(probe.consumer(db, bus, Talkative(), batch_size=5)):
        wait_until(lambda: len(probe.effects(db)) == 5, message="the batch handled")
    ran = [line for line in captured.entries if line["event"] == "handler ran"]
    assert len(ran) == 5 and all(line["batch"] == 5 and "event_id" not in line for line in ran), ran
    handled = [line for line in captured.entries if line["event"] == "event handled"]
    assert sorted((line["event_id"], line["correlationid"]) for line in handled) == sorted(
        (event.id, event.correlationid) for event in events
    )
    assert all(line["batch"] == 5 and line["queue"] == bus.topology.work_queue(probe.SUBSCRIPTION) for line in handled)
