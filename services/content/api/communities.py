"""Learning communities: the community, its members, threads, documents, work plan, knowledge products,
syntheses and consent; and the published syntheses every jurisdiction reads.

Every route under ``/communities/{community_id}`` first finds the community through the rule of who sees
it (``repository.communities.get_space``): anyone else gets 404, as for an id that does not exist.
"""

from __future__ import annotations

from flask import request, send_file, url_for
from flask.views import MethodView

from services.content.domain import materials as material_rules
from services.content.models import (
    AttributionConsent,
    Community,
    CommunityDocument,
    CommunityMember,
    CommunityThread,
    KnowledgeProduct,
    Synthesis,
    ThreadReply,
    WorkItem,
)
from services.content.repository import communities as repo
from services.content.schemas.communities import (
    CommunityDetailSchema,
    CommunityPage,
    CommunityQueryArgs,
    CommunitySchema,
    CommunityUpdateSchema,
    ConsentPage,
    ConsentSchema,
    ConveneSchema,
    DocumentFileSchema,
    DocumentFormSchema,
    DocumentPage,
    DocumentSchema,
    DocumentUploadSchema,
    FollowSchema,
    KnowledgeProductPage,
    KnowledgeProductSchema,
    MaterialReferenceSchema,
    MemberPage,
    MemberQueryArgs,
    MemberSchema,
    PublishedSynthesisPage,
    PublishedSynthesisQueryArgs,
    PublishedSynthesisSchema,
    ReplyPage,
    ReplySchema,
    SynthesisPage,
    SynthesisSchema,
    SynthesisUpdateSchema,
    ThreadPage,
    ThreadSchema,
    WorkItemPage,
    WorkItemQueryArgs,
    WorkItemSchema,
    WorkItemUpdateSchema,
)
from services.content.use_cases import communities as use_cases
from services.content.use_cases.materials import IncomingFile
from shared.auth import NATIONAL_ADMIN
from shared.errors import NotFound
from shared.http.api import JSON_MIMETYPES, Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate
from shared.http.problems import Problem

blp = Blueprint(
    "communities",
    __name__,
    url_prefix="/communities",
    description="Learning communities: state, territory and Tribe teams, Initiative staff and guest experts "
    "working together for about a year. Only members, staff and the admins of member jurisdictions see a "
    "community's space; anyone else gets 404.",
)
published = Blueprint(
    "syntheses",
    __name__,
    url_prefix="/syntheses",
    description="Published syntheses of the learning communities, readable by every jurisdiction.",
)

MULTIPART = "multipart/form-data"
_BINARY = {"type": "string", "format": "binary"}


def _space(community_id: str, *, for_update: bool = False) -> repo.Space:
    return repo.get_space(request_uow().session, community_id, principal(), for_update=for_update)


def _page(stmt, model, args, *, order_column=None, updated_column=None):
    updated_column = updated_column if updated_column is not None else model.updated_at
    page = paginate(
        request_uow().session,
        stmt,
        order_by=[order_column if order_column is not None else updated_column, model.id],
        args=args,
        config=context().config,
        updated_column=updated_column,
        change_column=model.change,
    )
    return page, 200, link_header(page)


def _created(body, endpoint: str, **values):
    return body, 201, {"Location": url_for(endpoint, **values)}


def _is_json() -> bool:
    return request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json")


def _parse(schema, location: str) -> dict:
    return blp.ARGUMENTS_PARSER.parse(schema(), request, location=location)


# --- communities --------------------------------------------------------------------------------------


@blp.route("")
class CommunityCollection(MethodView):
    @require()
    @blp.arguments(CommunityQueryArgs, location="query")
    @blp.response(200, CommunityPage)
    def get(self, args):
        """List the communities you see: staff all; members theirs; admins their jurisdiction's."""
        return _page(repo.communities_list(principal(), args.get("status")), Community, args)

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(ConveneSchema)
    @blp.response(201, CommunitySchema)
    def post(self, data):
        """Convene a community (staff): focus area, goals, start week, planned months, facilitators."""
        community = use_cases.convene(data, request_uow(), principal(), correlationid=correlation_id())
        return _created(community, ".CommunityItem", community_id=community.id)


