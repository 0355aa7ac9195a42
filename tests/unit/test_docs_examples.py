"""The examples the docs show are the files that run: docs/notifications.md's webhook receiver."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]
RECEIVER = ROOT / "docs" / "examples" / "webhook_receiver.py"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_receiver_in_the_docs_is_the_example_file():
    shown = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "notifications.md").read_text(), flags=re.S)
    assert RECEIVER.read_text() in shown


def test_the_example_receiver_takes_a_signed_delivery_once_and_refuses_a_forged_one(monkeypatch, capsys):
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location("webhook_receiver", RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = module.app.test_client()
    body = json.dumps({"type": "scheduling.registration.confirmed", "data": {"participant": "ana"}})
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign("msg_1", now, body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}

    assert client.post("/t4t/events", data=body, headers=headers).status_code == 204
    assert client.post("/t4t/events", data=body, headers=headers).status_code == 204  # a retry of the same message
    assert capsys.readouterr().out == "msg_1 scheduling.registration.confirmed ana\n"
    forged = {**headers, "webhook-signature": Webhook("whsec_" + "A" * 43).sign("msg_1", now, body)}
    assert client.post("/t4t/events", data=body.replace("ana", "eve"), headers=forged).status_code == 400
    assert capsys.readouterr().out == ""
