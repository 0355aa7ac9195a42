"""Serialized representations kept per process while their row is unchanged.

Curriculum rows are read far more often than they change. A view first asks the database for the
row's version (its ``updated_at``, one indexed primary-key read that also applies tenant scoping),
then reuses the JSON it built for that version instead of loading the entity and dumping it again.
Entries also expire after ``ttl`` seconds, which bounds staleness from changes that do not touch the
row itself (a practice's wording, say).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Response, request
from flask_smorest.etag import EtagMixin


def etag_of(data) -> str:
    """The ETag flask-smorest gives ``data``, so If-Match checks in updates agree with it."""
    return EtagMixin._generate_etag(data)


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    body: bytes
    etag: str
    stored: float


class RepresentationCache:
    """Shared by a worker's threads: every read and change of the entries is under one lock, and a
    response is built from the entries it looked up, never from the dictionary again (which may
    have evicted them meanwhile, to stay within ``maxsize``)."""

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
        if entry is None or entry.version != version or now - entry.stored > self.ttl:
            return None
        return entry

    def _entry(self, key: Hashable, version: Hashable, build: Callable[[], dict]) -> _Entry:
        now = time.monotonic()
        entry = self._fresh(key, version, now)
        if entry is None:
            data = build()
            entry = _Entry(version, json.dumps(data, separators=(",", ":")).encode(), etag_of(data), now)
            self._store(key, entry)
        return entry

    def response(self, key: Hashable, version: Hashable, build: Callable[[], dict]) -> Response:
        """A 200 with the representation and its ETag, or a 304 if the client's copy is current."""
        entry = self._entry(key, version, build)
        response = Response(entry.body, mimetype="application/json")
        response.set_etag(entry.etag)
        return response.make_conditional(request)

    def page_response(
        self,
        page: dict,
        load: Callable[[list], dict[Hashable, dict]],
        headers: dict | None = None,
        *,
        variant: Hashable = None,
    ) -> Response:
        """A page whose rows are ``(id, updated_at)``; only items changed since last served are dumped.

        ``load(ids)`` returns ``{id: dumped item}`` for the ids that need building. ``variant`` is
        whatever else the representation depends on (a viewer's zone, the materials' version): it is
        part of every entry's key and version.
        """
        now = time.monotonic()
        versions = {(row.id, variant): (row.updated_at, variant) for row in page["items"]}
        entries = {key: self._fresh(key, version, now) for key, version in versions.items()}
        stale = [key[0] for key, entry in entries.items() if entry is None]
        if stale:
            for row_id, data in load(stale).items():
                key = (row_id, variant)
                entries[key] = _Entry(
                    versions[key], json.dumps(data, separators=(",", ":")).encode(), etag_of(data), now
                )
                self._store(key, entries[key])
        items = b",".join(entries[(row.id, variant)].body for row in page["items"])
        tail = (b',"next_cursor":' + json.dumps(page["next_cursor"]).encode()) if page.get("next_cursor") else b""
        if "last_change" in page:
            tail += b',"last_change":' + json.dumps(page["last_change"]).encode()
        response = Response(b'{"items":[' + items + b"]" + tail + b"}", mimetype="application/json")
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
