"""Consumed event type -> use case. Queue names derive from the handler names (see shared topology)."""

from __future__ import annotations

from services.scheduling.models import CurrentMaterial, SeriesTitle
from shared.envelope import Envelope


def attach_material_version(event: Envelope, uow) -> None:
    """Remember the published version of a material so each session of its module shows it.

    The event also names the series, which certificates print.
    """
    data = event.data
    if data.get("series_title"):
        series = uow.session.get(SeriesTitle, data["series_id"])
        if series is None or series.announced_at <= event.time:
            series = series or SeriesTitle(series_id=data["series_id"])
            series.title, series.announced_at = data["series_title"], event.time
            uow.session.add(series)
    row = uow.session.get(CurrentMaterial, data["material_id"])
    if row is not None and row.version >= data["version"]:
        return  # an older announcement arriving late never replaces a newer version
    row = row or CurrentMaterial(material_id=data["material_id"])
    row.module_id, row.kind, row.title, row.version = data["module_id"], data["kind"], data["title"], data["version"]
    row.media_type, row.url, row.sha256 = data.get("media_type"), data.get("url"), data.get("sha256")
    row.tenant = None if data["national"] else event.tenant
    row.published_at = event.time
    uow.session.add(row)


def keep_community(event: Envelope, uow) -> None:
    """Keep a community's title, zone and members from content's events, so its calls know whom to invite."""
    from services.scheduling.use_cases import communities

    if event.type in ("content.community.convened", "content.community.updated"):
        communities.record_community(uow.session, event.data, event.time)
    else:
        joined = event.type == "content.community.member_joined"
        communities.record_membership(uow.session, event.data, event.time, joined=joined)


HANDLERS = {"attach_material_version": attach_material_version, "keep_community": keep_community}
