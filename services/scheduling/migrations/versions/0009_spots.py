"""Seats and waitlist spots are called spots: "place" is the venue of a session, and only that

The table ``places`` becomes ``spots``, with its primary key, foreign key and indexes. Its rows and
their meaning are unchanged.

PostgreSQL renames in place (no row is copied: a national year has about 1.4 million of them).
SQLite cannot rename constraints, and its indexes keep their names across ``ALTER TABLE … RENAME``:
the table is made again under the new names, its rows copied, its indexes made again.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rename("places", "spots")


def downgrade() -> None:
    _rename("spots", "places")


def _rename(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.rename_table(old, new)
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")  # its index follows
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_cohort_id_cohorts TO fk_{new}_cohort_id_cohorts")
        for index in ("free", "free_seats", "registration_id"):
            op.execute(f"ALTER INDEX ix_{old}_{index} RENAME TO ix_{new}_{index}")
        return
    op.create_table(
        new,
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name=f"fk_{new}_cohort_id_cohorts"),
        sa.PrimaryKeyConstraint("cohort_id", "kind", "number", name=f"pk_{new}"),
    )
    op.execute(
        f"INSERT INTO {new} (cohort_id, kind, number, registration_id) "
        f"SELECT cohort_id, kind, number, registration_id FROM {old}"
    )
    for index in ("free", "free_seats", "registration_id"):
        op.drop_index(f"ix_{old}_{index}", table_name=old)
    op.drop_table(old)
    op.create_index(
        f"ix_{new}_free",
        new,
        ["cohort_id", "kind", "number"],
        unique=False,
        sqlite_where=sa.text("registration_id IS NULL"),
    )
    op.create_index(
        f"ix_{new}_free_seats",
        new,
        ["cohort_id"],
        unique=False,
        sqlite_where=sa.text("kind = 'seat' AND registration_id IS NULL"),
    )
    op.create_index(f"ix_{new}_registration_id", new, ["registration_id"], unique=False)