@blp.route("/<community_id>")
class CommunityItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, CommunityDetailSchema)
    def get(self, community_id):
        """Show a community you see, with where its work plan stands."""
        return _space(community_id).community

    @require(NATIONAL_ADMIN)
    @blp.etag
    @blp.arguments(CommunityUpdateSchema)
    @blp.response(200, CommunityDetailSchema)
    @blp.alt_response(409, description="The lifecycle does not allow this status from the current one.")
    def patch(self, data, community_id):
        """Change a community (staff): its plan, facilitators, or status (convening, active, closing, closed)."""
        space = _space(community_id, for_update=True)
        blp.check_etag(space.community, CommunityDetailSchema)
        return use_cases.update_community(space, data, request_uow(), correlationid=correlation_id())


# --- members ------------------------------------------------------------------------------------------


@blp.route("/<community_id>/members")
class MemberCollection(MethodView):
    @require()
    @blp.arguments(MemberQueryArgs, location="query")
    @blp.response(200, MemberPage)
    def get(self, args, community_id):
        """List the members, and those who left (`status` left), for a synced copy."""
        space = _space(community_id)
        return _page(repo.members_list(space.community.id, args.get("status")), CommunityMember, args)

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(MemberSchema)
    @blp.response(201, MemberSchema)
    @blp.alt_response(409, description="Already a member, or the community is closed.")
    def post(self, data, community_id):
        """Add a member (staff): a jurisdiction's team member, a staff facilitator or a guest expert."""
        space = _space(community_id)
        member = use_cases.add_member(
            space, data, request_uow(), correlationid=correlation_id(), knows=context().jurisdictions.knows
        )
        return _created(member, ".MemberItem", community_id=community_id, sub=member.sub)


@blp.route("/<community_id>/members/<sub>")
class MemberItem(MethodView):
    @require()
    @blp.response(200, MemberSchema)
    def get(self, community_id, sub):
        """Show a member (or a past member) by their sub."""
        space = _space(community_id)
        row = repo.member_row(request_uow().session, space.community.id, sub)
        if row is None:
            raise NotFound("No member with this sub.")
        return row

    @require()
    @blp.response(200, MemberSchema)
    def delete(self, community_id, sub):
        """Remove a member (staff), or leave (yourself); the member is kept with `status` left."""
        space = _space(community_id)
        return use_cases.remove_member(space, sub, request_uow(), correlationid=correlation_id())


# --- threads ------------------------------------------------------------------------------------------


@blp.route("/<community_id>/threads")
class ThreadCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ThreadPage)
    def get(self, args, community_id):
        """List the discussion threads, most recently active last."""
        space = _space(community_id)
        return _page(repo.threads_list(space.community.id), CommunityThread, args)

    @idempotent
    @require()
    @blp.arguments(ThreadSchema)
    @blp.response(201, ThreadSchema)
    @blp.alt_response(409, description="The community is closed.")
    def post(self, data, community_id):
        """Start a thread (members and staff); you follow it."""
        thread = use_cases.start_thread(_space(community_id), data, request_uow(), principal())
        return _created(thread, ".ThreadItem", community_id=community_id, thread_id=thread.id)


@blp.route("/<community_id>/threads/<thread_id>")
class ThreadItem(MethodView):
    @require()
    @blp.response(200, ThreadSchema)
    def get(self, community_id, thread_id):
        """Show a thread."""
        return repo.get_thread(request_uow().session, _space(community_id), thread_id)


@blp.route("/<community_id>/threads/<thread_id>/replies")
class ReplyCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ReplyPage)
    def get(self, args, community_id, thread_id):
        """List a thread's replies, oldest first."""
        session, space = request_uow().session, _space(community_id)
        thread = repo.get_thread(session, space, thread_id)
        return _page(
            repo.replies_list(space.community.id, thread.id), ThreadReply, args, order_column=ThreadReply.created_at
        )

    @idempotent
    @require()
    @blp.arguments(ReplySchema)
    @blp.response(201, ReplySchema)
    @blp.alt_response(409, description="The community is closed.")
    def post(self, data, community_id, thread_id):
        """Reply (members and staff); you follow the thread unless you unfollowed it, and its followers hear."""
        uow, space = request_uow(), _space(community_id)
        thread = repo.get_thread(uow.session, space, thread_id)
        row = use_cases.reply(space, thread, data, uow, principal(), correlationid=correlation_id())
        return row, 201


