"""The jurisdictions the platform serves: the states, DC and territories every service shares as
reference data, and the registry each service keeps of them with the Tribes it has learnt of."""

from __future__ import annotations

import csv
import functools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

JURISDICTIONS_FILE = Path(__file__).parent / "data" / "jurisdictions.csv"
NATIONAL = "US"  # the tenant of the national office; only a national admin acts under it


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    kind: str
    default_time_zone: str


@functools.cache
def jurisdictions() -> dict[str, Jurisdiction]:
    """Every jurisdiction of the static list by its code (exact, upper-case: ``CA``, ``GU``)."""
    with JURISDICTIONS_FILE.open(newline="", encoding="utf-8") as handle:
        return {row["code"]: Jurisdiction(**row) for row in csv.DictReader(handle)}


def is_jurisdiction(code: str) -> bool:
    return code in jurisdictions()


# What a jurisdiction code looks like: ``CA``, ``GU``, a Tribe's own code such as ``NAVAJO-NATION``.
CODE_PATTERN = r"^[A-Z][A-Z0-9_-]{1,39}$"
_CODE = re.compile(CODE_PATTERN)


class JurisdictionsUnavailable(Exception):
    """The service's own list of jurisdictions cannot be read just now (its database is away)."""

    def __init__(self, retry_after: int):
        super().__init__("the list of jurisdictions cannot be read")
        self.retry_after = retry_after


class JurisdictionRegistry:
    """The jurisdictions a service serves: the static list plus the ones its own table holds (Tribes).

    ``read_codes`` returns every code of the service's table. Its answer is kept in memory, and read
    again only when a code is asked for that neither the static list nor the kept answer holds, and at
    most once every ``refresh_seconds``: a Tribe added elsewhere is known within that time, while a
    flood of made-up codes costs at most one database read per ``refresh_seconds`` per process.
    Jurisdictions are never removed, so a known code needs no read at all. Safe across threads: one
    thread reads while the others wait for its answer.
    """

    def __init__(
        self,
        read_codes: Callable[[], Iterable[str]] | None = None,
        *,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._read_codes = read_codes
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._codes: frozenset[str] = frozenset()
        self._next_read_at = -math.inf
        self._failed = False
        self._lock = threading.Lock()
        self.reads = 0  # database reads so far (tests and operators see the cache work)

    def knows(self, code: str) -> bool:
        """Whether ``code`` is a jurisdiction this service serves (exact: codes are upper-case)."""
        if not _CODE.fullmatch(code):
            return False  # a code no jurisdiction can have is refused without a read
        if code in jurisdictions() or code in self._codes:
            return True
        if self._read_codes is None:
            return False
        with self._lock:
            if code in self._codes:
                return True  # another thread's read, while this one waited, found it
            if self._clock() >= self._next_read_at:
                self._read()
            elif self._failed:
                raise JurisdictionsUnavailable(self._retry_after())
        return code in self._codes

    def learn(self, code: str) -> None:
        """Know ``code`` at once: this process has just added it."""
        with self._lock:
            self._codes = self._codes | {code}

    def _read(self) -> None:
        self.reads += 1
        self._next_read_at = self._clock() + self.refresh_seconds
        try:
            codes = frozenset(self._read_codes())
        except Exception as exc:
            self._failed = True
            raise JurisdictionsUnavailable(self._retry_after()) from exc
        self._failed = False
        self._codes = self._codes | codes  # never removed: a code learnt meanwhile stays known

    def _retry_after(self) -> int:
        return max(1, math.ceil(self._next_read_at - self._clock()))


def record_announced(session, model: type, data: dict, announced_at) -> None:
    """Keep a Tribe scheduling announced (``scheduling.jurisdiction.added``) in a service's own table.

    An announcement may come again (a re-announcement, a redelivery): the row is kept, and only an
    announcement newer than the one it holds changes its name or zone. ``model`` is the service's
    jurisdictions table (code, name, kind, default_time_zone, announced_at).
    """
    row = session.get(model, data["code"])
    if row is not None and row.announced_at >= announced_at:
        return
    row = row or model(code=data["code"])
    row.name, row.kind, row.default_time_zone = data["name"], data["kind"], data["default_time_zone"]
    row.announced_at = announced_at
    session.add(row)
