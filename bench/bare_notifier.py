"""The pipeline's second ceiling: a bare program doing notifications' job for registration confirmations.

``python -m bench.bare_notifier BROKER_URL DSN QUEUE SCHEMA PREFETCH`` (started by ``bench.pipeline``).

No framework: raw pika and psycopg. It takes up to PREFETCH deliveries, and in one transaction
skips those its inbox already holds, reads the batch's contact points and its cohorts' upcoming
sessions, renders each confirmation with the service's own templates and calendar invite (the same
subject, text, HTML and .ics), writes the rows the service writes to the same tables (the contact
point, a reminder 24 hours and one 1 hour before each upcoming session, the e-mail, the inbox row,
the sessions' registrants), commits and acks. What it leaves out is what makes the service a
service: validating each event against the catalogue, preferences, webhooks, digests, retries,
dead letters, logs, metrics and heartbeats.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta

MINUTES_BEFORE = (1440, 60)
ORGANIZER = "notifications@t4t.localhost"
MAIL_DOMAIN = "t4t.localhost"


# As deployed, and as bench.pipeline starts the service: each e-mail carries its reader's unsubscribe link.
UNSUBSCRIBE_SECRET = "bench-" + "0123456789abcdef" * 4
PUBLIC_URL = "http://127.0.0.1:8004"  # the service's default public address, which the bench leaves as it is


def handle(
    db,
    schema: str,
    queue: str,
    bodies: list[bytes],
    renderer,
    unsubscribe: tuple[str, str] = (UNSUBSCRIBE_SECRET, PUBLIC_URL),
) -> None:
    """Write what the service writes for these confirmations, in the caller's transaction (``unsubscribe``:
    the secret and public address the service signs its unsubscribe links with)."""
    from psycopg.types.json import Json

    from services.notifications.domain.invites import invite
    from services.notifications.domain.kinds import KINDS
    from services.notifications.domain.unsubscribe import link_for
    from services.notifications.domain.when import session_details

    events = [json.loads(body) for body in bodies]
    seen = {
        row[0]
        for row in db.execute(
            f"SELECT event_id FROM {schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)",
            (queue, [e["id"] for e in events]),
        )
    }
    fresh, ids = [], set()
    for event in events:
        if event["id"] not in seen and event["id"] not in ids:
            fresh.append(event)
            ids.add(event["id"])
    if not fresh:
        return
    tenant = "CA"  # the bench's events are all California's
    people = sorted({e["data"]["participant"] for e in fresh})
    contacts = {
        row[0]: row[1:]
        for row in db.execute(
            f"SELECT person, email, time_zone FROM {schema}.contact_points WHERE tenant = %s AND person = ANY(%s)",
            (tenant, people),
        )
    }
    cohorts = sorted({e["data"]["cohort_id"] for e in fresh})
    now = datetime.now(UTC)
    sessions: dict[str, list[dict]] = {}
    for cohort, data in db.execute(
        f"SELECT cohort_id, data FROM {schema}.known_sessions "
        "WHERE tenant = %s AND cohort_id = ANY(%s) AND NOT cancelled AND starts_at > %s ORDER BY starts_at",
        (tenant, cohorts, now),
    ):
        sessions.setdefault(cohort, []).append(data)
    template = KINDS["scheduling.registration.confirmed"].template
    new_contacts, reminders, deliveries, inbox = [], [], [], []
    for event in fresh:
        data = event["data"]
        person, email, name = data["participant"], data["email"], data.get("participant_name")
        given = datetime.fromisoformat(data["contact_given_at"]) if data.get("contact_given_at") else None
        zone = None
        if person in contacts:
            zone = contacts[person][1]
        else:
            new_contacts.append((str(uuid.uuid4()), tenant, person, email, name, given, "en", now, now))
            contacts[person] = (email, None)
        upcoming = sessions.get(data["cohort_id"], [])
        for session in upcoming:
            session["registrant_ids"] = sorted({*session.get("registrant_ids", []), person})
            starts = datetime.fromisoformat(session["starts_at"])
            for minutes in MINUTES_BEFORE:
                if starts - timedelta(minutes=minutes) > now:
                    reminders.append(
                        (
                            str(uuid.uuid4()),
                            tenant,
                            session["session_id"],
                            person,
                            minutes,
                            starts - timedelta(minutes=minutes),
                            "pending",
                        )
                    )
        stamp = datetime.fromisoformat(event["time"])
        values = {
            "title": data.get("cohort_title"),
            "cohort": data.get("cohort_title"),
            "waitlist_position": None,
            "sessions_count": len(upcoming),
            "session": session_details(upcoming[0], zone, "en") if upcoming else None,
            "invite": invite("REQUEST", upcoming, attendee=email, organizer=ORGANIZER, stamp=stamp)
            if upcoming
            else None,
        }
        link = link_for(*unsubscribe, tenant, person, template)
        rendered = renderer.render(template, "en", values, unsubscribe=bool(link), greet=True).for_reader(
            name=name, unsubscribe=link
        )
        deliveries.append(
            (
                str(uuid.uuid4()), tenant, event["id"], event["type"], email, person, "email", template,
                f"<{uuid.uuid4()}@{MAIL_DOMAIN}>", "en", rendered.subject, rendered.text, rendered.html,
                values["invite"], "pending", 0, 0, now, now,
            )
        )  # fmt: skip
        inbox.append((queue, event["id"], event["type"], now))
    with db.cursor() as cursor:
        for table, columns, rows in (
            (
                "contact_points",
                "id, tenant, person, email, name, contact_given_at, language, created_at, updated_at",
                new_contacts,
            ),
            ("reminders", "id, tenant, session_id, person, minutes_before, due_at, status", reminders),
            (
                "deliveries",
                "id, tenant, event_id, event_type, recipient, person, channel, template, message_id, language, "
                "subject, text_body, html_body, invite, status, attempts, ambiguous_sends, created_at, next_attempt_at",
                deliveries,
            ),
            ("inbox", "consumer, event_id, event_type, handled_at", inbox),
        ):
            if rows:
                with cursor.copy(f"COPY {schema}.{table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        touched = [s for cohort in cohorts for s in sessions.get(cohort, [])]
        cursor.executemany(
            f"UPDATE {schema}.known_sessions SET data = %s WHERE session_id = %s",
            [(Json(s), s["session_id"]) for s in touched],
        )


def main(url: str, dsn: str, queue: str, schema: str, prefetch: int) -> None:
    from bench.bare_consumer import consume_in_batches
    from services.notifications.rendering import Renderer

    renderer = Renderer()
    consume_in_batches(url, dsn, queue, prefetch, lambda db, bodies: handle(db, schema, queue, bodies, renderer))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