@blp.route("/<community_id>/threads/<thread_id>/follow")
class ThreadFollowing(MethodView):
    @require()
    @blp.response(200, FollowSchema)
    def get(self, community_id, thread_id):
        """Whether you follow the thread."""
        uow, space = request_uow(), _space(community_id)
        return use_cases.following(uow, space, repo.get_thread(uow.session, space, thread_id), principal())

    @require()
    @blp.response(200, FollowSchema)
    def put(self, community_id, thread_id):
        """Follow the thread (members): hear of its replies."""
        uow, space = request_uow(), _space(community_id)
        return use_cases.follow(space, repo.get_thread(uow.session, space, thread_id), True, uow, principal())

    @require()
    @blp.response(200, FollowSchema)
    def delete(self, community_id, thread_id):
        """Unfollow the thread (members): replying later does not make you follow it again."""
        uow, space = request_uow(), _space(community_id)
        return use_cases.follow(space, repo.get_thread(uow.session, space, thread_id), False, uow, principal())


# --- documents ----------------------------------------------------------------------------------------


@blp.route("/<community_id>/documents")
class DocumentCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DocumentPage)
    def get(self, args, community_id):
        """List the community's documents: files it uploaded and references to national materials."""
        space = _space(community_id)
        return _page(repo.documents_list(space.community.id), CommunityDocument, args)

    @idempotent
    @require()
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                MULTIPART: {"schema": DocumentUploadSchema},
                "application/json": {"schema": MaterialReferenceSchema},
            },
        },
        description=(
            "A file the community wrote: `multipart/form-data` with a `file` part (PDF, Word, OpenDocument, "
            "PowerPoint, PNG or JPEG; the part's Content-Type must be its real type), a `title` and an optional "
            "`description`. Or a resource material: `application/json` "
            '`{"title", "description", "material_id", "material_version"}` naming a national material.'
        ),
    )
    @blp.response(201, DocumentSchema)
    @blp.alt_response(409, description="The community is closed.")
    @blp.alt_response(413, description="The file is larger than the upload limit.")
    @blp.alt_response(415, description="The body's type, or the file's declared or real type, is not accepted.")
    def post(self, community_id):
        """Post a document (members and staff): an uploaded file, or a version of a national material."""
        uow, who, space = request_uow(), principal(), _space(community_id)
        if request.mimetype == MULTIPART:
            upload = _parse(DocumentFileSchema, "files")["file"]
            form = _parse(DocumentFormSchema, "form")
            ctx = context()
            document = use_cases.add_file_document(
                space,
                IncomingFile(filename=upload.filename, media_type=upload.content_type, stream=upload.stream),
                form,
                uow,
                who,
                storage=ctx.extra["storage"],
                max_bytes=ctx.config.max_upload_bytes,
            )
        elif _is_json():
            document = use_cases.add_material_document(space, _parse(MaterialReferenceSchema, "json"), uow, who)
        else:
            raise Problem(
                415,
                "Send a file as multipart/form-data, or a material reference as application/json.",
                title="Unsupported Media Type",
            )
        return _created(document, ".DocumentItem", community_id=community_id, document_id=document.id)


@blp.route("/<community_id>/documents/<document_id>")
class DocumentItem(MethodView):
    @require()
    @blp.response(200, DocumentSchema)
    def get(self, community_id, document_id):
        """Show a document."""
        return repo.get_document(request_uow().session, _space(community_id), document_id)


# A document is served as the type it was checked to be on upload (a resource material's types).
_DOWNLOAD_TYPES = {
    media_type: {"schema": _BINARY} for media_type in sorted(material_rules.ACCEPTED_MEDIA_TYPES["resource"])
}


