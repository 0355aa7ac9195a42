"""gunicorn settings shared by every service's API (``gunicorn -c python:shared.gunicorn_conf``)."""

import json
import os
import shutil
import tempfile

from gunicorn import util
from gunicorn.glogging import Logger

from shared.logging import json_formatter

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app logs one JSON line per request itself


class JsonLogger(Logger):
    """gunicorn's own lines (starting, workers booting and exiting) as JSON, like every other line.

    A logger class rather than ``logconfig_dict``: with a logging configuration, gunicorn also writes
    an access line per request, which the app's own request line already is.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(json_formatter())


logger_class = JsonLogger
preload_app = False  # each worker builds its own engine after the fork
# Absolute URLs are built from each service's configured public URL, never from the request, and no
# forwarded header is trusted unless the proxies sending it are named (FORWARDED_ALLOW_IPS, comma-separated
# addresses, or * behind a proxy that strips these headers from what clients send).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# Several workers answer /metrics: prometheus_client's multiprocess mode adds their counters up.
# The folder must be set before prometheus_client is first imported, which picks its value class then.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prom-")


def on_starting(server):
    server.cfg.set("control_socket", control_socket_path(server))
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def post_worker_init(worker):
    """Keep the application as loaded out of the garbage collector's full collections.

    A worker holds some 200,000 objects once its app is loaded (modules, SQLAlchemy's and marshmallow's
    metadata), and a full collection walks all of them while every thread of the worker waits: 100 to
    400 ms measured on a loaded 2-core machine, the slowest requests of the portal's bench. None of them
    is ever garbage, so they are moved where the collector no longer looks (``gc.freeze``).
    """
    import gc

    gc.freeze()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def control_socket_path(server) -> str:
    """Where this master serves ``gunicornc``: one socket per API, named after its application.

    gunicorn's default is one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl), so two
    APIs on one machine (``make run``) would each take it from the other. It goes in the data folder
    of the run, or the temporary folder where that is read-only (a container). Set before the socket
    opens (after the first workers start); GUNICORN_CONTROL_SOCKET overrides it.
    """
    if os.environ.get("GUNICORN_CONTROL_SOCKET"):
        return os.environ["GUNICORN_CONTROL_SOCKET"]
    app = (server.app.app_uri or "app").split(":")[0].removesuffix(".wsgi").rsplit(".", 1)[-1]
    folder = os.environ.get("DATA_DIR", "")
    if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        folder = tempfile.gettempdir()
    return os.path.join(folder, f"{app}-api.ctl")


def _write_problem(sock, status_int, reason, mesg):
    """gunicorn's own errors (a request line over 4094 bytes: 414; a header over 8190 bytes or more than
    100 headers: 431; an unreadable request line or header, such as a bad Content-Length: 400) as RFC 9457
    problems, like every error of the services, instead of gunicorn's HTML page."""
    body = json.dumps({"type": "about:blank", "title": reason, "status": status_int, "detail": mesg[:300]}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


# gunicorn answers these before any application code runs and offers no hook for their body: its workers
# call util.write_error, replaced here in the master, before the workers are forked.
util.write_error = _write_problem
