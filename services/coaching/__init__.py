"""Coaching service: what happens after the training for trainers.

Owns implementation plans, commitments to deliver the training (due dates, status, milestones),
support activities logged by coaches and specialists (with confidential notes, their history and an
audit of who wrote and read them), fidelity observations, scheduled checks, reports and consent to
national roll-ups. Publishes ``coaching.plan.created``, ``coaching.plan.specialist_assigned``,
``coaching.activity.logged``, ``coaching.commitment.*``, ``coaching.followup.due`` and
``coaching.default_specialist.changed``. Consumes ``scheduling.participant.completed``,
``scheduling.session.*``, ``scheduling.attendance.recorded``, ``scheduling.office_hour.*`` and
``scheduling.jurisdiction.added``.
"""

SERVICE = "coaching"
