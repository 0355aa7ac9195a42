"""Materials of the modules and their immutable numbered versions: upload, link, publish, download."""

from __future__ import annotations

from flask import request, send_file, url_for
from flask.views import MethodView

from services.content import repository as repo
from services.content.domain import materials as rules
from services.content.models import Material, MaterialVersion
from services.content.repository import lists
from services.content.schemas.materials import (
    MaterialPage,
    MaterialQueryArgs,
    MaterialSchema,
    MaterialUpdateSchema,
    MaterialVersionPage,
    MaterialVersionSchema,
    PublishSchema,
    UploadFileSchema,
    UploadFormSchema,
    UploadSchema,
    VideoLinkVersionSchema,
)
from services.content.use_cases import materials
from shared.errors import NotFound
from shared.http.api import (
    JSON_MIMETYPES,
    Blueprint,
    context,
    correlation_id,
    principal,
    request_uow,
    require,
)
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate
from shared.http.problems import Problem

blp = Blueprint(
    "materials",
    __name__,
    url_prefix="/materials",
    description="Slide decks, guides, worksheets, resources, activities and video links of the "
    "modules, each with immutable numbered versions.",
)

MULTIPART = "multipart/form-data"
_BINARY = {"type": "string", "format": "binary"}


def _is_json() -> bool:
    return request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json")


def _parse(schema, location: str) -> dict:
    """Load part of the body with a declared schema; webargs' errors become the usual 422 problem."""
    return blp.ARGUMENTS_PARSER.parse(schema(), request, location=location)


def _created(body, endpoint: str, **values):
    return body, 201, {"Location": url_for(endpoint, **values)}


_MATERIAL_FILTERS = ("module_id", "kind", "status")


@blp.route("")
class MaterialCollection(MethodView):
    @require()
    @blp.arguments(MaterialQueryArgs, location="query")
    @blp.response(200, MaterialPage)
    def get(self, args):
        """List the materials you can see (non-curators: published ones only), filtered and paged."""
        session = request_uow().session
        who = principal()
        filters = tuple(name for name in _MATERIAL_FILTERS if args.get(name) is not None)
        page = paginate(
            session,
            lists.material_keys(who.is_national, repo.sees_drafts(who), filters),
            order_by=[Material.updated_at, Material.id],
            args=args,
            config=context().config,
            updated_column=Material.updated_at,
            change_column=Material.change,
            params={"tenant": who.tenant, **{name: args[name] for name in filters}},
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.CURATORS)
    @blp.arguments(MaterialSchema)
    @blp.response(201, MaterialSchema)
    def post(self, data):
        """Create a draft material on a module (national for a national admin, else your jurisdiction's)."""
        material = materials.create_material(data, request_uow(), principal())
        return _created(material, ".MaterialItem", material_id=material.id)


@blp.route("/<material_id>")
class MaterialItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, MaterialSchema)
    def get(self, material_id):
        """Show a material: kind, status, latest and published version."""
        return repo.get_material(request_uow().session, material_id, principal())

    @require(*repo.CURATORS)
    @blp.etag
    @blp.arguments(MaterialUpdateSchema)
    @blp.response(200, MaterialSchema)
    def patch(self, data, material_id):
        """Change a material's title or description; send the ETag you read as If-Match."""
        uow = request_uow()
        material = repo.get_material(uow.session, material_id, principal())
        blp.check_etag(material, MaterialSchema)
        return materials.update_material(material, data, uow, principal())


