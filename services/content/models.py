"""Content's tables: curriculum (national rows have no tenant), materials, versions, adaptations, reviews,
and learning communities with their members, threads, documents, work plan, knowledge products and syntheses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.changes import ChangeMixin
from shared.db import IdMixin, TimestampMixin, UTCDateTime, make_base, utcnow
from shared.tables import define_platform_tables

Base = make_base()
platform = define_platform_tables(Base)
ChangeCounter = platform.change_counter

module_practices = Table(
    "module_practices",
    Base.metadata,
    Column("module_id", ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True),
    Column("practice_code", ForeignKey("practices.code", ondelete="CASCADE"), primary_key=True),
)


class Practice(Base):
    """One of the six PITC program practices (a national vocabulary)."""

    __tablename__ = "practices"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


class Series(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A training series; ``tenant`` is None for the national curriculum every jurisdiction sees."""

    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("tenant", "slug"),
        # NULLs never collide in a unique constraint: national slugs need their own partial index.
        Index(
            "uq_series_national_slug",
            "slug",
            unique=True,
            postgresql_where=text("tenant IS NULL"),
            sqlite_where=text("tenant IS NULL"),
        ),
    )

    tenant: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list] = mapped_column(JSON, default=list)
    formats: Mapped[list] = mapped_column(JSON, default=list)

    modules: Mapped[list[Module]] = relationship(
        back_populates="series", order_by="Module.position", cascade="all, delete-orphan"
    )


class Module(IdMixin, TimestampMixin, ChangeMixin, Base):
    """One session of a series, in order."""

    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("series_id", "position"),)

    series_id: Mapped[str] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list] = mapped_column(JSON, default=list)
    core_components: Mapped[list] = mapped_column(JSON, default=list)

    series: Mapped[Series] = relationship(back_populates="modules")
    practices: Mapped[list[Practice]] = relationship(secondary=module_practices, order_by=Practice.position)


class Material(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A slide deck, guide, worksheet, resource, activity or video link of a module."""

    __tablename__ = "materials"

    module_id: Mapped[str] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))

    module: Mapped[Module] = relationship()
    versions: Mapped[list[MaterialVersion]] = relationship(
        back_populates="material", order_by="MaterialVersion.number", cascade="all, delete-orphan"
    )


class MaterialVersion(IdMixin, ChangeMixin, Base):
    """An immutable numbered version: a stored file (by sha256) or a validated video URL."""

    __tablename__ = "material_versions"
    __table_args__ = (UniqueConstraint("material_id", "number"),)

    material_id: Mapped[str] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    material: Mapped[Material] = relationship(back_populates="versions")


class Adaptation(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A facilitator's tailoring of a module, and where it stands in fidelity review."""

    __tablename__ = "adaptations"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("modules.id"), index=True)
    facilitator: Mapped[str] = mapped_column(String(200), index=True)
    # The name the facilitator signed in with when they last wrote it (null before names were kept).
    facilitator_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    audience: Mapped[str] = mapped_column(Text, default="")
    components: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(30), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    module: Mapped[Module] = relationship()
    reviews: Mapped[list[AdaptationReview]] = relationship(
        back_populates="adaptation", order_by="AdaptationReview.created_at"
    )


class AdaptationReview(IdMixin, ChangeMixin, Base):
    """A specialist's fidelity review of one submitted revision."""

    __tablename__ = "adaptation_reviews"

    adaptation_id: Mapped[str] = mapped_column(ForeignKey("adaptations.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision: Mapped[str] = mapped_column(String(30))
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    adaptation: Mapped[Adaptation] = relationship(back_populates="reviews")


class Jurisdiction(Base):
    """A Tribe content has learnt of from scheduling (``scheduling.jurisdiction.added``): one of its tenants.

    States and territories are not stored: they are on the platform's static list.
    """

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    default_time_zone: Mapped[str] = mapped_column(String(64))
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- learning communities ---------------------------------------------------------------------------
# A community spans jurisdictions by design, so its rows carry no tenant: who sees them is decided by
# membership (domain.communities.sees_space), enforced by every query of repository.communities.


class Community(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A learning community the Initiative convenes on a focus area, for about a year."""

    __tablename__ = "communities"

    title: Mapped[str] = mapped_column(String(300))
    focus_area: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[list] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    planned_months: Mapped[int] = mapped_column(Integer, default=12)
    time_zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="convening")
    facilitators: Mapped[list] = mapped_column(JSON, default=list)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    # Read only when one community is shown with its work plan's summary (never for a list of them).
    work_items: Mapped[list[WorkItem]] = relationship(lazy="select", viewonly=True)


class CommunityMember(IdMixin, ChangeMixin, Base):
    """A person in a community: a jurisdiction's team member, a staff facilitator or a guest expert.

    A member who leaves keeps the row (``status`` left): a synced copy learns of the departure, and what
    they posted keeps the jurisdiction it was posted for.
    """

    __tablename__ = "community_members"
    __table_args__ = (UniqueConstraint("community_id", "sub"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    sub: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    jurisdiction: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class _Authored:
    """Who posted a thread, reply or document, and for which jurisdiction (kept if they later leave)."""

    author: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    author_kind: Mapped[str] = mapped_column(String(20))
    author_jurisdiction: Mapped[str | None] = mapped_column(String(40), nullable=True)


class CommunityThread(IdMixin, TimestampMixin, ChangeMixin, _Authored, Base):
    """A discussion thread; a reply updates it, so a synced copy sees the new count and time."""

    __tablename__ = "community_threads"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ThreadReply(IdMixin, TimestampMixin, ChangeMixin, _Authored, Base):
    __tablename__ = "thread_replies"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("community_threads.id"), index=True)
    body: Mapped[str] = mapped_column(Text)


class ThreadFollow(IdMixin, ChangeMixin, Base):
    """A person's choice to follow a thread or not; no row means they never chose and never posted in it."""

    __tablename__ = "thread_follows"
    __table_args__ = (UniqueConstraint("thread_id", "sub"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("community_threads.id"), index=True)
    sub: Mapped[str] = mapped_column(String(200))
    following: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CommunityDocument(IdMixin, TimestampMixin, ChangeMixin, _Authored, Base):
    """A document of the community: a file it uploaded, or a reference to a version of a content material."""

    __tablename__ = "community_documents"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    material_id: Mapped[str | None] = mapped_column(ForeignKey("materials.id"), nullable=True)
    material_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class WorkItem(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A goal of the community's own work plan, or a task toward one, with its owner, due date and status."""

    __tablename__ = "work_items"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    goal_id: Mapped[str | None] = mapped_column(ForeignKey("work_items.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by: Mapped[str] = mapped_column(String(200))


class KnowledgeProduct(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A thread, reply or document staff marked as knowledge the community produced."""

    __tablename__ = "knowledge_products"
    __table_args__ = (UniqueConstraint("community_id", "source_kind", "source_id"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(300))
    excerpt: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(200))


class Synthesis(IdMixin, TimestampMixin, ChangeMixin, Base):
    """Staff's synthesis of a community's knowledge products; once published, every jurisdiction reads it."""

    __tablename__ = "syntheses"

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    knowledge_products: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AttributionConsent(IdMixin, ChangeMixin, Base):
    """A member jurisdiction's recorded choice of how its contributions appear in published syntheses."""

    __tablename__ = "attribution_consents"
    __table_args__ = (UniqueConstraint("community_id", "jurisdiction"),)

    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
