"""The pipeline's ceiling consumer: raw pika and psycopg, one row per event, commits and acks in batches.

``python -m bench.bare_consumer BROKER_URL DSN QUEUE TABLE PREFETCH`` (started by ``bench.pipeline``).
``consume_in_batches`` is also the loop of ``bench.bare_notifier``, the consumer doing notifications' job.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable


def consume_in_batches(url: str, dsn: str, queue: str, prefetch: int, handle: Callable[[object, list[bytes]], None]):
    """Take up to ``prefetch`` deliveries, ``handle(db, bodies)`` in one transaction, commit, ack them with one ack.

    A batch is cut short when no delivery arrives for 5 ms, so the last events are not held back.
    Prints ``ready`` once it consumes, for the bench to start its clock.
    """
    import pika
    import psycopg

    from shared.testing import pika_params

    db = psycopg.connect(dsn)
    connection = pika.BlockingConnection(pika_params(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    bodies, last = [], None
    print("ready", flush=True)
    for method, _properties, body in channel.consume(queue, inactivity_timeout=0.005):
        if method is not None:
            bodies.append(body)
            last = method.delivery_tag
        if bodies and (method is None or len(bodies) >= prefetch):
            handle(db, bodies)
            db.commit()
            channel.basic_ack(last, multiple=True)
            bodies = []


def main(url: str, dsn: str, queue: str, table: str, prefetch: int) -> None:
    def insert(db, bodies: list[bytes]) -> None:
        with db.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} (event_id) VALUES (%s)", [(json.loads(b)["id"],) for b in bodies])

    consume_in_batches(url, dsn, queue, prefetch, insert)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
