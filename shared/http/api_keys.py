"""API keys for state systems: created by an admin, shown once, stored hashed, revocable."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import select

from shared.auth import INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN, ROLES, new_api_key
from shared.db import utcnow
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.fields import Text
from shared.http.pagination import PageArgs, link_header, page_schema, paginate
from shared.http.problems import Problem

blp = Blueprint(
    "api_keys",
    __name__,
    url_prefix="/api-keys",
    description="Keys for state systems; send one as the X-API-Key header, never in a URL.",
)


class ApiKeySchema(Schema):
    id = fields.String(dump_only=True)
    name = Text(200, required=True)
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        load_default=lambda: [INTEGRATION],
        validate=validate.Length(min=1),
    )
    tenant = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    revoked = fields.Boolean(dump_only=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_used_at = fields.AwareDateTime(dump_only=True, allow_none=True)

    @validates("roles")
    def no_admin_keys(self, value, **kwargs):
        if NATIONAL_ADMIN in value:
            raise ValidationError("An API key cannot carry the national_admin role.")


class NewApiKeySchema(ApiKeySchema):
    key = fields.String(dump_only=True, metadata={"description": "Shown once; store it now."})


ApiKeyPage = page_schema(ApiKeySchema, "ApiKeyPage")


@blp.route("")
class ApiKeys(MethodView):
    @require(NATIONAL_ADMIN, JURISDICTION_ADMIN)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ApiKeyPage)
    def get(self, args):
        """List your jurisdiction's API keys (never the keys themselves)."""
        ctx = context()
        ApiKey = ctx.tables.api_key
        stmt = select(ApiKey).where(ApiKey.tenant == principal().tenant)
        page = paginate(
            request_uow().session,
            stmt,
            order_by=[ApiKey.created_at, ApiKey.id],
            args=args,
            config=ctx.config,
            updated_column=ApiKey.created_at,
            change_column=ApiKey.change,
        )
        return page, 200, link_header(page)

    # No Idempotency-Key here: a replayable answer would keep the key itself in plain text.
    @require(NATIONAL_ADMIN, JURISDICTION_ADMIN)
    @blp.arguments(ApiKeySchema)
    @blp.response(201, NewApiKeySchema)
    def post(self, data):
        """Create a key for your jurisdiction; the response is the only time the key is shown."""
        ctx = context()
        who = principal()
        key, prefix, key_hash = new_api_key()
        uow = request_uow()
        row = ctx.tables.api_key(
            tenant=who.tenant,
            name=data["name"],
            prefix=prefix,
            key_hash=key_hash,
            roles=sorted(set(data["roles"])),
            created_by=who.sub,
        )
        uow.session.add(row)
        uow.commit()
        row.key = key  # not a column: shown in this one response only
        return row


@blp.route("/<key_id>/revoke")
class RevokeApiKey(MethodView):
    @require(NATIONAL_ADMIN, JURISDICTION_ADMIN)
    @blp.response(200, ApiKeySchema)
    def post(self, key_id):
        """Revoke a key at once; requests with it get 401 from now on."""
        uow = request_uow()
        row = uow.session.get(context().tables.api_key, key_id)
        if row is None or row.tenant != principal().tenant:
            raise Problem(404, "No API key with this id.", title="Not Found")
        if not row.revoked:
            row.revoked, row.revoked_at = True, utcnow()
        uow.commit()
        return row
