"""The broker topology, declared in one place: exchanges, one queue per consumer handler, retries, dead letters.

Queue names are derived: ``<consumer service>.<handler>`` for the work queue, ``<work>.retry.<n>``
for the wait queues (a message TTL that dead-letters back to the work queue) and ``<work>.dead``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subscription:
    """One consumer handler: its work queue and the event types bound to it."""

    consumer: str
    handler: str
    event_types: tuple[str, ...]

    @property
    def queue(self) -> str:
        return f"{self.consumer}.{self.handler}"


# Every subscription of the platform. The publisher declares them all before it publishes, so an
# event published before its consumer first starts waits in the consumer's queue instead of being
# dropped. A service's handlers.py must agree with its rows here (a test checks it).
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("scheduling", "attach_material_version", ("content.material.published",)),
    Subscription("content", "record_jurisdiction", ("scheduling.jurisdiction.added",)),
    Subscription("notifications", "record_jurisdiction", ("scheduling.jurisdiction.added",)),
    Subscription(
        "notifications",
        "notify",
        (
            "scheduling.session.scheduled",
            "scheduling.session.rescheduled",
            "scheduling.session.cancelled",
            "scheduling.registration.confirmed",
            "scheduling.registration.waitlisted",
            "scheduling.registration.promoted",
            "scheduling.registration.cancelled",
            "scheduling.request.approved",
            "scheduling.request.declined",
            "scheduling.participant.completed",
            "content.adaptation.submitted",
            "content.adaptation.reviewed",
            "coaching.plan.created",
            "coaching.plan.specialist_assigned",
            "coaching.activity.logged",
            "coaching.commitment.due_soon",
            "coaching.commitment.overdue",
            "coaching.commitment.fulfilled",
            "coaching.followup.due",
        ),
    ),
    # Whom an adaptation is told to when its facilitator has no specialist of their own (no webhook: no person's).
    Subscription("notifications", "record_default_specialist", ("coaching.default_specialist.changed",)),
    Subscription(
        "scheduling",
        "keep_community",
        (
            "content.community.convened",
            "content.community.updated",
            "content.community.member_joined",
            "content.community.member_left",
        ),
    ),
    Subscription(
        "notifications",
        "notify_community",
        (
            "content.community.member_joined",
            "content.community.member_left",
            "content.thread.replied",
            "content.synthesis.published",
            "scheduling.community_call.scheduled",
            "scheduling.community_call.rescheduled",
            "scheduling.community_call.cancelled",
        ),
    ),
    Subscription("coaching", "record_jurisdiction", ("scheduling.jurisdiction.added",)),
    Subscription("coaching", "open_plan", ("scheduling.participant.completed",)),
    Subscription(
        "coaching",
        "follow_delivery",
        (
            "scheduling.session.scheduled",
            "scheduling.session.rescheduled",
            "scheduling.session.cancelled",
            "scheduling.attendance.recorded",
        ),
    ),
    Subscription(
        "coaching", "draft_office_hour", ("scheduling.office_hour.booked", "scheduling.office_hour.cancelled")
    ),
)


@dataclass(frozen=True)
class Topology:
    """Names and arguments of everything on the broker; ``namespace`` isolates tests."""

    subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS
    namespace: str = ""
    retry_delays: tuple[float, ...] = (1.0, 10.0, 60.0)
    # Redeliveries a quorum queue allows before it dead-letters a message nobody could ack
    # (a handler that crashes its process never reaches our own retry logic). Every message the
    # dead process had prefetched comes back with a redelivery counted, so the broker's limit
    # also catches innocent neighbours: the consumer re-drives those (see consumer.py).
    delivery_limit: int = 5
    # Times a consumer's process may end (crash, kill, hang cut short) while running one redelivered
    # event before the consumer dead-letters that event itself; kept under delivery_limit so the
    # event that kills its consumer is caught by its own count, not by the broker's.
    crash_limit: int = 3

    @property
    def exchange(self) -> str:
        return f"{self.namespace}events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}events.dlx"

    def work_queue(self, sub: Subscription) -> str:
        return f"{self.namespace}{sub.queue}"

    def retry_queue(self, sub: Subscription, level: int) -> str:
        return f"{self.work_queue(sub)}.retry.{level}"

    def dead_queue(self, sub: Subscription) -> str:
        return f"{self.work_queue(sub)}.dead"

    def for_consumer(self, consumer: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.consumer == consumer]

    def subscription_of_queue(self, queue: str) -> Subscription | None:
        for sub in self.subscriptions:
            if queue in (self.work_queue(sub), self.dead_queue(sub)):
                return sub
        return None

    # --- RabbitMQ queue arguments ---------------------------------------------------------

    def work_queue_arguments(self, sub: Subscription) -> dict:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": self.dead_queue(sub),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def retry_queue_arguments(self, sub: Subscription, level: int) -> dict:
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": int(self.retry_delays[level - 1] * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.work_queue(sub),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def dead_queue_arguments(self, sub: Subscription) -> dict:
        return {"x-queue-type": "quorum"}
