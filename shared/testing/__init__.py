"""Test helpers every service's tests use: real-server fixtures, token makers, waiters."""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from shared.auth import generate_private_key_pem, mint_token

POSTGRES_URL = os.environ.get("DATABASE_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RABBITMQ_URL = os.environ.get("BROKER_TEST_URL", "amqp://guest:guest@127.0.0.1:5672//")
ISSUER = "https://idp.test.example"
AUDIENCE = "t4t-platform"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, error: Exception) -> None:
    """In CI a missing server fails the test; on a laptop it skips with the reason."""
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if in_ci():
        pytest.fail(message + " — CI requires it", pytrace=False)
    pytest.skip(message + "; start it or set CI=true to make this fatal")


def require_postgres() -> str:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver error means unavailable
        unavailable("PostgreSQL at " + POSTGRES_URL.split("@")[-1], exc)
    return POSTGRES_URL


def require_rabbitmq() -> str:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # noqa: BLE001
        unavailable("RabbitMQ at " + RABBITMQ_URL.split("@")[-1], exc)
    return RABBITMQ_URL


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def drop_pg_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def spare_port() -> int:
    """A free port on 127.0.0.1 for a server a test starts itself, often in another process.

    Chosen below the kernel's range for outgoing connections (``ip_local_port_range``): a port that
    ``bind(0)`` hands out comes from that range, and any outgoing connection of the machine (to
    PostgreSQL, RabbitMQ, another API) may take it in the moment before the server binds it, which then
    fails to start ("Address already in use", seen once in CI). Below the range only another test's pick
    can take it, and picks are spread at random over some twenty thousand ports.
    """
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            low = int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randrange(10_000, low) if low > 11_000 else 0
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port below the range for outgoing connections")


def wait_until(
    predicate: Callable[[], object], *, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"
) -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Tokens:
    """Mints tokens signed by a test key the service under test trusts."""

    def __init__(self, private_pem: bytes | None = None):
        self.private_pem = private_pem or generate_private_key_pem()

    def token(
        self,
        role: str = "national_admin",
        tenant: str = "US",
        *,
        sub: str | None = None,
        roles: list[str] | None = None,
        **kwargs,
    ) -> str:
        return mint_token(
            self.private_pem,
            issuer=ISSUER,
            audience=AUDIENCE,
            sub=sub or f"{role}-{tenant.lower()}",
            tenant=tenant,
            roles=roles or [role],
            **kwargs,
        )

    def headers(self, role: str = "national_admin", tenant: str = "US", **kwargs) -> dict:
        return {"Authorization": f"Bearer {self.token(role, tenant, **kwargs)}"}


def pika_params(url: str):
    """pika connection parameters for a kombu-style AMQP URL (tests and operations scripts)."""
    import pika

    # kombu spells the default vhost "//"; pika wants it percent-encoded.
    if url.endswith("//"):
        url = url[:-1] + "%2F"
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    return params
