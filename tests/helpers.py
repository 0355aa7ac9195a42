"""Helpers for tests that need more than a fixture: broker clean-up with pika, the independent client."""

from __future__ import annotations

import pika


def pika_params(url: str) -> pika.URLParameters:
    params = pika.URLParameters(url.replace("amqp://", "amqp://", 1))
    params.connection_attempts = 1
    params.socket_timeout = 5
    return params


def delete_namespace(url: str, namespace: str) -> None:
    """Delete the queues and exchanges a test declared under ``namespace`` (best effort)."""
    import subprocess

    try:
        out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True, text=True,
                             timeout=30).stdout
        queues = [line.strip() for line in out.splitlines() if line.strip().startswith(namespace)]
    except (OSError, subprocess.TimeoutExpired):
        queues = []
    connection = pika.BlockingConnection(pika_params(url))
    try:
        channel = connection.channel()
        for queue in queues:
            channel.queue_delete(queue)
        for exchange in (f"{namespace}events", f"{namespace}events.dlx"):
            channel.exchange_delete(exchange)
    finally:
        connection.close()
