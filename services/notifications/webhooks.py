"""Posting webhooks: signed as Standard Webhooks says, redirects never followed, the connected address checked.

The address is checked three times: the URL as written (any spelling of an IP), every address its
name resolves to, and the address each connection actually reached, before a byte of the request is
sent, so a name that resolves differently the second time (DNS rebinding) is refused as well.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from services.notifications.domain.webhooks import RefusedAddress, check_resolved, check_url, refused_ip

USER_AGENT = "t4t-notifications-webhooks/1.0"


def resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except socket.gaierror as exc:
        raise RefusedAddress(f"The URL's host does not resolve ({exc.strerror}).") from None


def check_endpoint(url: str, *, allow_private: bool) -> None:
    """Refuse (RefusedAddress) a URL the platform may not call, as written or once resolved."""
    host, port = check_url(url, allow_private=allow_private)
    check_resolved(resolve(host, port), allow_private=allow_private)


class _CheckedConnection:
    allow_private = False

    def connect(self):
        super().connect()
        peer = self.sock.getpeername()[0]
        reason = None if self.allow_private else refused_ip(peer)
        if reason:
            self.sock.close()
            raise RefusedAddress(f"The connection reached an address the platform may not call: {reason}.")


def _adapter(allow_private: bool) -> HTTPAdapter:
    http_conn = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection), {"allow_private": allow_private})
    https_conn = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection), {"allow_private": allow_private})
    http_pool = type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})
    adapter = HTTPAdapter(pool_connections=20, pool_maxsize=20, max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
    adapter.poolmanager.key_fn_by_scheme = dict(adapter.poolmanager.key_fn_by_scheme)
    return adapter


class Outcome:
    def __init__(self, ok: bool, status: int | None, latency_ms: int, error: str | None = None):
        self.ok, self.status, self.latency_ms, self.error = ok, status, latency_ms, error


class WebhookPoster:
    """Posts signed deliveries on kept-alive connections."""

    def __init__(self, config):
        self.config = config
        self.session = requests.Session()
        adapter = _adapter(config.webhook_allow_private)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT

    def post(self, url: str, secret: str, webhook_id: str, body: str) -> Outcome:
        """Sign and post one message; only a 2xx within the timeout is a success (3xx is not followed)."""
        started = time.monotonic()
        try:
            check_endpoint(url, allow_private=self.config.webhook_allow_private)
            now = datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(secret).sign(webhook_id, now, body),
            }
            response = self.session.post(
                url,
                data=body.encode("utf-8"),
                headers=headers,
                timeout=self.config.webhook_timeout,
                allow_redirects=False,
            )
            response.close()
        except RefusedAddress as exc:
            return Outcome(False, None, _ms(started), str(exc))
        except requests.RequestException as exc:
            return Outcome(False, None, _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        ok = 200 <= response.status_code < 300
        error = None if ok else f"the receiver answered {response.status_code}"
        return Outcome(ok, response.status_code, _ms(started), error)

    def close(self) -> None:
        self.session.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
