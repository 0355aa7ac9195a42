"""Learning communities: members, threads and replies with follows, documents, the work plan, knowledge
products, syntheses and attribution consent

Every table carries a change marker (shared.changes) for changed_after sync; members who leave and
follows given up are kept as rows, so a synced copy learns of them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:16:27.010615
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("focus_area", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("planned_months", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("facilitators", sa.JSON(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_communities_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_communities_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "attribution_consents",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_attribution_consents_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribution_consents")),
        sa.UniqueConstraint("community_id", "jurisdiction", name=op.f("uq_attribution_consents_community_id")),
    )
    with op.batch_alter_table("attribution_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attribution_consents_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_attribution_consents_community_id"), ["community_id"], unique=False)

    op.create_table(
        "community_members",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("joined_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_community_members_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_members")),
        sa.UniqueConstraint("community_id", "sub", name=op.f("uq_community_members_community_id")),
    )
    with op.batch_alter_table("community_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_members_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_members_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_members_jurisdiction"), ["jurisdiction"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_members_sub"), ["sub"], unique=False)

    op.create_table(
        "community_threads",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("last_reply_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_kind", sa.String(length=20), nullable=False),
        sa.Column("author_jurisdiction", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_community_threads_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_threads")),
    )
    with op.batch_alter_table("community_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_threads_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_threads_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_threads_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "knowledge_products",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("source_kind", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_knowledge_products_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_products")),
        sa.UniqueConstraint(
            "community_id", "source_kind", "source_id", name=op.f("uq_knowledge_products_community_id")
        ),
    )
    with op.batch_alter_table("knowledge_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_products_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_products_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_products_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "syntheses",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("knowledge_products", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_syntheses_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syntheses")),
    )
    with op.batch_alter_table("syntheses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syntheses_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_syntheses_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_syntheses_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_syntheses_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "work_items",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("goal_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_work_items_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["goal_id"], ["work_items.id"], name=op.f("fk_work_items_goal_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_items_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "thread_follows",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_thread_follows_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["community_threads.id"], name=op.f("fk_thread_follows_thread_id_community_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_follows")),
        sa.UniqueConstraint("thread_id", "sub", name=op.f("uq_thread_follows_thread_id")),
    )
    with op.batch_alter_table("thread_follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thread_follows_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_thread_follows_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thread_follows_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "thread_replies",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_kind", sa.String(length=20), nullable=False),
        sa.Column("author_jurisdiction", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_thread_replies_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["community_threads.id"], name=op.f("fk_thread_replies_thread_id_community_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_replies")),
    )
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thread_replies_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_thread_replies_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thread_replies_thread_id"), ["thread_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thread_replies_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "community_documents",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=120), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("material_id", sa.String(length=36), nullable=True),
        sa.Column("material_version", sa.Integer(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_kind", sa.String(length=20), nullable=False),
        sa.Column("author_jurisdiction", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_community_documents_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_community_documents_material_id_materials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_documents")),
    )
    with op.batch_alter_table("community_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_documents_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_documents_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_documents_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("community_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_documents_updated_at"))
        batch_op.drop_index(batch_op.f("ix_community_documents_community_id"))
        batch_op.drop_index(batch_op.f("ix_community_documents_change"))

    op.drop_table("community_documents")
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_replies_updated_at"))
        batch_op.drop_index(batch_op.f("ix_thread_replies_thread_id"))
        batch_op.drop_index(batch_op.f("ix_thread_replies_community_id"))
        batch_op.drop_index(batch_op.f("ix_thread_replies_change"))

    op.drop_table("thread_replies")
    with op.batch_alter_table("thread_follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_follows_thread_id"))
        batch_op.drop_index(batch_op.f("ix_thread_follows_community_id"))
        batch_op.drop_index(batch_op.f("ix_thread_follows_change"))

    op.drop_table("thread_follows")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_updated_at"))
        batch_op.drop_index(batch_op.f("ix_work_items_community_id"))
        batch_op.drop_index(batch_op.f("ix_work_items_change"))

    op.drop_table("work_items")
    with op.batch_alter_table("syntheses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syntheses_updated_at"))
        batch_op.drop_index(batch_op.f("ix_syntheses_status"))
        batch_op.drop_index(batch_op.f("ix_syntheses_community_id"))
        batch_op.drop_index(batch_op.f("ix_syntheses_change"))

    op.drop_table("syntheses")
    with op.batch_alter_table("knowledge_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_products_updated_at"))
        batch_op.drop_index(batch_op.f("ix_knowledge_products_community_id"))
        batch_op.drop_index(batch_op.f("ix_knowledge_products_change"))

    op.drop_table("knowledge_products")
    with op.batch_alter_table("community_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_threads_updated_at"))
        batch_op.drop_index(batch_op.f("ix_community_threads_community_id"))
        batch_op.drop_index(batch_op.f("ix_community_threads_change"))

    op.drop_table("community_threads")
    with op.batch_alter_table("community_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_members_sub"))
        batch_op.drop_index(batch_op.f("ix_community_members_jurisdiction"))
        batch_op.drop_index(batch_op.f("ix_community_members_community_id"))
        batch_op.drop_index(batch_op.f("ix_community_members_change"))

    op.drop_table("community_members")
    with op.batch_alter_table("attribution_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attribution_consents_community_id"))
        batch_op.drop_index(batch_op.f("ix_attribution_consents_change"))

    op.drop_table("attribution_consents")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_communities_updated_at"))
        batch_op.drop_index(batch_op.f("ix_communities_change"))

    op.drop_table("communities")