@blp.route("/<community_id>/documents/<document_id>/download")
class DocumentDownload(MethodView):
    @require()
    @blp.doc(responses={200: {"content": _DOWNLOAD_TYPES}, 206: {"content": _DOWNLOAD_TYPES}})
    @blp.response(200, _BINARY, content_type=material_rules.PDF, description="The file, as an attachment.")
    @blp.alt_response(
        206,
        schema=_BINARY,
        content_type=material_rules.PDF,
        description="The requested byte range (Range).",
        success=True,
    )
    @blp.alt_response(304, description="Not modified (If-None-Match matched the sha256).", success=True)
    def get(self, community_id, document_id):
        """Download an uploaded document's file (a material's is downloaded from /materials)."""
        document = repo.get_document(request_uow().session, _space(community_id), document_id)
        if document.sha256 is None:
            raise NotFound(
                "This document is a national material: download it from "
                f"/materials/{document.material_id}/versions/{document.material_version}/download."
            )
        response = send_file(
            context().extra["storage"].path_for(document.sha256),
            mimetype=document.media_type,
            download_name=document.filename,
            as_attachment=True,
            conditional=True,
            etag=document.sha256,
        )
        response.cache_control.private = True  # members only: no shared cache may keep it
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


# --- work plan ----------------------------------------------------------------------------------------


@blp.route("/<community_id>/work-items")
class WorkItemCollection(MethodView):
    @require()
    @blp.arguments(WorkItemQueryArgs, location="query")
    @blp.response(200, WorkItemPage)
    def get(self, args, community_id):
        """List the work plan: goals and the tasks toward them."""
        space = _space(community_id)
        return _page(repo.work_items_list(space.community.id, args.get("kind"), args.get("status")), WorkItem, args)

    @idempotent
    @require()
    @blp.arguments(WorkItemSchema)
    @blp.response(201, WorkItemSchema)
    @blp.alt_response(409, description="The community is closed.")
    def post(self, data, community_id):
        """Add a goal or a task (members and staff), with its owner, due date and status."""
        item = use_cases.add_work_item(_space(community_id), data, request_uow(), principal())
        return _created(item, ".WorkItemResource", community_id=community_id, item_id=item.id)


@blp.route("/<community_id>/work-items/<item_id>")
class WorkItemResource(MethodView):
    @require()
    @blp.etag
    @blp.response(200, WorkItemSchema)
    def get(self, community_id, item_id):
        """Show a goal or task."""
        return repo.get_work_item(request_uow().session, _space(community_id), item_id)

    @require()
    @blp.etag
    @blp.arguments(WorkItemUpdateSchema)
    @blp.response(200, WorkItemSchema)
    @blp.alt_response(409, description="The community is closed.")
    def patch(self, data, community_id, item_id):
        """Change a goal or task (members and staff); send the ETag you read as If-Match."""
        uow, space = request_uow(), _space(community_id)
        item = repo.get_work_item(uow.session, space, item_id)
        blp.check_etag(item, WorkItemSchema)
        return use_cases.update_work_item(space, item, data, uow)


# --- knowledge products -------------------------------------------------------------------------------


@blp.route("/<community_id>/knowledge-products")
class KnowledgeProductCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, KnowledgeProductPage)
    def get(self, args, community_id):
        """List the posts and documents staff marked as the community's knowledge products."""
        space = _space(community_id)
        return _page(repo.knowledge_products_list(space.community.id), KnowledgeProduct, args)

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(KnowledgeProductSchema)
    @blp.response(201, KnowledgeProductSchema)
    @blp.alt_response(409, description="This post or document is already a knowledge product.")
    def post(self, data, community_id):
        """Mark a thread, reply or document as a knowledge product (staff)."""
        product = use_cases.mark_knowledge_product(_space(community_id), data, request_uow(), principal())
        return _created(product, ".KnowledgeProductItem", community_id=community_id, product_id=product.id)


@blp.route("/<community_id>/knowledge-products/<product_id>")
class KnowledgeProductItem(MethodView):
    @require()
    @blp.response(200, KnowledgeProductSchema)
    def get(self, community_id, product_id):
        """Show a knowledge product."""
        return repo.get_knowledge_product(request_uow().session, _space(community_id), product_id)


# --- syntheses ----------------------------------------------------------------------------------------


def _rendered(page_and_headers):
    page, status, headers = page_and_headers
    session = request_uow().session
    page["items"] = [use_cases.render_synthesis(session, row) for row in page["items"]]
    return page, status, headers


