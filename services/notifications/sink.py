"""The development mail sink: ``python -m services.notifications.sink`` (aiosmtpd on 127.0.0.1).

Keeps every message it receives in a Maildir (SMTP_SINK_DIR), which ``/dev/mailbox`` lists; it
delivers nothing further, so nothing leaves the machine.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from shared.config import env_int, env_str
from shared.logging import configure_logging, get_logger
from shared.messaging.worker import wait_for_stop

log = get_logger("smtp-sink")


def start_sink(folder: str | Path, *, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Start a sink keeping messages in the Maildir ``folder``; ``controller.stop()`` ends it."""
    Path(folder).parent.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "new", "cur"):  # a Maildir's own folders, also in a folder that already exists
        (Path(folder) / sub).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(str(folder)), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    configure_logging(env_str("LOG_LEVEL", "INFO").upper())
    # aiosmtpd logs every SMTP command at INFO; the messages themselves are what matters, in the mailbox.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    folder = env_str("SMTP_SINK_DIR", "")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    if not folder:
        # A real mail server is configured (SMTP_HOST): the sink has nothing to do, but stays up, since
        # `make run` stops every process when one of them ends.
        log.info("smtp sink idle: SMTP_SINK_DIR is not set, mail goes to SMTP_HOST")
        wait_for_stop(stopped)
        return
    port = env_int("SMTP_SINK_PORT", 1025, minimum=1)
    # 127.0.0.1 unless told otherwise: a container of docker-compose.yml listens for its neighbours.
    host = env_str("SMTP_SINK_HOST", "127.0.0.1")
    controller = start_sink(folder, host=host, port=port)
    log.info("smtp sink listening", address=f"{host}:{port}", folder=folder)
    wait_for_stop(stopped)
    controller.stop()


if __name__ == "__main__":
    main()
