"""The learning communities' schemas: communities, members, threads, documents, work plan, syntheses, consent."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, pre_dump, validate

from services.content.domain import communities as rules
from services.content.schemas import Id
from shared.http.fields import Email, Text
from shared.http.pagination import PageArgs, page_schema
from shared.jurisdictions import CODE_PATTERN

Subject = lambda **kw: Text(200, **kw)  # noqa: E731 - a person's sub (the user id of their token)


def _iana(name: str) -> None:
    try:
        if "/" not in name and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {name!r}; use an IANA name such as America/Chicago.") from None


def TimeZone(**kw) -> fields.String:
    """An IANA time zone name (America/New_York, Pacific/Guam…)."""
    metadata = {"description": "IANA time zone", "example": "America/Chicago", **kw.pop("metadata", {})}
    return fields.String(validate=_iana, metadata=metadata, **kw)


def JurisdictionCode(**kw) -> fields.String:
    metadata = {"example": "CA", **kw.pop("metadata", {})}
    return fields.String(
        validate=validate.Regexp(CODE_PATTERN, error="A jurisdiction code: CA, GU, or a Tribe's code."),
        metadata=metadata,
        **kw,
    )


# --- communities --------------------------------------------------------------------------------------


class PersonSchema(Schema):
    """A person added to a community, and how notifications reach them (all but ``sub`` optional)."""

    sub = Subject(required=True, metadata={"description": "The user id (`sub`) of the person's token."})
    name = Text(200, load_default=None, allow_none=True)
    email = Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    time_zone = TimeZone(load_default=None, allow_none=True)
    language = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(rules.MEMBER_LANGUAGES))


class ConveneSchema(Schema):
    """What a national admin gives to convene a community."""

    title = Text(300, required=True)
    focus_area = fields.String(required=True, validate=validate.OneOf(rules.FOCUS_AREAS))
    description = Text(10_000, multiline=True, blank=True, load_default="")
    goals = fields.List(Text(1000), load_default=list, validate=validate.Length(max=50))
    starts_on = fields.Date(
        required=True,
        metadata={"description": "Any day of the start week; kept as that week's Monday."},
    )
    planned_months = fields.Integer(
        strict=True,
        load_default=rules.PLANNED_MONTHS_DEFAULT,
        validate=validate.Range(min=1, max=rules.PLANNED_MONTHS_MAX),
    )
    time_zone = TimeZone(load_default=rules.DEFAULT_TIME_ZONE)
    facilitators = fields.List(
        fields.Nested(PersonSchema),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "The staff facilitators; each becomes a `staff` member."},
    )


class CommunitySchema(Schema):
    id = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    focus_area = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    goals = fields.List(fields.String(), dump_only=True)
    starts_on = fields.Date(dump_only=True, metadata={"description": "The Monday of the start week."})
    planned_months = fields.Integer(dump_only=True)
    time_zone = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    facilitators = fields.List(fields.String(), dump_only=True, metadata={"description": "Their subs."})
    member_count = fields.Integer(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class NextDueSchema(Schema):
    id = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    due_on = fields.Date(dump_only=True)


class WorkPlanSummarySchema(Schema):
    """Where the work plan stands, counted from its goals and tasks (the list is at /work-items)."""

    goals = fields.Integer(dump_only=True)
    tasks = fields.Integer(dump_only=True)
    open = fields.Integer(dump_only=True)
    in_progress = fields.Integer(dump_only=True)
    done = fields.Integer(dump_only=True)
    dropped = fields.Integer(dump_only=True)
    overdue = fields.Integer(
        dump_only=True, metadata={"description": "Open or in progress, with a due date before today (UTC)."}
    )
    next_due = fields.Nested(
        NextDueSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "The open goal or task due soonest, today or later."},
    )

    @pre_dump
    def summarise(self, items, **kwargs):
        return rules.work_plan_summary(items, datetime.now(UTC).date())


class CommunityDetailSchema(CommunitySchema):
    """One community as its page shows it: with where its work plan stands."""

    work_plan = fields.Nested(WorkPlanSummarySchema, attribute="work_items", dump_only=True)


class CommunityUpdateSchema(Schema):
    title = Text(300)
    description = Text(10_000, multiline=True, blank=True)
    goals = fields.List(Text(1000), validate=validate.Length(max=50))
    starts_on = fields.Date()
    planned_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=rules.PLANNED_MONTHS_MAX))
    time_zone = TimeZone()
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    facilitators = fields.List(
        Subject(),
        validate=validate.Length(max=20),
        metadata={"description": "Subs of current staff members of the community."},
    )


class CommunityQueryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(rules.STATUSES))


# --- members ------------------------------------------------------------------------------------------


class MemberSchema(PersonSchema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(rules.MEMBER_KINDS))
    jurisdiction = JurisdictionCode(
        load_default=None, allow_none=True, metadata={"description": "Required for a team member; none otherwise."}
    )
    status = fields.String(dump_only=True, metadata={"description": "`active`, or `left` (kept for sync)."})
    joined_at = fields.AwareDateTime(dump_only=True)
    left_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class MemberQueryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf((rules.JOINED, rules.LEFT)))


# --- threads, replies, follows ------------------------------------------------------------------------


class _AuthoredSchema(Schema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    author = fields.String(dump_only=True)
    author_name = fields.String(dump_only=True, allow_none=True)
    author_kind = fields.String(dump_only=True)
    author_jurisdiction = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ThreadSchema(_AuthoredSchema):
    title = Text(300, required=True)
    body = Text(20_000, multiline=True, required=True)
    reply_count = fields.Integer(dump_only=True)
    last_reply_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ReplySchema(_AuthoredSchema):
    thread_id = fields.String(dump_only=True)
    body = Text(20_000, multiline=True, required=True)


class FollowSchema(Schema):
    thread_id = fields.String(dump_only=True)
    following = fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether you hear of replies: authors and repliers do unless they unfollowed."},
    )


# --- documents ----------------------------------------------------------------------------------------


class DocumentSchema(_AuthoredSchema):
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    source = fields.String(dump_only=True, metadata={"description": "`file` (uploaded) or `material`."})
    filename = fields.String(dump_only=True, allow_none=True)
    media_type = fields.String(dump_only=True, allow_none=True)
    size = fields.Integer(dump_only=True, allow_none=True)
    sha256 = fields.String(dump_only=True, allow_none=True)
    material_id = fields.String(dump_only=True, allow_none=True)
    material_version = fields.Integer(dump_only=True, allow_none=True)


class MaterialReferenceSchema(Schema):
    """A document that points at a version of one of content's national materials."""

    title = Text(300, required=True)
    description = Text(5000, multiline=True, blank=True, load_default="")
    material_id = Id(required=True)
    material_version = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Defaults to the material's published version."},
    )


class DocumentFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The file; its part's Content-Type must be its real type."})


class DocumentFormSchema(Schema):
    title = Text(300, required=True)
    description = Text(5000, multiline=True, blank=True, load_default="")


class DocumentUploadSchema(DocumentFileSchema, DocumentFormSchema):
    """The whole multipart body of an upload, for the OpenAPI document."""


# --- work plan ----------------------------------------------------------------------------------------


class WorkItemSchema(Schema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(rules.WORK_ITEM_KINDS))
    goal_id = Id(load_default=None, allow_none=True, metadata={"description": "The goal a task works toward."})
    title = Text(300, required=True)
    description = Text(10_000, multiline=True, blank=True, load_default="")
    owner = Subject(load_default=None, allow_none=True, metadata={"description": "A current member's sub."})
    due_on = fields.Date(load_default=None, allow_none=True)
    status = fields.String(load_default="open", validate=validate.OneOf(rules.WORK_ITEM_STATUSES))
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class WorkItemUpdateSchema(Schema):
    goal_id = Id(allow_none=True)
    title = Text(300)
    description = Text(10_000, multiline=True, blank=True)
    owner = Subject(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(rules.WORK_ITEM_STATUSES))


class WorkItemQueryArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(rules.WORK_ITEM_KINDS))
    status = fields.String(load_default=None, validate=validate.OneOf(rules.WORK_ITEM_STATUSES))


# --- knowledge products, syntheses, consent ----------------------------------------------------------


class KnowledgeProductSchema(Schema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    source_kind = fields.String(required=True, validate=validate.OneOf(rules.SOURCE_KINDS))
    source_id = Id(required=True)
    note = Text(5000, multiline=True, blank=True, load_default="")
    title = fields.String(dump_only=True)
    excerpt = fields.String(dump_only=True)
    jurisdiction = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The jurisdiction it was posted for, if any."}
    )
    marked_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ContributionSchema(Schema):
    source_kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    excerpt = fields.String(dump_only=True)
    attribution = fields.String(
        dump_only=True,
        metadata={
            "description": "`attributed` (names `jurisdiction`, by its recorded consent), `anonymised` "
            "(a member jurisdiction's, not named) or `initiative` (staff or a guest expert)."
        },
    )
    jurisdiction = fields.String(dump_only=True, allow_none=True)


class PublishedSynthesisSchema(Schema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    community_title = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    summary = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    contributions = fields.List(
        fields.Nested(ContributionSchema),
        dump_only=True,
        metadata={"description": "The knowledge products drawn on, as each jurisdiction's consent allows."},
    )
    published_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class SynthesisSchema(PublishedSynthesisSchema):
    title = Text(300, required=True)
    summary = Text(50_000, multiline=True, required=True)
    knowledge_products = fields.List(Id(), load_default=list, validate=validate.Length(max=200))
    created_by = fields.String(dump_only=True)
    published_by = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class SynthesisUpdateSchema(Schema):
    title = Text(300)
    summary = Text(50_000, multiline=True)
    knowledge_products = fields.List(Id(), validate=validate.Length(max=200))


class PublishedSynthesisQueryArgs(PageArgs):
    community_id = Id(load_default=None)


class ConsentSchema(Schema):
    community_id = fields.String(dump_only=True)
    jurisdiction = fields.String(dump_only=True)
    choice = fields.String(
        required=True,
        validate=validate.OneOf(rules.CONSENT_CHOICES),
        metadata={
            "description": "`attribute` (name us), `anonymise` (use without naming us) or `exclude` (leave out)."
        },
    )
    recorded = fields.Boolean(
        dump_only=True, metadata={"description": "False: no choice recorded; the default applies."}
    )
    recorded_by = fields.String(dump_only=True, allow_none=True)
    recorded_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True)


CommunityPage = page_schema(CommunitySchema, "CommunityPage")
MemberPage = page_schema(MemberSchema, "MemberPage")
ThreadPage = page_schema(ThreadSchema, "ThreadPage")
ReplyPage = page_schema(ReplySchema, "ReplyPage")
DocumentPage = page_schema(DocumentSchema, "DocumentPage")
WorkItemPage = page_schema(WorkItemSchema, "WorkItemPage")
KnowledgeProductPage = page_schema(KnowledgeProductSchema, "KnowledgeProductPage")
SynthesisPage = page_schema(SynthesisSchema, "SynthesisPage")
PublishedSynthesisPage = page_schema(PublishedSynthesisSchema, "PublishedSynthesisPage")
ConsentPage = page_schema(ConsentSchema, "ConsentPage")
