"""The events coaching publishes, staged in the outbox with the change they describe."""

from __future__ import annotations

from services.coaching import SERVICE
from services.coaching.domain import commitments as rules
from services.coaching.models import Activity, Commitment, Plan, platform
from shared.envelope import make_event
from shared.messaging.outbox import add_event

SOURCE = f"/services/{SERVICE}"


def _emit(session, type_: str, *, subject: str, tenant: str, data: dict, correlationid: str = "") -> None:
    event = make_event(type_, source=SOURCE, subject=subject, tenant=tenant, data=data, correlationid=correlationid)
    add_event(session, platform, event)


def plan_created(
    session, plan: Plan, commitment: Commitment, specialist_name: str | None, *, correlationid: str = ""
) -> None:
    _emit(
        session,
        "coaching.plan.created",
        subject=plan.id,
        tenant=plan.tenant,
        correlationid=correlationid,
        data={
            "plan_id": plan.id,
            "commitment_id": commitment.id,
            "trainer": plan.trainer,
            "trainer_name": plan.trainer_name,
            "specialist": plan.specialist,
            "specialist_name": specialist_name,
            "series_id": plan.series_id,
            "cohort_id": plan.cohort_id,
            "registration_id": plan.registration_id,
            "completed_at": plan.completed_at.isoformat(),
            "due_on": commitment.due_on.isoformat(),
            "time_frame_months": commitment.time_frame_months,
        },
    )


def specialist_assigned(session, plan: Plan, specialist_name: str | None, previous: str | None) -> None:
    """The trainer and the specialist now supporting them hear of it (notifications)."""
    _emit(
        session,
        "coaching.plan.specialist_assigned",
        subject=plan.id,
        tenant=plan.tenant,
        data={
            "plan_id": plan.id,
            "trainer": plan.trainer,
            "trainer_name": plan.trainer_name,
            "specialist": plan.specialist,
            "specialist_name": specialist_name,
            "previous_specialist": previous,
            "due_on": plan.commitment.due_on.isoformat(),
        },
    )


def default_specialist_changed(session, tenant: str, specialist: str | None, specialist_name: str | None) -> None:
    """Whom the jurisdiction's new plans get as their specialist changed (``None``: nobody)."""
    _emit(
        session,
        "coaching.default_specialist.changed",
        subject=tenant,
        tenant=tenant,
        data={"default_specialist": specialist, "default_specialist_name": specialist_name},
    )


def activity_logged(session, activity: Activity, *, correlationid: str = "") -> None:
    """Everything but the confidential notes, strengths and next steps: subscribers are not their readers."""
    _emit(
        session,
        "coaching.activity.logged",
        subject=activity.id,
        tenant=activity.tenant,
        correlationid=correlationid,
        data={
            "activity_id": activity.id,
            "trainer": activity.trainer,
            "author": activity.author,
            "kind": activity.kind,
            "occurred_on": activity.occurred_on.isoformat(),
            "duration_minutes": activity.duration_minutes,
            "mode": activity.mode,
            "practices": list(activity.practices),
            "follow_up_on": activity.follow_up_on.isoformat() if activity.follow_up_on else None,
        },
    )


def commitment_notice(session, commitment: Commitment, specialist: str | None, kind: str) -> None:
    """``kind``: ``due_soon_30``, ``due_soon_7``, ``overdue`` or ``fulfilled``."""
    days_before = int(kind.rsplit("_", 1)[1]) if kind.startswith("due_soon_") else None
    status = rules.DUE_SOON if days_before is not None else kind
    _emit(
        session,
        f"coaching.commitment.{status}",
        subject=commitment.id,
        tenant=commitment.tenant,
        data={
            "commitment_id": commitment.id,
            "plan_id": commitment.plan_id,
            "trainer": commitment.trainer,
            "specialist": specialist,
            "due_on": commitment.due_on.isoformat(),
            "status": status,
            "days_before": days_before,
            "fulfilled_on": commitment.fulfilled_on.isoformat() if commitment.fulfilled_on else None,
        },
    )


def followup_due(session, activity: Activity) -> None:
    _emit(
        session,
        "coaching.followup.due",
        subject=activity.id,
        tenant=activity.tenant,
        data={
            "activity_id": activity.id,
            "trainer": activity.trainer,
            "author": activity.author,
            "follow_up_on": activity.follow_up_on.isoformat(),
        },
    )
