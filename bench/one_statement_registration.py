"""A design experiment, not the service's code: how fast could registering be as ONE statement?

``python -m bench.one_statement_registration`` races the same 50 clients as ``make bench`` three
ways in one run: single-row commits (the ceiling), the service's registrations, and registrations
written as one read plus one autocommit statement that locks the cohort, claims a seat or else a
waitlist place, and inserts the registration, its audit entry and its event (the outcome, status,
position and event type, decided in SQL). It prints each as a share of the ceiling, with the CPU per
operation of the clients and of the server, and checks that exactly the seats were confirmed and
the waitlist positions are 1..n.

Why it is not the service's code: it puts the outcome of a claim (seat or waitlist, the event's
type) into SQL beside the Python rules, and it covers only the hot path (a first registration,
no approval step). It is here so that the team can weigh that trade with figures from their own
machine. PostgreSQL from DATABASE_TEST_URL (default 127.0.0.1).
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy import func, select, text

from bench import scheduling as race
from shared.testing import POSTGRES_URL, drop_pg_schema

_READ = text("""
SELECT c.status, c.registration_opens_at, c.registration_closes_at, c.requires_approval, c.updated_at, c.tenant,
       (SELECT r.id FROM registrations r WHERE r.cohort_id = c.id AND r.participant = :participant) AS existing
