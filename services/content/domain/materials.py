"""Materials' rules: the files each kind accepts, numbered versions and the publishing lifecycle."""

from __future__ import annotations

import re
import unicodedata

from shared.errors import Conflict, DomainError, InvalidInput

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODP = "application/vnd.oasis.opendocument.presentation"
PNG = "image/png"
JPEG = "image/jpeg"

EXTENSIONS = {PDF: "pdf", DOCX: "docx", ODT: "odt", PPTX: "pptx", ODP: "odp", PNG: "png", JPEG: "jpg"}

VIDEO_LINK = "video_link"
FILE, URL = "file", "url"
DRAFT, PUBLISHED = "draft", "published"

_DOCUMENTS = frozenset({PDF, DOCX, ODT})
ACCEPTED_MEDIA_TYPES: dict[str, frozenset[str]] = {
    "slide_deck": frozenset({PDF, PPTX, ODP}),
    "facilitator_guide": _DOCUMENTS,
    "participant_worksheet": _DOCUMENTS,
    "learning_activity": _DOCUMENTS | {PPTX},
    "resource": _DOCUMENTS | {PPTX, PNG, JPEG},
    VIDEO_LINK: frozenset(),
}

# Names clients commonly declare for a type we record under its registered name.
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}
# Controls (C0, DEL, C1), bidi controls that disguise an extension ("invoice\u202efdp.exe" shows as
# "invoiceexe.pdf"), and what some file systems refuse.
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\"\\/:*?<>|]+")
MAX_FILENAME = 255


class UnsupportedMediaType(DomainError):
    """The body or file is not of a type this material accepts."""

    status, title = 415, "Unsupported Media Type"


class FileTooLarge(DomainError):
    """The file is larger than the configured upload limit."""

    status, title = 413, "Content Too Large"


def version_source(kind: str) -> str:
    """What a new version of ``kind`` is made of: a URL for video links, a file for every other kind."""
    return URL if kind == VIDEO_LINK else FILE


def check_source(kind: str, source: str) -> None:
    """Refuse a file for a video link, or a URL for a file kind."""
    if source == version_source(kind):
        return
    if kind == VIDEO_LINK:
        raise UnsupportedMediaType(
            'A video link\'s version is a URL: send {"url": ...} as application/json.',
            errors={"url": ["Required for a video link."]},
        )
    raise UnsupportedMediaType(
        f"A {kind}'s version is a file: send it as multipart/form-data in a 'file' part.",
        errors={"file": ["Required for this kind of material."]},
    )


def normalise_media_type(value: str | None) -> str:
    """``Application/PDF; charset=x`` -> ``application/pdf``; common aliases -> the registered name."""
    bare = (value or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def check_file_type(kind: str, declared: str | None, sniffed: str | None) -> str:
    """The media type to record for a file of ``kind``, declared by the client and sniffed from its bytes.

    Both must name the same accepted type: a mismatch is refused rather than trusted either way.

    Raises:
        UnsupportedMediaType: the kind takes no files, the content is not an accepted type, or the
            declared type is not what the content is.
    """
    check_source(kind, FILE)
    accepted = ACCEPTED_MEDIA_TYPES[kind]
    allowed = ", ".join(sorted(EXTENSIONS[t] for t in accepted))
    declared = normalise_media_type(declared)
    if sniffed not in accepted:
        what = f"is {sniffed}" if sniffed else "is not a recognised document or image"
        raise UnsupportedMediaType(
            f"A {kind} accepts {allowed}; this file's content {what}.", errors={"file": [f"Accepted types: {allowed}."]}
        )
    if declared != sniffed:
        raise UnsupportedMediaType(
            f"The file part declares {declared or 'no type'} but its content is {sniffed}.",
            errors={"file": [f"Declare the part's Content-Type as {sniffed}."]},
        )
    return sniffed


def clean_filename(name: str | None, *, number: int, media_type: str) -> str:
    """A download name safe for any client: no folders or control characters, bounded, never empty."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_FILENAME.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    extension = EXTENSIONS.get(media_type, "bin")
    if not base:
        base = f"version-{number}.{extension}"
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        if dot and stem and len(ext) <= 10:  # keep the extension: it is what opens the file
            base = f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}"
        else:
            base = base[:MAX_FILENAME]
    return base


def next_version(latest: int) -> int:
    """Versions are numbered 1, 2, … in the order they are added, and never reused."""
    return latest + 1


def version_to_publish(*, latest: int, published: int | None, requested: int | None) -> int:
    """The version a publish makes current: ``requested``, or the latest.

    A material goes from draft to published, then only forward: each publish names a version newer
    than the one published, so no version is published twice and readers never go back silently
    (to restore an old file, add it again as a new version).

    Raises:
        Conflict: there is no version yet, or the version is the published one or older.
        InvalidInput: the requested version does not exist.
    """
    if latest < 1:
        raise Conflict(
            "The material has no version to publish yet; add one first.", errors={"version": ["No versions yet."]}
        )
    number = latest if requested is None else requested
    if number < 1 or number > latest:
        raise InvalidInput(
            f"There is no version {number}; the latest is {latest}.",
            errors={"version": [f"Must be between 1 and {latest}."]},
        )
    if published is not None and number == published:
        raise Conflict(f"Version {number} is already published.", errors={"version": ["Already published."]})
    if published is not None and number < published:
        raise Conflict(
            f"Version {number} is older than the published version {published}.",
            errors={"version": [f"Publish a version newer than {published}."]},
        )
    return number


def may_attach(*, material_tenant: str | None, module_tenant: str | None) -> bool:
    """A national material belongs on a national module; a jurisdiction's on a national module or its own."""
    return module_tenant is None or module_tenant == material_tenant


def readable_version(number: int, *, published: int | None, sees_drafts: bool) -> bool:
    """Curators read every version; everyone else only the published one."""
    return sees_drafts or (published is not None and number == published)
