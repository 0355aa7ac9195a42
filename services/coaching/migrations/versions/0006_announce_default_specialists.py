"""Announce each jurisdiction's default specialist once (``coaching.default_specialist.changed``), so that
notifications knows whom to tell of adaptations whose facilitator has no specialist of their own from the
moment it first consumes the event, not only after an admin next changes the default

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.envelope import make_event
from shared.messaging.outbox import outbox_values

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OUTBOX = sa.table(
    "outbox",
    *(
        sa.column(name)
        for name in ("message_id", "event_type", "exchange", "routing_key", "body", "status", "attempts")
    ),
    sa.column("created_at", shared.db.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    # The default unless withdrawn, as new plans get it (services.coaching.use_cases.plans.default_specialist).
    defaults = op.get_bind().execute(
        sa.text(
            "SELECT s.tenant, s.default_specialist, n.name FROM jurisdiction_settings s"
            " LEFT JOIN specialist_names n ON n.tenant = s.tenant AND n.sub = s.default_specialist"
            " WHERE s.default_specialist IS NOT NULL AND n.withdrawn_at IS NULL ORDER BY s.tenant"
        )
    )
    rows = [
        outbox_values(
            make_event(
                "coaching.default_specialist.changed",
                source="/services/coaching",
                subject=tenant,
                tenant=tenant,
                data={"default_specialist": specialist, "default_specialist_name": name},
            )
        )
        for tenant, specialist, name in defaults
    ]
    if rows:
        op.bulk_insert(OUTBOX, rows)


def downgrade() -> None:
    pass  # an announcement made stays made