FROM cohorts c WHERE c.id = :cohort AND c.tenant = :tenant""")

# The cohort is held FOR SHARE only if it is still as read (updated_at), so the rules checked in Python
# on that read still hold; a seat is taken only while nobody waits; else the next waitlist place.
_WRITE = text("""
WITH cohort AS (SELECT id FROM cohorts WHERE id = :cohort AND updated_at = :seen FOR SHARE),
seat AS (UPDATE places SET registration_id = :rid
         WHERE cohort_id = (SELECT id FROM cohort) AND kind = 'seat' AND registration_id IS NULL
           AND number = (SELECT number FROM places WHERE cohort_id = :cohort AND kind = 'seat'
                         AND registration_id IS NULL ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT EXISTS (SELECT 1 FROM registrations WHERE cohort_id = :cohort AND status = 'waitlisted')
         RETURNING kind, number),
waitlist AS (UPDATE places SET registration_id = :rid
             WHERE cohort_id = (SELECT id FROM cohort) AND kind = 'waitlist' AND registration_id IS NULL
               AND number = (SELECT number FROM places WHERE cohort_id = :cohort AND kind = 'waitlist'
                             AND registration_id IS NULL ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
               AND NOT EXISTS (SELECT 1 FROM seat)
             RETURNING kind, number),
claimed AS (SELECT CASE kind WHEN 'seat' THEN 'confirmed' ELSE 'waitlisted' END AS status,
                   CASE kind WHEN 'waitlist' THEN number END AS position
            FROM (SELECT * FROM seat UNION ALL SELECT * FROM waitlist) AS place),
registration AS (
  INSERT INTO registrations (id, tenant, cohort_id, participant, name, email, registry_id, status,
                             waitlist_position, source, cancelled_reason, created_at, updated_at)
  SELECT :rid, :tenant, :cohort, :participant, :name, :email, NULL, status, position, 'self', NULL, :now, :now
  FROM claimed RETURNING id),
audit AS (
  INSERT INTO registration_audit (id, tenant, registration_id, action, by, at, detail)
  SELECT :aid, :tenant, (SELECT id FROM registration), 'registered', :participant, :now,
         json_build_object('status', status, 'waitlist_position', position, 'source', 'self',
                           'registered_again', false)
  FROM claimed),
event AS (
  INSERT INTO outbox (message_id, event_type, exchange, routing_key, body, status, attempts, created_at)
  SELECT :mid, 'scheduling.registration.' || status, 'events', 'scheduling.registration.' || status,
         jsonb_set(jsonb_set(jsonb_set(CAST(:body AS jsonb), '{type}', to_jsonb('scheduling.registration.' || status)),
                             '{data,status}', to_jsonb(status)),
                   '{data,waitlist_position}', coalesce(to_jsonb(position), 'null'::jsonb))::text,
         'pending', 0, :now
  FROM claimed)
SELECT status, position FROM claimed""")


def _one_statement_client(db, i: int, job: dict) -> int:
    from shared.auth import PARTICIPANT, Principal
    from shared.db import new_id, utcnow

    from services.scheduling import events
    from services.scheduling.domain import registrations as rules
    from services.scheduling.models import Registration

    with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        for k in range(job["each"]):
            n = i * job["each"] + k
            who = Principal(sub=f"bench-{n}", tenant="CA", roles=frozenset({PARTICIPANT}))
            cohort = conn.execute(_READ, {"cohort": job["cohort_id"], "participant": who.sub,
                                          "tenant": who.tenant}).one()
            now = utcnow()
            rules.check_open(cohort.status)
            rules.check_window(now, cohort.registration_opens_at, cohort.registration_closes_at)
            if cohort.existing is not None or cohort.requires_approval:
                raise RuntimeError("the experiment covers first registrations without approval only")
            registration = Registration(id=new_id(), tenant=cohort.tenant, cohort_id=job["cohort_id"],
                                        participant=who.sub, email=f"p{n}@example.org", status=rules.CONFIRMED)
            event = events.registration_event("confirmed", registration, by=who.sub, correlationid="")
            outcome = conn.execute(_WRITE, {
                "cohort": job["cohort_id"], "seen": cohort.updated_at, "rid": registration.id,
                "tenant": cohort.tenant, "participant": who.sub, "name": f"Person {n}",
                "email": registration.email, "now": now, "aid": new_id(), "mid": event.id,
                "body": event.to_json()}).first()
            if outcome is None:
                raise RuntimeError("no place claimed (the cohort changed, or the waitlist places ran out)")
    return job["each"]


def main() -> None:
    from shared.db import Database

    from services.scheduling.bootstrap import migrate
    from services.scheduling.config import SchedulingConfig
    from services.scheduling.models import Registration

    schema = f"bench_one_{uuid.uuid4().hex[:8]}"
    os.environ.update({"SCHEDULING_DATABASE_URL": POSTGRES_URL, "SCHEDULING_DB_SCHEMA": schema})
    config = SchedulingConfig.from_env()
    migrate(config)
    race._CLIENTS["one_statement"] = _one_statement_client
    db = Database(config.database_url, schema=schema, pool_size=race.CONTENDERS)
    people, seats = race.REGISTRATIONS, race.SEATS
    try:
        ceiling, ceiling_cpu = race.commit_ceiling(db)
        service = race.registration_rate(db)
        # Enough waitlist places made in advance: the experiment does not make more.
        cohort_id = race.open_cohort(db, seats, waitlist_places=people)
        done, elapsed, cpu = race._race("one_statement", db, {"cohort_id": cohort_id,
                                                              "each": people // race.CONTENDERS})
        with db.session() as session:
            statuses = dict(session.execute(select(Registration.status, func.count())
                                            .where(Registration.cohort_id == cohort_id)
                                            .group_by(Registration.status)).all())
            positions = sorted(session.scalars(select(Registration.waitlist_position).where(
                Registration.cohort_id == cohort_id, Registration.status == "waitlisted")))
        print(f"single-row commits, {race.CONTENDERS} connections: {ceiling:.0f}/s, CPU {race._cpu(ceiling_cpu)}")
        print(f"the service's registrations: {service['per_s']:.0f}/s = {service['per_s'] / ceiling:.1%}, "
              f"{service['confirmed']} confirmed for {seats} seats, CPU {race._cpu(service['cpu_ms'])}")
        print(f"one-statement registrations: {done / elapsed:.0f}/s = {done / elapsed / ceiling:.1%}, "
              f"{statuses.get('confirmed', 0)} confirmed for {seats} seats, waitlist positions "
              f"{'1..' + str(len(positions)) if positions == list(range(1, len(positions) + 1)) else 'NOT DENSE'}, "
              f"CPU {race._cpu(cpu)}")
    finally:
        db.dispose()
        drop_pg_schema(schema)


if __name__ == "__main__":
    main()
