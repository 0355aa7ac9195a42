"""Helpers for tests that need more than a fixture: broker clean-up with pika, the independent client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pika

from shared.testing import pika_params

ROOT = Path(__file__).resolve().parents[1]


def migrate_and_seed(env: dict, services=()) -> None:
    """Run the services' migrations and seed as `make seed` does (every service unless named), in one process."""
    chosen = [argument for service in services for argument in ("--service", service)]
    subprocess.run(
        [sys.executable, "-m", "services.manage", "migrate", "seed", *chosen],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def delete_namespace(url: str, namespace: str) -> None:
    """Delete the queues and exchanges a test declared under ``namespace`` (best effort)."""
    try:
        out = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True, text=True, timeout=30
        ).stdout
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


class TcpProxy:
    """A TCP forwarder the test can cut, black-hole and restore, to take the broker away and give it back.

    ``cut()`` refuses connections and drops the open ones, as a broker that is down; ``blackhole()``
    accepts connections and reads every byte but forwards none and answers nothing, as a network
    that silently drops packets (the client only learns it from its own timeouts).
    """

    def __init__(self, target_host: str, target_port: int):
        import socket
        import threading

        self.target = (target_host, target_port)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(50)
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: list = []
        self.mode = "up"  # "up", "cut" or "blackhole"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        import threading

        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.mode == "cut":
                client.close()
                continue
            if self.mode == "blackhole":
                with self._lock:
                    self._conns.append(client)
                threading.Thread(target=self._pipe, args=(client, None), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst):
        try:
            while data := src.recv(65536):
                if dst is None or self.mode == "blackhole":
                    continue  # swallowed: never forwarded, never answered
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass

    def _drop_connections(self) -> None:
        import socket

        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
            self._conns.clear()

    def cut(self) -> None:
        """Refuse new connections and drop the open ones, as a broker outage would."""
        self.mode = "cut"
        self._drop_connections()

    def blackhole(self) -> None:
        """Keep every connection open but let nothing through, either way, until restore()."""
        self.mode = "blackhole"

    def restore(self) -> None:
        """Forward again; connections that lived through a black hole lost bytes, so they are dropped."""
        if self.mode == "blackhole":
            self._drop_connections()
        self.mode = "up"

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._server.close()

    def url(self, user: str = "guest", password: str = "guest") -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}//"


def auth(tokens, who: tuple[str, str, str], **extra) -> dict:
    """Headers for ``who`` = (role, tenant, sub), plus any ``extra`` headers."""
    role, tenant, sub = who
    return {**tokens.headers(role, tenant, sub=sub), **extra}


def arrange(ctx, build):
    """Run ``build(db_session)`` in its own committed transaction (test set-up through the models)."""
    with ctx.db.unit_of_work() as uow:
        result = build(uow.session)
        uow.commit()
        return result


PROBLEM = "application/problem+json"


def assert_problem(response, status: int, *fields: str) -> dict:
    """An RFC 9457 problem with this status, naming each of ``fields`` among its errors; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status
    for field in fields:
        assert field in body.get("errors", {}), body
    return body
