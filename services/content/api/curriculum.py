"""Series, their modules (the nine sessions) and the six practices."""

from __future__ import annotations

from flask.views import MethodView

from services.content import repository as repo
from services.content.models import Module, Practice, Series
from services.content.repository import lists
from services.content.schemas.curriculum import (
    ModulePage,
    ModuleSchema,
    ModuleUpdateSchema,
    PracticePage,
    PracticeSchema,
    SeriesPage,
    SeriesSchema,
    SeriesUpdateSchema,
)
from services.content.use_cases import curriculum as use_cases
from shared.errors import NotFound
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint("curriculum", __name__, description="The series, its sessions (modules) and the PITC practices.")


@blp.route("/series")
class SeriesCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SeriesPage)
    def get(self, args):
        """List the series you can see: the national curriculum and your jurisdiction's own."""
        page = paginate(
            request_uow().session,
            lists.series(principal()),
            order_by=[Series.updated_at, Series.id],
            args=args,
            config=context().config,
            updated_column=Series.updated_at,
            change_column=Series.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.CURATORS)
    @blp.arguments(SeriesSchema)
    @blp.response(201, SeriesSchema)
    def post(self, data):
        """Create a series (national for a national admin, your jurisdiction's for a jurisdiction admin)."""
        return use_cases.create_series(data, request_uow(), principal())


@blp.route("/series/<series_id>")
class SeriesItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, SeriesSchema)
    def get(self, series_id):
        """Show a series with its modules in order."""
        return repo.get_series(request_uow().session, series_id, principal())

    @require(*repo.CURATORS)
    @blp.etag
    @blp.arguments(SeriesUpdateSchema)
    @blp.response(200, SeriesSchema)
    def patch(self, data, series_id):
        """Change a series; send the ETag you read as If-Match."""
        uow = request_uow()
        series = repo.get_series(uow.session, series_id, principal())
        blp.check_etag(series, SeriesSchema)
        return use_cases.update_series(series, data, uow, principal())


@blp.route("/series/<series_id>/modules")
class SeriesModules(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ModulePage)
    def get(self, args, series_id):
        """List a series' modules in session order."""
        who, session = principal(), request_uow().session
        repo.get_series(session, series_id, who)
        page = paginate(
            session,
            lists.modules_of(series_id, who),
            order_by=[Module.position, Module.id],
            args=args,
            config=context().config,
            updated_column=Module.updated_at,
            change_column=Module.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.CURATORS)
    @blp.arguments(ModuleSchema)
    @blp.response(201, ModuleSchema)
    def post(self, data, series_id):
        """Add a module (session) to a series."""
        uow = request_uow()
        series = repo.get_series(uow.session, series_id, principal())
        return use_cases.add_module(series, data, uow, principal())


@blp.route("/modules/<module_id>")
class ModuleItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, ModuleSchema)
    def get(self, module_id):
        """Show a module: title, objectives, core components and linked practices (ETag, If-None-Match)."""
        return repo.get_module(request_uow().session, module_id, principal())

    @require(*repo.CURATORS)
    @blp.etag
    @blp.arguments(ModuleUpdateSchema)
    @blp.response(200, ModuleSchema)
    def patch(self, data, module_id):
        """Change a module; send the ETag you read as If-Match."""
        uow = request_uow()
        module = repo.get_module(uow.session, module_id, principal())
        blp.check_etag(module, ModuleSchema)
        return use_cases.update_module(module, data, uow, principal())


@blp.route("/practices")
class Practices(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PracticePage)
    def get(self, args):
        """List the six PITC program practices with their definitions."""
        page = paginate(
            request_uow().session,
            lists.practices(),
            order_by=[Practice.position, Practice.code],
            args=args,
            config=context().config,
        )
        return page, 200, link_header(page)


@blp.route("/practices/<code>")
class PracticeItem(MethodView):
    @require()
    @blp.response(200, PracticeSchema)
    def get(self, code):
        """Show one practice."""
        practice = request_uow().session.get(Practice, code)
        if practice is None:
            raise NotFound("No practice with this code.")
        return practice
