"""Webhook rules: which addresses a delivery may reach, and the published retry schedule."""

from __future__ import annotations

import ipaddress
import random
import socket
from datetime import timedelta
from urllib.parse import urlsplit

# Like the leading webhook services: at once, then seconds, minutes, then hours; about a day in all
# (5 s + 5 min + 30 min + 2 h + 5 h + 10 h + 10 h = 27 h 35 min), each wait give or take 10 %.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.1


def next_wait(attempts: int, rand: random.Random | None = None) -> timedelta | None:
    """The wait before the next attempt after ``attempts`` failed ones, or None when there is none left."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempts - 1]
    spread = (rand or random).uniform(-JITTER, JITTER)
    return base * (1 + spread)


class RefusedAddress(ValueError):
    """A webhook URL or the address it leads to is not one the platform may call."""


def refused_ip(address: str) -> str | None:
    """Why an IP address may not be called (private, loopback, link-local, ...), or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            ip = mapped
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("unspecified", ip.is_unspecified),
        ("not globally reachable", not ip.is_global),
    ):
        if flag:
            return f"{ip} is a {reason} address"
    return None


def literal_ip(host: str) -> str | None:
    """The IP address ``host`` spells, in any spelling resolvers accept (``127.1``, ``0x7f.0.0.1``,
    ``2130706433``, ``[::ffff:127.0.0.1]``), or None for a name."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))  # the legacy IPv4 forms the C resolver accepts
    except OSError:
        return None


def check_url(url: str, *, allow_private: bool) -> tuple[str, int]:
    """(host, port) of a webhook URL the platform may call; RefusedAddress says why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedAddress("The URL must be an absolute https:// address.")
    if parts.scheme != "https" and not allow_private:
        raise RefusedAddress("Only https:// endpoints are accepted.")
    if parts.username or parts.password:
        raise RefusedAddress("The URL must not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedAddress("The URL's port is not a number from 1 to 65535.") from None
    host = parts.hostname
    literal = literal_ip(host)
    if literal is not None and not allow_private:
        reason = refused_ip(literal)
        if reason:
            raise RefusedAddress(f"The URL may not point to this address: {reason}.")
    if host.rstrip(".").lower() in ("localhost",) or host.lower().endswith(".localhost"):
        if not allow_private:
            raise RefusedAddress("The URL may not point to this machine.")
    return host, port


def check_resolved(addresses: list[str], *, allow_private: bool) -> None:
    """Every address a name resolves to must be callable (a name may hide a private address)."""
    if allow_private:
        return
    for address in addresses:
        reason = refused_ip(address)
        if reason:
            raise RefusedAddress(f"The URL's host resolves to an address the platform may not call: {reason}.")


# The test message a jurisdiction admin asks for (``POST /webhooks/{id}/test``): tried once, never retried.
TEST_EVENT = "notifications.webhook.tested"