@blp.route("/<material_id>/versions")
class MaterialVersions(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MaterialVersionPage)
    def get(self, args, material_id):
        """List a material's versions in order (non-curators: the published version only)."""
        who, session = principal(), request_uow().session
        material = repo.get_material(session, material_id, who)
        page = paginate(
            session,
            lists.versions_of(material, who),
            order_by=[MaterialVersion.number, MaterialVersion.id],
            args=args,
            config=context().config,
            updated_column=MaterialVersion.created_at,
            change_column=MaterialVersion.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.CURATORS)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                MULTIPART: {"schema": UploadSchema},
                "application/json": {"schema": VideoLinkVersionSchema},
            },
        },
        description=(
            "A file kind takes `multipart/form-data` with a `file` part (its Content-Type must be the file's "
            "real type, one the kind accepts) and an optional `note`; a video link takes `application/json` "
            '`{"url", "note"}`. Versions are immutable.'
        ),
    )
    @blp.response(201, MaterialVersionSchema)
    @blp.alt_response(413, description="The file is larger than the upload limit.")
    @blp.alt_response(415, description="The body's type, or the file's declared or real type, is not accepted.")
    def post(self, material_id):
        """Add the next version: a file, or a URL for a video link."""
        uow, who = request_uow(), principal()
        material = repo.get_material(uow.session, material_id, who)
        if request.mimetype == MULTIPART:
            source = rules.FILE
        elif _is_json():
            source = rules.URL
        else:
            raise Problem(
                415,
                "Send a file as multipart/form-data, or a video link as application/json.",
                title="Unsupported Media Type",
            )
        rules.check_source(material.kind, source)
        if source == rules.URL:
            version = materials.add_link_version(material, _parse(VideoLinkVersionSchema, "json"), uow, who)
        else:
            upload = _parse(UploadFileSchema, "files")["file"]
            note = _parse(UploadFormSchema, "form")["note"]
            incoming = materials.IncomingFile(
                filename=upload.filename, media_type=upload.content_type, stream=upload.stream
            )
            ctx = context()
            version = materials.add_file_version(
                material, incoming, note, uow, who, storage=ctx.extra["storage"], max_bytes=ctx.config.max_upload_bytes
            )
        return _created(version, ".MaterialVersionItem", material_id=material.id, number=version.number)


@blp.route("/<material_id>/versions/<int:number>")
class MaterialVersionItem(MethodView):
    @require()
    @blp.response(200, MaterialVersionSchema)
    def get(self, material_id, number):
        """Show one version (non-curators: the published version only)."""
        who, session = principal(), request_uow().session
        return materials.get_version(session, repo.get_material(session, material_id, who), number, who)


@blp.route("/<material_id>/versions/<int:number>/download")
class MaterialVersionDownload(MethodView):
    @require()
    @blp.response(
        200,
        _BINARY,
        content_type="application/octet-stream",
        description="The file, as an attachment; its ETag is its sha256.",
    )
    @blp.alt_response(
        206,
        schema=_BINARY,
        content_type="application/octet-stream",
        description="The requested byte range (Range).",
        success=True,
    )
    @blp.alt_response(304, description="Not modified (If-None-Match matched the sha256).", success=True)
    def get(self, material_id, number):
        """Download a version's file; Range and If-None-Match are honoured."""
        who, session = principal(), request_uow().session
        version = materials.get_version(session, repo.get_material(session, material_id, who), number, who)
        if version.sha256 is None:
            raise NotFound("This version is a video link: it has no file to download; open its url.")
        response = send_file(
            context().extra["storage"].path_for(version.sha256),
            mimetype=version.media_type,
            download_name=version.filename,
            as_attachment=True,
            conditional=True,
            etag=version.sha256,
        )
        response.cache_control.private = True  # access-controlled: no shared cache may keep it
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/<material_id>/publish")
class MaterialPublish(MethodView):
    @require(*repo.CURATORS)
    @blp.doc(requestBody={"required": False, "content": {"application/json": {"schema": PublishSchema}}})
    @blp.response(200, MaterialSchema)
    @blp.alt_response(409, description="No version yet, or the version is already published or older than it.")
    def post(self, material_id):
        """Publish a version (the latest if the body is empty): readers get it; an event announces it."""
        uow, who = request_uow(), principal()
        if request.content_length or request.mimetype or request.headers.get("Transfer-Encoding"):
            if not _is_json():
                raise Problem(415, "Send the body as application/json.", title="Unsupported Media Type")
            data = _parse(PublishSchema, "json")
        else:
            data = {}  # an empty POST publishes the latest version
        material = repo.get_material(uow.session, material_id, who)
        return materials.publish(material, data, uow, who, correlationid=correlation_id())
