"""Scheduling's tables. Every tenant-owned row carries its jurisdiction code; times are stored in UTC."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, object_session, relationship

from shared.changes import ChangeMixin
from shared.db import IdMixin, TimestampMixin, UTCDateTime, make_base, utcnow
from shared.tables import define_platform_tables

Base = make_base()
platform = define_platform_tables(Base)
ChangeCounter = platform.change_counter


class Jurisdiction(Base):
    """A state, territory or Tribe: the tenant, with the time zone its sessions default to."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # state, territory, tribe
    default_time_zone: Mapped[str] = mapped_column(String(64))


class HostAgency(IdMixin, TimestampMixin, ChangeMixin, Base):
    __tablename__ = "host_agencies"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    coordinators: Mapped[list] = mapped_column(JSON, default=list)  # subs of its agency coordinators


class Venue(IdMixin, TimestampMixin, ChangeMixin, Base):
    __tablename__ = "venues"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("host_agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64))

    rooms: Mapped[list[Room]] = relationship(back_populates="venue", order_by="Room.name")


class Room(IdMixin, TimestampMixin, ChangeMixin, Base):
    __tablename__ = "rooms"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    venue_id: Mapped[str] = mapped_column(ForeignKey("venues.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    accessibility_notes: Mapped[str] = mapped_column(Text, default="")

    venue: Mapped[Venue] = relationship(back_populates="rooms")


class TrainingRequest(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A jurisdiction asking for the series; a national admin approves (into a cohort) or declines."""

    __tablename__ = "training_requests"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    series_id: Mapped[str] = mapped_column(String(36))
    format: Mapped[str] = mapped_column(String(20))
    preferred_windows: Mapped[list] = mapped_column(JSON, default=list)
    expected_participants: Mapped[int] = mapped_column(Integer)
    host_agency_id: Mapped[str | None] = mapped_column(ForeignKey("host_agencies.id"), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    cohort_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    history: Mapped[list[RequestStatusChange]] = relationship(order_by="RequestStatusChange.at")


class RequestStatusChange(IdMixin, Base):
    __tablename__ = "request_status_changes"

    request_id: Mapped[str] = mapped_column(ForeignKey("training_requests.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Cohort(IdMixin, TimestampMixin, ChangeMixin, Base):
    """One delivery of a series for a jurisdiction."""

    __tablename__ = "cohorts"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    series_id: Mapped[str] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    host_agency_id: Mapped[str | None] = mapped_column(ForeignKey("host_agencies.id"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(20))
    time_zone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer)
    facilitators: Mapped[list] = mapped_column(JSON, default=list)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    completion_minimum: Mapped[int] = mapped_column(Integer, default=9)
    status: Mapped[str] = mapped_column(String(20), default="open")

    sessions: Mapped[list[TrainingSession]] = relationship(
        back_populates="cohort", order_by="TrainingSession.starts_at"
    )

    @property
    def facilitator_names(self) -> dict[str, str]:
        """The names its facilitators are known by in the directory, by subject (those it lacks are left
        out). Read with the cohort, never stored, so a rename shows at once; a page of cohorts is named in
        one read (``repository.facilitators.name_facilitators``)."""
        named = self.__dict__.get("_facilitator_names")
        if named is not None:
            return named
        db = object_session(self)
        if db is None or not self.facilitators:
            return {}
        rows = db.execute(
            select(FacilitatorName.sub, FacilitatorName.name).where(
                FacilitatorName.tenant == self.tenant, FacilitatorName.sub.in_(self.facilitators)
            )
        )
        return dict(rows.all())


class TrainingSession(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A dated occurrence of a cohort (usually one per module): a "session" in the API and to its users.

    Named so beside SQLAlchemy's own ``Session`` (a database session), which the code imports as ``DbSession``.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_cohort_start", "cohort_id", "starts_at"),
        Index("ix_sessions_tenant_start", "tenant", "starts_at", "id"),  # the jurisdiction-wide list
        Index("ix_sessions_start", "starts_at", "id"),  # every jurisdiction's (national admins)
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), index=True)
    module_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    module_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"), nullable=True)
    meeting_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    facilitators: Mapped[list] = mapped_column(JSON, default=list)
    specialist: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, bumped on each change

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    room: Mapped[Room | None] = relationship()


class Booking(IdMixin, Base):
    """A person's or a room's time taken by a session or an occurrence: the conflict index.

    Conflicts are found with one indexed interval query per resource:
    ``resource = :r AND starts_at < :end AND ends_at > :start``.
    """

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_resource_interval", "resource", "starts_at", "ends_at"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    resource: Mapped[str] = mapped_column(String(250))  # "person:<sub>" or "room:<id>"
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner_kind: Mapped[str] = mapped_column(String(20))  # session, occurrence, office_hour
    owner_id: Mapped[str] = mapped_column(String(100), index=True)


class Registration(IdMixin, TimestampMixin, ChangeMixin, Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("cohort_id", "participant"),
        Index("ix_registrations_waitlist", "cohort_id", "status", "waitlist_position"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    # No index of its own: the unique constraint and the waitlist index start with cohort_id.
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    participant: Mapped[str] = mapped_column(String(200), index=True)  # the person's sub, or roster key
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # When the name and e-mail were last given (registering, re-registering, a roster): a person with two
    # registrations is reached at the address they gave last, whichever registration an event is about.
    contact_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The language the person reads their e-mails in (en, es), when they said; given with the name and e-mail.
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    registry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # pending_approval, confirmed, waitlisted, cancelled
    waitlist_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="self")  # self, coordinator, roster
    cancelled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Spot(Base):
    """A seat of a cohort, or a numbered spot on its waitlist, and the registration holding it.

    A cohort has one seat row per unit of capacity. Registering claims the lowest free seat with
    ``FOR UPDATE SKIP LOCKED``, so people registering at the same moment take different seats in
    parallel instead of queueing on one counter, and a cohort can never confirm more people than it
    has seat rows. Waitlist spots are claimed the same way and never handed out twice, so the
    waitlist keeps the order people joined it. (``registration_id`` has no foreign key: the spot is
    claimed in the same transaction that inserts the registration, before it.) Not to be confused
    with a session's place, its venue.
    """

    __tablename__ = "spots"
    __table_args__ = (
        # Only the free spots: the claim's "lowest free" search never walks the taken ones.
        Index(
            "ix_spots_free",
            "cohort_id",
            "kind",
            "number",
            postgresql_where=text("registration_id IS NULL"),
            sqlite_where=text("registration_id IS NULL"),
        ),
        # Free seats alone, for the worker's search of seats left free while people wait: empty while
        # every seat is taken, and a claim (which takes a seat) adds nothing to it.
        Index(
            "ix_spots_free_seats",
            "cohort_id",
            postgresql_where=text("kind = 'seat' AND registration_id IS NULL"),
            sqlite_where=text("kind = 'seat' AND registration_id IS NULL"),
        ),
    )

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # seat, waitlist
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


# Read, never stored: the seats held. A counter in the cohort row would make every registration of
# the cohort queue on that row.
Cohort.confirmed_count = column_property(
    select(func.count())
    .where(Spot.cohort_id == Cohort.id, Spot.kind == "seat", Spot.registration_id.is_not(None))
    .correlate_except(Spot)
    .scalar_subquery()
)


class RegistrationAudit(IdMixin, ChangeMixin, Base):
    """Who changed a registration, when, and what."""

    __tablename__ = "registration_audit"

    tenant: Mapped[str] = mapped_column(String(40))  # read by registration, never by jurisdiction
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class RosterImport(IdMixin, Base):
    """One roster upload and its row-by-row report; a re-upload of the same file returns it again."""

    __tablename__ = "roster_imports"
    __table_args__ = (UniqueConstraint("cohort_id", "sha256"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    imported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attendance(IdMixin, TimestampMixin, ChangeMixin, Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "registration_id"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # present, absent, partial
    minutes: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(200))


class Completion(IdMixin, ChangeMixin, Base):
    """A participant who met the cohort's completion rule; unique per cohort, so it happens once."""

    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("cohort_id", "registration_id"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), index=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    participant: Mapped[str] = mapped_column(String(200), index=True)
    sessions_attended: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    certificate_code: Mapped[str] = mapped_column(String(40), unique=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# Read, never stored twice: when the registration completed (its certificate is issued from then on).
# A completion also touches its registration, so the registration lists' change markers carry it.
Registration.completed_at = column_property(
    select(Completion.completed_at)
    .where(Completion.registration_id == Registration.id)
    .correlate_except(Completion)
    .scalar_subquery()
)


class RegistrationHours(ChangeMixin, TimestampMixin, Base):
    """A registration's credited training hours, kept current as attendance is written: a verified export row.

    Written in the same transaction as what it is computed from (attendance, a cancelled session or
    cohort, a completion, the person's name or registry id), so each of those changes gives the row
    a new change marker, and a page of the export is a range of one index, whatever the data's size.
    Only registrations that have been marked in a session have one.
    """

    __tablename__ = "registration_hours"
    __table_args__ = (
        Index("ix_registration_hours_sync", "tenant", "change", "registration_id"),
        Index("ix_registration_hours_updated", "tenant", "updated_at", "registration_id"),
    )

    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40))
    cohort_id: Mapped[str] = mapped_column(String(36))
    minutes: Mapped[int] = mapped_column(Integer, default=0)  # credited, in sessions held
    sessions_attended: Mapped[int] = mapped_column(Integer, default=0)  # present or partial, in sessions held
    sessions_marked: Mapped[int] = mapped_column(Integer, default=0)  # any mark, in sessions held


class SelfReportedHours(IdMixin, TimestampMixin, ChangeMixin, Base):
    """Training a participant reports themself (not from attendance here): exported as self-reported."""

    __tablename__ = "self_reported_hours"
    __table_args__ = (
        # The export's two orders within a jurisdiction (repository.hours.training_hours_branches).
        Index("ix_self_reported_hours_sync", "tenant", "change", "id"),
        Index("ix_self_reported_hours_updated", "tenant", "updated_at", "id"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    participant: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    registry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(300), default="")
    completed_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    cohort_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class RecurringSeries(IdMixin, TimestampMixin, ChangeMixin, Base):
    """Office hours and other recurring meetings: an RFC 5545 rule expanded in the series' own zone."""

    __tablename__ = "recurring_series"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # office_hours, community_call, meeting
    owner: Mapped[str] = mapped_column(String(200), index=True)  # the specialist (or convener)
    title: Mapped[str] = mapped_column(String(300))
    time_zone: Mapped[str] = mapped_column(String(64))
    local_start: Mapped[str] = mapped_column(String(19))  # naive local "YYYY-MM-DDTHH:MM:SS" of DTSTART
    duration_minutes: Mapped[int] = mapped_column(Integer)
    rrule: Mapped[str] = mapped_column(String(500))
    meeting_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    supported_facilitators: Mapped[list] = mapped_column(JSON, default=list)
    slot_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)  # office hours: bookable slot
    status: Mapped[str] = mapped_column(String(20), default="active")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    split_from: Mapped[str | None] = mapped_column(String(36), nullable=True)


class OccurrenceChange(IdMixin, TimestampMixin, Base):
    """One occurrence moved or cancelled (an iCalendar RECURRENCE-ID override)."""

    __tablename__ = "occurrence_changes"
    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("recurring_series.id"), index=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime())
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=1)


class OfficeHourBooking(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A facilitator's slot in a specialist's office hours; one facilitator per slot."""

    __tablename__ = "office_hour_bookings"
    __table_args__ = (UniqueConstraint("series_id", "slot_start"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("recurring_series.id"), index=True)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime())
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime())
    facilitator: Mapped[str] = mapped_column(String(200), index=True)
    facilitator_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # as they signed in
    topic: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="booked")


class CalendarFeed(IdMixin, Base):
    """A private feed URL: only the token's SHA-256 is stored; revocable."""

    __tablename__ = "calendar_feeds"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # cohort, participant, facilitator
    subject: Mapped[str] = mapped_column(String(200))  # cohort id, participant sub or facilitator sub
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class FacilitatorName(Base):
    """A facilitator's entry in the jurisdiction's directory: the name they are known by.

    Scheduling knows facilitators by their identity provider's subject; forms choose them and
    certificates name them by this name (repository/facilitators.py says where it comes from).
    """

    __tablename__ = "facilitator_names"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # No longer offered by the forms (they left, or stopped facilitating); certificates still name them.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SeriesTitle(Base):
    """A series' title as content last announced it, for certificates (scheduling owns no curriculum)."""

    __tablename__ = "series_titles"

    series_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CurrentMaterial(Base):
    """The published version of each material, as announced by content (content.material.published)."""

    __tablename__ = "current_materials"

    material_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    module_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant: Mapped[str | None] = mapped_column(String(40), nullable=True)  # None: national material
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


# A verified export row shows its registration's name and registry id, its completion and its
# cohort's status: whatever writes those (a use case, a script, a fix by hand) touches the hours row
# in the same flush, so the row gets a new change marker and the change reaches the registries.
# Recomputing the hours themselves is hours.refresh's, called where attendance or sessions change.
def _touch_hours(connection, condition) -> None:
    connection.execute(
        update(RegistrationHours)
        .where(condition)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


@event.listens_for(Registration, "after_update")
def _registration_changed(_mapper, connection, registration) -> None:
    changed = inspect(registration).attrs
    if any(changed[name].history.has_changes() for name in ("name", "registry_id", "participant", "cancelled_reason")):
        _touch_hours(connection, RegistrationHours.registration_id == registration.id)


@event.listens_for(Completion, "after_insert")
@event.listens_for(Completion, "after_update")
def _completion_changed(_mapper, connection, completion) -> None:
    _touch_hours(connection, RegistrationHours.registration_id == completion.registration_id)


@event.listens_for(Cohort, "after_update")
def _cohort_changed(_mapper, connection, cohort) -> None:
    if inspect(cohort).attrs["status"].history.has_changes():
        _touch_hours(connection, RegistrationHours.cohort_id == cohort.id)


# Learning communities' tables live in their own module, on this Base (imported last: it needs Base).
from services.scheduling import community_models  # noqa: E402,F401