@blp.route("/<community_id>/syntheses")
class SynthesisCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SynthesisPage)
    def get(self, args, community_id):
        """List the community's syntheses, drafts included."""
        space = _space(community_id)
        return _rendered(_page(repo.syntheses_list(space.community.id), Synthesis, args))

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(SynthesisSchema)
    @blp.response(201, SynthesisSchema)
    def post(self, data, community_id):
        """Draft a synthesis of knowledge products (staff)."""
        uow = request_uow()
        synthesis = use_cases.draft_synthesis(_space(community_id), data, uow, principal())
        return _created(
            use_cases.render_synthesis(uow.session, synthesis),
            ".SynthesisItem",
            community_id=community_id,
            synthesis_id=synthesis.id,
        )


@blp.route("/<community_id>/syntheses/<synthesis_id>")
class SynthesisItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, SynthesisSchema)
    def get(self, community_id, synthesis_id):
        """Show a synthesis as readers will see it (contributions as consent allows)."""
        session = request_uow().session
        return use_cases.render_synthesis(session, repo.get_synthesis(session, _space(community_id), synthesis_id))

    @require(NATIONAL_ADMIN)
    @blp.etag
    @blp.arguments(SynthesisUpdateSchema)
    @blp.response(200, SynthesisSchema)
    @blp.alt_response(409, description="The synthesis is published.")
    def patch(self, data, community_id, synthesis_id):
        """Change a draft synthesis (staff); send the ETag you read as If-Match."""
        uow, space = request_uow(), _space(community_id)
        synthesis = repo.get_synthesis(uow.session, space, synthesis_id)
        blp.check_etag(use_cases.render_synthesis(uow.session, synthesis), SynthesisSchema)
        return use_cases.render_synthesis(uow.session, use_cases.update_synthesis(space, synthesis, data, uow))


@blp.route("/<community_id>/syntheses/<synthesis_id>/publish")
class SynthesisPublish(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(200, SynthesisSchema)
    @blp.alt_response(409, description="The synthesis is already published.")
    def post(self, community_id, synthesis_id):
        """Publish a draft (staff): every jurisdiction reads it from /syntheses; an event announces it."""
        uow, space = request_uow(), _space(community_id)
        synthesis = repo.get_synthesis(uow.session, space, synthesis_id)
        done = use_cases.publish_synthesis(space, synthesis, uow, principal(), correlationid=correlation_id())
        return use_cases.render_synthesis(uow.session, done)


# --- consent ------------------------------------------------------------------------------------------


@blp.route("/<community_id>/consents")
class ConsentCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ConsentPage)
    def get(self, args, community_id):
        """List the member jurisdictions' recorded consents (who, when)."""
        space = _space(community_id)
        page, status, headers = _page(
            repo.consents_list(space.community.id),
            AttributionConsent,
            args,
            updated_column=AttributionConsent.recorded_at,
        )
        page["items"] = use_cases.consent_rows(page["items"])
        return page, status, headers


@blp.route("/<community_id>/consents/<jurisdiction>")
class ConsentItem(MethodView):
    @require()
    @blp.response(200, ConsentSchema)
    def get(self, community_id, jurisdiction):
        """A member jurisdiction's consent, or the default without one (Tribes: exclude; others: anonymise)."""
        return use_cases.consent_of(_space(community_id), jurisdiction, request_uow())

    @require()
    @blp.arguments(ConsentSchema)
    @blp.response(200, ConsentSchema)
    def put(self, data, community_id, jurisdiction):
        """Record your jurisdiction's consent (its jurisdiction admin): attribute, anonymise or exclude."""
        return use_cases.record_consent(_space(community_id), jurisdiction, data, request_uow(), principal())


# --- published syntheses, for every jurisdiction --------------------------------------------------------


@published.route("")
class PublishedSynthesisCollection(MethodView):
    @require()
    @published.arguments(PublishedSynthesisQueryArgs, location="query")
    @published.response(200, PublishedSynthesisPage)
    def get(self, args):
        """List the published syntheses of every community (any authenticated caller)."""
        return _rendered(_page(repo.published_syntheses_list(args.get("community_id")), Synthesis, args))


@published.route("/<synthesis_id>")
class PublishedSynthesisItem(MethodView):
    @require()
    @published.response(200, PublishedSynthesisSchema)
    def get(self, synthesis_id):
        """Show a published synthesis, with what each member jurisdiction's consent allows."""
        session = request_uow().session
        return use_cases.render_synthesis(session, repo.get_published_synthesis(session, synthesis_id))
