"""Items of a hot list, as presented for their schema, kept per process while their row is unchanged.

Kept where ``make bench``'s load shows users the difference: the session list of a national year
answered more pages per second with it than without it in every one of six rounds measured back to
back (1.4 to 8 times, about 4.5 at the median, on a loaded machine), with a lower p99: building a
session's representation reads its cohort, room, venue and module's materials and renders its times
in three zones. What is kept is the presented item, before
serialization: the view still returns its page through its declared response schema, so the
OpenAPI document stays what the server does. Clients that hold a copy use HTTP caching (ETag,
If-None-Match) first; this cache saves the server the work behind a page that changed only in part.

Entries are keyed by the row and whatever else the representation depends on (``variant``: the
viewer's zone, the materials' version), checked against the row's version (its ``updated_at``),
and expire after ``ttl`` seconds at most, which bounds staleness from changes that do not touch the
row. Each entry's lifetime is drawn between ``ttl / 2`` and ``ttl``: the items of a page are filled
together, and with one lifetime they would all expire together, so that the next request for that
page would render every item again at once (the list's slowest requests under load).
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    item: dict
    expires: float


class RepresentationCache:
    """Shared by a worker's threads: every read and change of the entries is under one lock, and a
    page is built from the entries it looked up, never from the dictionary again (which may have
    evicted them meanwhile, to stay within ``maxsize``)."""

    def __init__(self, *, ttl: float = 60.0, maxsize: int = 5000):
        self.ttl = ttl
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def _fresh(self, key: Hashable, version: Hashable, now: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.version != version or now > entry.expires:
            return None
        return entry

    def items(self, rows: list, load: Callable[[list], dict[Hashable, dict]], *, variant: Hashable = None) -> list:
        """The presented item of each of ``rows`` (each with ``id`` and ``updated_at``), in their order.

        ``load(ids)`` presents the rows that need it (``{id: item}``), for the view's schema to dump.
        ``variant`` is whatever else the representation depends on: part of every entry's key and version.
        """
        now = time.monotonic()
        versions = {(row.id, variant): (row.updated_at, variant) for row in rows}
        entries = {key: self._fresh(key, version, now) for key, version in versions.items()}
        stale = [key[0] for key, entry in entries.items() if entry is None]
        if stale:
            for row_id, item in load(stale).items():
                key = (row_id, variant)
                entries[key] = _Entry(versions[key], item, now + random.uniform(self.ttl / 2, self.ttl))
                self._store(key, entries[key])
        return [entries[(row.id, variant)].item for row in rows]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
