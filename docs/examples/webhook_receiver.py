"""A state system's webhook receiver (docs/notifications.md): ``WEBHOOK_SECRET=whsec_... python webhook_receiver.py``."""

import os

from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

app = Flask(__name__)
verifier = Webhook(os.environ["WEBHOOK_SECRET"])  # the secret shown when you subscribed
handled = set()  # keep this in your database: webhook-id is the same on every attempt and redelivery


@app.post("/t4t/events")
def receive():
    try:
        event = verifier.verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError:
        return "", 400
    if request.headers["webhook-id"] not in handled:
        handled.add(request.headers["webhook-id"])
        print(request.headers["webhook-id"], event["type"], event["data"].get("participant", ""), flush=True)
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("RECEIVER_PORT", "9000")))
