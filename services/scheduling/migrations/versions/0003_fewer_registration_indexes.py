"""Drop two indexes that every registration wrote and no query needs

- ``ix_registrations_cohort_id``: the unique (cohort_id, participant) constraint and the waitlist
  index (cohort_id, status, waitlist_position) both start with cohort_id and serve those lookups.
- ``ix_registration_audit_tenant``: the audit trail is read by registration, never by jurisdiction.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_registrations_cohort_id", table_name="registrations")
    op.drop_index("ix_registration_audit_tenant", table_name="registration_audit")


def downgrade() -> None:
    op.create_index("ix_registration_audit_tenant", "registration_audit", ["tenant"], unique=False)
    op.create_index("ix_registrations_cohort_id", "registrations", ["cohort_id"], unique=False)
