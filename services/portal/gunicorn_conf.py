"""gunicorn settings of the portal: the shared ones, with threads, since a page mostly waits on the APIs."""

import os

from shared.gunicorn_conf import *  # noqa: F403 - bind, workers, timeouts and the metrics hooks

threads = int(os.environ.get("GUNICORN_THREADS", "8"))
