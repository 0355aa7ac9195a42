"""kombu's filesystem transport with atomic, time-ordered message files (the embedded default's broker).

The stock transport opens the message file, then writes it: a consumer polling the folder can pick
the empty file in between and fail on it. Here a message is written under a name no queue matches
and renamed into place, and names sort by nanosecond time so a queue reads in publish order.
Each connection also keeps its own record of declared bindings (see Transport).
"""

from __future__ import annotations

import os
import time
import uuid

from kombu.transport import filesystem
from kombu.transport.virtual.base import BrokerState
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{time.time_ns()}_{uuid.uuid4().hex}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading "~" keeps the partial file out of every queue's filename match.
        partial = os.path.join(self.data_folder_out, f"~{name}.partial")
        with open(partial, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class Transport(filesystem.Transport):
    Channel = Channel

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        # kombu keeps declared bindings in one class-wide state; a connection to another folder
        # would then skip writing its bindings ("already declared") and route nothing.
        self.state = BrokerState()
