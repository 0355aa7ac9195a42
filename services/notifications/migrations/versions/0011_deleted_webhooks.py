"""A webhook subscription deleted says so (status "deleted"), instead of "disabled" with no event types

"disabled" now only means an endpoint that failed for days and may be enabled again.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from shared.changes import COUNTER_TABLE, POSTGRESQL_DEFAULT

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

subscriptions = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.String),
    sa.column("status", sa.String),
    sa.column("event_types", sa.JSON),
)


def _relabel(old: str, new: str, deleted: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(subscriptions.c.id, subscriptions.c.event_types).where(subscriptions.c.status == old))
    ids = [row.id for row in rows if (not row.event_types) == deleted]
    if not ids:
        return
    # A state system syncing the list with changed_after sees the new status: the rows get this change's marker.
    if bind.dialect.name == "postgresql":
        marker = sa.text(POSTGRESQL_DEFAULT)
    else:
        bind.execute(sa.text(f"UPDATE {COUNTER_TABLE} SET value = value + 1"))
        marker = sa.text(f"(SELECT value FROM {COUNTER_TABLE})")
    bind.execute(
        sa.text(f"UPDATE webhook_subscriptions SET status = :new, change = {marker.text} WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        ),
        {"new": new, "ids": ids},
    )


def upgrade() -> None:
    _relabel("disabled", "deleted", deleted=True)


def downgrade() -> None:
    _relabel("deleted", "disabled", deleted=True)
