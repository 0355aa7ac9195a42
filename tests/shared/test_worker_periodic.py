"""The worker's periodic jobs: run at their interval, survive a failing run, stop when told."""

from __future__ import annotations

import threading

from shared.messaging.worker import run_periodically
from shared.testing import wait_until


def test_a_periodic_job_runs_again_after_failing_and_stops_when_told():
    runs: list[int] = []

    def job():
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the database is away")

    stopped = threading.Event()
    thread = threading.Thread(target=run_periodically, args=("job", 0.01, job, stopped))
    thread.start()
    wait_until(lambda: len(runs) >= 3, timeout=5, message="three runs")
    stopped.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    count = len(runs)
    stopped.wait(0.05)
    assert len(runs) == count  # no run after the stop
