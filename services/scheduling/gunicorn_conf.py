"""gunicorn settings of the scheduling API: the shared ones, with 25 threads per worker.

When a cohort opens, a crowd registers at the same moment. A registration mostly waits, on the
database or on the batch it joins (``shared.group_commit``), so each worker takes many at once in
threads, and the registrations that arrive together in a worker are written together in one
transaction. Threads that wait hold no database connection; only the one writing a batch does.
"""

import os

from shared.gunicorn_conf import *  # noqa: F403 - bind, workers, timeouts and the metrics hooks

threads = int(os.environ.get("GUNICORN_THREADS", "25"))
# One request per connection, as with the other APIs' sync workers. Each worker accepts connections
# for itself: one that kept a busy client's connection would keep serving that client while
# another worker idles.
keepalive = 0
