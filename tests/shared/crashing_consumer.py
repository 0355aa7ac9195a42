"""A probe consumer run as its own process, whose handler hangs on, or crashes with, 'poison' events.

``python -m tests.shared.crashing_consumer SETTINGS_JSON``; every start of a poison run leaves a file
in ``settings["marks"]`` so the test knows when to kill the process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

from shared.db import Database
from shared.messaging.bus import Bus
from shared.messaging.consumer import EventConsumer
from shared.messaging.topology import Topology
from tests.shared import probe


def main(settings: dict) -> None:
    marks = Path(settings["marks"])

    def record_material(event, uow) -> None:
        if event.data["title"] == "poison":
            (marks / f"{time.time_ns()}-{uuid.uuid4().hex}").touch()
            if settings["mode"] == "crash":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(3600)  # hangs until the test kills the process
        uow.session.add(probe.Effect(event_id=event.id, title=event.data["title"]))

    topology = Topology(
        subscriptions=(probe.SUBSCRIPTION,),
        namespace=settings["namespace"],
        retry_delays=(0.2, 0.4),
        delivery_limit=settings["delivery_limit"],
        crash_limit=settings["crash_limit"],
    )
    bus = Bus(settings["broker_url"], topology, connect_timeout=2)
    db = Database(settings["database_url"], schema=settings["schema"])
    EventConsumer(bus, db, probe.tables, "probe", {"record_material": record_material}, prefetch=20).run()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
