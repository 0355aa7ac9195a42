"""gunicorn settings of the coaching API: the shared ones, with 4 threads in each of the 2 workers.

A caseload or a jurisdiction's report is a few short queries: a request spends most of its time
waiting on PostgreSQL, so a worker's threads overlap those waits instead of queueing the requests
behind one another (a worker's pool of 5 connections covers its 4 threads). ``make bench``'s coaching
section measures the API served with these settings against its bare ceiling. Measured there (8
clients, a small year, on a busy 2-core machine): 2 x 4 threads answered 225 to 385 caseloads a
second at a median of 15 ms, 2 sync workers 170 to 210 at 36 to 47 ms; the p99 of both moved with
the machine's load from run to run.
"""

import os

from shared.gunicorn_conf import *  # noqa: F403 - bind, workers, timeouts and the metrics hooks

threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# One request per connection, as with scheduling's threads: a worker that kept a busy client's
# connection open would keep serving that client while the other worker idles.
keepalive = 0
