"""A minimal consuming service, built only from shared/, to test the messaging spine end to end."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Database, make_base
from shared.envelope import make_event
from shared.messaging.bus import Bus
from shared.messaging.consumer import EventConsumer
from shared.messaging.outbox import OutboxRelay, add_event
from shared.messaging.topology import Subscription, Topology
from shared.tables import define_platform_tables

Base = make_base()
tables = define_platform_tables(Base)
EVENT_TYPE = "content.material.published"
SUBSCRIPTION = Subscription("probe", "record_material", (EVENT_TYPE,))


class Effect(Base):
    """One row per handled event: a second row for one event id would be a second effect."""

    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))


class Probe:
    """The probe's handler; it fails on 'poison' events until healed."""

    def __init__(self):
        self.healed = False
        self.calls = 0

    def record_material(self, event, uow) -> None:
        self.calls += 1
        if event.data["title"] == "poison" and not self.healed:
            raise RuntimeError("cannot handle poison yet")
        uow.session.add(Effect(event_id=event.id, title=event.data["title"]))


def material_event(title: str = "Slide deck", tenant: str = "CA", correlationid: str = ""):
    material_id = str(uuid.uuid4())
    return make_event(
        EVENT_TYPE,
        source="/tests/probe",
        subject=material_id,
        tenant=tenant,
        correlationid=correlationid or str(uuid.uuid4()),
        data={
            "material_id": material_id,
            "module_id": "m1",
            "series_id": "s1",
            "module_position": 3,
            "kind": "slide_deck",
            "title": title,
            "version": 1,
            "national": True,
            "published_by": "tester",
        },
    )


def make_db(database: dict) -> Database:
    db = Database(database["url"], schema=database["schema"])
    if db.is_postgres:
        from shared.db import ensure_schema

        ensure_schema(db.engine, database["schema"])
    Base.metadata.create_all(db.engine)
    with db.engine.begin() as conn:  # the row a service's migration seeds (shared.changes)
        if not conn.execute(select(tables.change_counter.id)).first():
            conn.execute(insert(tables.change_counter).values(id=1, value=1))
    return db


def make_bus(broker: dict, url: str | None = None, retry_delays=(0.2, 0.4)) -> Bus:
    topology = Topology(subscriptions=(SUBSCRIPTION,), namespace=broker["namespace"], retry_delays=retry_delays)
    return Bus(url or broker["url"], topology, folder=broker["folder"], connect_timeout=2)


def stage(db: Database, event) -> None:
    with db.unit_of_work() as uow:
        add_event(uow.session, tables, event)
        uow.commit()


def effects(db: Database, event_id: str | None = None) -> list[Effect]:
    with db.session() as session:
        stmt = select(Effect)
        if event_id:
            stmt = stmt.where(Effect.event_id == event_id)
        return list(session.scalars(stmt))


def count(db: Database, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


class Running:
    """Runs a loop (relay or consumer) in a thread for the length of a with-block."""

    def __init__(self, loop):
        self.loop = loop
        self.thread = threading.Thread(target=loop.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.loop

    def __exit__(self, *exc):
        self.loop.stop()
        self.thread.join(timeout=15)


def relay(db: Database, bus: Bus) -> OutboxRelay:
    return OutboxRelay(db, tables, bus, batch_size=50, poll_interval=0.02, max_backoff=0.5)


def consumer(db: Database, bus: Bus, probe: Probe, **kwargs) -> EventConsumer:
    return EventConsumer(bus, db, tables, "probe", {"record_material": probe.record_material}, prefetch=10, **kwargs)
