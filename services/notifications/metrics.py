"""Notifications' own counters: messages sent, failed, and sent again after a crash left their fate unknown."""

from prometheus_client import Counter, Histogram

SENT = Counter("notifications_sent_total", "Messages sent", ["channel", "template"])
FAILED = Counter("notifications_send_failures_total", "Failed send attempts", ["channel", "outcome"])
AMBIGUOUS = Counter(
    "notifications_ambiguous_sends_total",
    "Messages claimed by a sender that stopped before recording the outcome, sent again with the same id",
    ["channel"],
)
UNDELIVERABLE = Counter(
    "notifications_undeliverable_addresses_total",
    "Addresses set aside because their mail server refused them for good",
)
DELIVERY_REPORTS = Counter(
    "notifications_delivery_reports_total",
    "Reports of messages refused after a mail server took them (RFC 3464), by what became of the message",
    ["outcome"],
)
SEND_LATENCY = Histogram(
    "notifications_send_seconds",
    "Time to hand one message to the mail server or webhook receiver",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
