"""The group commit: requests arriving while a batch is written go together in the next one."""

from __future__ import annotations

import threading
import time

import pytest

from shared.group_commit import GroupCommit, group_commit_for


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.001)


def queued(group: GroupCommit) -> int:
    with group._changed:
        return len(group._queue)


class Writer:
    """Records each batch; the first batch waits until ``release`` is set."""

    def __init__(self, *, fail_on: str | None = None):
        self.batches: list[list[str]] = []
        self.writing_first = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, batch):
        self.batches.append(list(batch))
        if len(self.batches) == 1:
            self.writing_first.set()
            assert self.release.wait(10)
        if self.fail_on in batch:
            raise RuntimeError("the database went away")
        return [f"written {request}" for request in batch]


def submit_in_thread(group, request, writer, outcomes, errors):
    def run():
        try:
            outcomes[request] = group.submit(request, writer)
        except RuntimeError as exc:
            errors[request] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_request_arriving_alone_is_written_at_once_as_a_batch_of_one():
    group, batches = GroupCommit(), []
    assert group.submit("a", lambda batch: batches.append(list(batch)) or ["done"]) == "done"
    assert batches == [["a"]]


def test_requests_arriving_while_a_batch_is_written_go_together_in_arrival_order():
    group, writer, outcomes, errors = GroupCommit(), Writer(), {}, {}
    first = submit_in_thread(group, "first", writer, outcomes, errors)
    assert writer.writing_first.wait(10)
    waiting = []
    for name in ("b", "c", "d"):  # one after another, so that their order is known
        waiting.append(submit_in_thread(group, name, writer, outcomes, errors))
        expected = len(waiting)
        wait_until(lambda: queued(group) == expected)
    writer.release.set()
    for thread in (first, *waiting):
        thread.join(10)
    assert writer.batches == [["first"], ["b", "c", "d"]]
    assert outcomes == {name: f"written {name}" for name in ("first", "b", "c", "d")}
    assert errors == {}


def test_a_failed_batch_answers_none_to_its_requests_and_the_next_batch_is_still_written():
    group, writer, outcomes, errors = GroupCommit(), Writer(fail_on="b"), {}, {}
    first = submit_in_thread(group, "first", writer, outcomes, errors)
    assert writer.writing_first.wait(10)
    failing = []
    for name in ("b", "c"):
        failing.append(submit_in_thread(group, name, writer, outcomes, errors))
        expected = len(failing)
        wait_until(lambda: queued(group) == expected)
    writer.release.set()
    for thread in (first, *failing):
        thread.join(10)
    assert writer.batches == [["first"], ["b", "c"]]
    # Whichever of b and c wrote the failed batch sees its exception; the other gets None (go alone).
    assert outcomes.pop("first") == "written first"
    assert len(errors) == 1 and isinstance(next(iter(errors.values())), RuntimeError)
    assert outcomes == {({"b", "c"} - set(errors)).pop(): None}
    assert group.submit("later", writer) == "written later"  # nothing left stuck


def test_a_batch_gets_one_outcome_per_request_or_fails():
    group = GroupCommit()
    with pytest.raises(ValueError):
        group.submit("a", lambda batch: [])  # a writer that forgot someone is a bug, not a silent None
    assert group.submit("b", lambda batch: ["ok"] * len(batch)) == "ok"


def test_one_queue_per_key_while_it_is_in_use():
    key, other_key = ("engine", "cohort-1"), ("engine", "cohort-2")
    group = group_commit_for(key)
    assert group_commit_for(key) is group
    assert group_commit_for(other_key) is not group
