"""Requests that arrive at the same moment in one process, written together in one transaction.

When a crowd writes to the same rows at once (everyone registering for a cohort the minute it opens), most of
what each small transaction costs is the transaction itself: its round trips, its locks, its commit,
and the contention between fifty of them. A group commit pays that once for everyone waiting: while
one batch is being written, whoever arrives queues up; the next to get its turn writes everything
that queued meanwhile, its own request and the others', and hands each its outcome. A request that
arrives alone is written at once, as a batch of one.

No thread of its own: the writer is whichever waiting request gets the turn first, in its own
transaction. Requests are grouped per key (one cohort, on one database), so a slow batch holds up
only requests for the same key.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Outcome = TypeVar("Outcome")


class _Ticket(Generic[Request, Outcome]):
    __slots__ = ("request", "outcome", "answered")

    def __init__(self, request: Request):
        self.request = request
        self.outcome: Outcome | None = None
        self.answered = False


class GroupCommit(Generic[Request, Outcome]):
    """One queue of requests, written in batches by whichever of their threads gets the turn."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: list[_Ticket] = []
        self._writing = False  # a batch is being written

    def submit(
        self, request: Request, write: Callable[[Sequence[Request]], Sequence[Outcome | None]]
    ) -> Outcome | None:
        """``request``'s outcome, written by ``write`` in a batch with whatever queued up beside it.

        ``write`` gets the batch in the order of arrival and returns an outcome for each. If it
        raises, every request of its batch gets None, and the writer's exception propagates.
        """
        ticket: _Ticket = _Ticket(request)
        with self._changed:
            self._queue.append(ticket)
            while self._writing and not ticket.answered:
                self._changed.wait()
            if ticket.answered:  # written in someone else's batch
                return ticket.outcome
            # Our turn: everything that queued while the last batch was written, ourselves included.
            self._writing = True
            batch, self._queue = self._queue, []
        try:
            for waiting, outcome in zip(batch, write([t.request for t in batch]), strict=True):
                waiting.outcome = outcome
        finally:
            with self._changed:
                for waiting in batch:
                    waiting.answered = True
                self._writing = False
                # Wakes the batch's requests with their outcomes, and those queued since, one of
                # whom writes the next batch.
                self._changed.notify_all()
        return ticket.outcome


_groups: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_groups_lock = threading.Lock()


def group_commit_for(key: Hashable) -> GroupCommit:
    """The queue of ``key`` in this process; kept while anyone is using it."""
    with _groups_lock:
        group = _groups.get(key)
        if group is None:
            group = _groups[key] = GroupCommit()
        return group
