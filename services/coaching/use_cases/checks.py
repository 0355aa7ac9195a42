"""The scheduled checks: commitments due soon (30 and 7 days before) or overdue, follow-ups due; each once."""

from __future__ import annotations

from datetime import date

from services.coaching import events
from services.coaching import repository as repo
from services.coaching.domain import commitments as rules
from shared.db import Database


def run_checks(db: Database, today: date) -> dict:
    """Send every notice owed on ``today`` that no run (this one or another replica's) has sent yet.

    Each notice is claimed in the notices table (unique per subject and kind) in the same transaction
    as its event's outbox row, so two runners racing send it once: the second one's claim waits on
    the first's and then finds it taken. Safe to run as often as wanted, on as many replicas as run.
    """
    with db.unit_of_work() as uow:
        sent = send_notices(uow.session, today)
        uow.commit()
    return sent


def send_notices(session, today: date) -> dict:
    """Claim and stage every notice owed on ``today`` in the caller's transaction (which commits)."""
    sent = {"due_soon": 0, "overdue": 0, "followup": 0}
    for commitment, specialist in repo.commitments_needing_notice(session, today):
        for kind in rules.reminders_due(commitment.due_on, commitment.fulfilled_on, today):
            if repo.claim_notice(session, commitment.id, kind, commitment.tenant):
                events.commitment_notice(session, commitment, specialist, kind)
                sent["overdue" if kind == "overdue" else "due_soon"] += 1
    for activity in repo.followups_due(session, today):
        # Keyed by the date too: a follow-up moved to a later date is due again then.
        if repo.claim_notice(session, activity.id, f"followup:{activity.follow_up_on.isoformat()}", activity.tenant):
            events.followup_due(session, activity)
            sent["followup"] += 1
    return sent
