"""Content's use cases for materials: create, change, add a file or link version, publish; each commits once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import filetype

from services.content import events
from services.content import repository as repo
from services.content.domain import materials as rules
from services.content.models import Material, MaterialVersion
from services.content.storage import FileStorage, TooLarge
from shared.auth import Principal
from shared.db import DbSession, IntegrityError, UnitOfWork, lock_row, utcnow
from shared.errors import Conflict, InvalidInput, NotFound

SNIFF_BYTES = 8192  # as much as filetype ever looks at


@dataclass(frozen=True)
class IncomingFile:
    """A file part as the HTTP layer received it, not read yet."""

    filename: str | None
    media_type: str | None
    stream: BinaryIO


class _Rewound:
    """``stream`` with its already-read ``head`` put back in front, for streams that cannot seek."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < SNIFF_BYTES and (chunk := stream.read(SNIFF_BYTES - len(head))):
        head += chunk
    return head


def get_version(session: DbSession, material: Material, number: int, who: Principal) -> MaterialVersion:
    """Version ``number`` of a material the caller can see; only the published one for non-curators."""
    # Bounded first: a number past the latest cannot exist, and PostgreSQL refuses one past its INTEGER.
    if 1 <= number <= material.latest_version and rules.readable_version(
        number, published=material.published_version, sees_drafts=repo.sees_drafts(who)
    ):
        row = repo.material_version(session, material.id, number)
        if row is not None:
            return row
    raise NotFound("No version with this number.")


def create_material(data: dict, uow: UnitOfWork, who: Principal) -> Material:
    owner = repo.curriculum_owner(who)
    try:
        module = repo.get_module(uow.session, data["module_id"], who)
    except NotFound:
        raise InvalidInput("No module with this id.", errors={"module_id": ["No module with this id."]}) from None
    if not rules.may_attach(material_tenant=owner, module_tenant=module.tenant):
        raise InvalidInput(
            "National materials belong on national modules.", errors={"module_id": ["Not a national module."]}
        )
    material = Material(tenant=owner, status=rules.DRAFT, latest_version=0, created_by=who.sub, **data)
    uow.session.add(material)
    uow.commit()
    return material


def update_material(material: Material, data: dict, uow: UnitOfWork, who: Principal) -> Material:
    repo.ensure_curator(material, who)
    for name, value in data.items():
        setattr(material, name, value)
    uow.commit()
    return material


def add_file_version(
    material: Material,
    incoming: IncomingFile,
    note: str,
    uow: UnitOfWork,
    who: Principal,
    *,
    storage: FileStorage,
    max_bytes: int,
) -> MaterialVersion:
    """Check the file's declared and real type, stream it to storage within ``max_bytes``, record version n+1."""
    repo.ensure_curator(material, who)
    head = _read_head(incoming.stream)
    # Sniffed before anything is stored, so a refused file leaves nothing behind.
    media_type = rules.check_file_type(material.kind, incoming.media_type, filetype.guess_mime(head))
    try:
        stored = storage.save(_Rewound(head, incoming.stream), max_bytes)
    except TooLarge:
        raise rules.FileTooLarge(
            f"The file is larger than the limit of {max_bytes} bytes.", errors={"file": [f"At most {max_bytes} bytes."]}
        ) from None
    return _add_version(
        material,
        uow,
        who,
        note=note,
        media_type=media_type,
        size=stored.size,
        sha256=stored.sha256,
        filename_given=incoming.filename,
    )


def add_link_version(material: Material, data: dict, uow: UnitOfWork, who: Principal) -> MaterialVersion:
    """Record version n+1 of a video link: its URL (already validated as http(s) by the schema)."""
    repo.ensure_curator(material, who)
    rules.check_source(material.kind, rules.URL)
    return _add_version(material, uow, who, note=data.get("note", ""), url=data["url"])


def _add_version(
    material: Material, uow: UnitOfWork, who: Principal, *, note: str, filename_given: str | None = None, **recorded
) -> MaterialVersion:
    lock_row(uow.session, material)  # concurrent versions and publishes queue up
    number = rules.next_version(material.latest_version)
    filename = None
    if recorded.get("media_type"):
        filename = rules.clean_filename(filename_given, number=number, media_type=recorded["media_type"])
    version = MaterialVersion(
        material_id=material.id, number=number, filename=filename, note=note, created_by=who.sub, **recorded
    )
    material.latest_version = number
    uow.session.add(version)
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict("Another version was added at the same moment; send yours again.") from None
    uow.commit()
    return version


def publish(material: Material, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> Material:
    """Make a version (the latest by default) the one readers get, and announce it in the same transaction."""
    repo.ensure_curator(material, who)
    lock_row(uow.session, material)  # concurrent versions and publishes queue up
    number = rules.version_to_publish(
        latest=material.latest_version, published=material.published_version, requested=data.get("version")
    )
    version = repo.material_version(uow.session, material.id, number)
    assert version is not None  # versions are never deleted, and ``number`` is at most the latest
    material.published_version = number
    material.published_at = utcnow()
    material.status = rules.PUBLISHED
    events.material_published(uow.session, material, version, by=who.sub, correlationid=correlationid)
    uow.commit()
    return material
