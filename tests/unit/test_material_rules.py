"""The material rules alone: accepted file types, version sources, numbering and publishing (no I/O)."""

from __future__ import annotations

import pytest

from services.content.domain import materials as rules
from shared.errors import Conflict, InvalidInput
from shared.events import MATERIAL_KINDS

DOCUMENTS = {rules.PDF, rules.DOCX, rules.ODT}


def test_every_material_kind_has_its_rules():
    assert set(rules.ACCEPTED_MEDIA_TYPES) == set(MATERIAL_KINDS)


@pytest.mark.parametrize(
    ("kind", "accepted"),
    [
        ("slide_deck", {rules.PDF, rules.PPTX, rules.ODP}),
        ("facilitator_guide", DOCUMENTS),
        ("participant_worksheet", DOCUMENTS),
        ("learning_activity", DOCUMENTS | {rules.PPTX}),
        ("resource", DOCUMENTS | {rules.PPTX, rules.PNG, rules.JPEG}),
        ("video_link", set()),
    ],
)
def test_accepted_types_per_kind(kind, accepted):
    assert rules.ACCEPTED_MEDIA_TYPES[kind] == accepted
    for media_type in accepted:
        assert rules.check_file_type(kind, media_type, media_type) == media_type
    for media_type in set(rules.EXTENSIONS) - accepted:
        with pytest.raises(rules.UnsupportedMediaType) as refused:
            rules.check_file_type(kind, media_type, media_type)
        assert refused.value.status == 415
        assert "file" in refused.value.errors or "url" in refused.value.errors


@pytest.mark.parametrize(
    ("declared", "sniffed"),
    [
        (rules.PDF, rules.PNG),  # an image posing as a PDF
        (rules.PDF, "application/x-msdownload"),  # an executable posing as a PDF
        (rules.PDF, None),  # content nobody recognises
        ("application/octet-stream", rules.PDF),  # the real type must be declared
        (None, rules.PDF),
        (rules.PPTX, rules.PDF),
    ],
)
def test_declared_and_real_type_must_agree(declared, sniffed):
    with pytest.raises(rules.UnsupportedMediaType) as refused:
        rules.check_file_type("resource", declared, sniffed)
    assert refused.value.errors["file"]


@pytest.mark.parametrize(
    ("declared", "recorded"),
    [
        ("Application/PDF; name=x.pdf", rules.PDF),
        ("image/jpg", rules.JPEG),
        (" image/jpeg ", rules.JPEG),
    ],
)
def test_declared_types_are_normalised(declared, recorded):
    assert rules.check_file_type("resource", declared, recorded) == recorded


def test_video_links_take_urls_and_other_kinds_take_files():
    assert rules.version_source("video_link") == rules.URL
    for kind in set(MATERIAL_KINDS) - {"video_link"}:
        assert rules.version_source(kind) == rules.FILE
        rules.check_source(kind, rules.FILE)
        with pytest.raises(rules.UnsupportedMediaType) as refused:
            rules.check_source(kind, rules.URL)
        assert "file" in refused.value.errors
    rules.check_source("video_link", rules.URL)
    with pytest.raises(rules.UnsupportedMediaType) as refused:
        rules.check_source("video_link", rules.FILE)
    assert "url" in refused.value.errors
    with pytest.raises(rules.UnsupportedMediaType):
        rules.check_file_type("video_link", rules.PDF, rules.PDF)


def test_versions_are_numbered_from_one():
    assert rules.next_version(0) == 1
    assert rules.next_version(7) == 8


@pytest.mark.parametrize(
    ("latest", "published", "requested", "number"),
    [
        (1, None, None, 1),  # draft -> published, the latest by default
        (3, None, 2, 2),  # any existing version may be the first published
        (3, 1, None, 3),  # later, a newer version
        (3, 1, 2, 2),
    ],
)
def test_publishable_versions(latest, published, requested, number):
    assert rules.version_to_publish(latest=latest, published=published, requested=requested) == number


@pytest.mark.parametrize(
    ("latest", "published", "requested", "error"),
    [
        (0, None, None, Conflict),  # nothing to publish yet
        (0, None, 1, Conflict),
        (2, 2, None, Conflict),  # the latest is already published
        (2, 2, 2, Conflict),  # a version is never published twice
        (3, 2, 1, Conflict),  # nor does a material go back to an older one
        (2, None, 3, InvalidInput),  # no such version
        (2, None, 0, InvalidInput),
    ],
)
def test_refused_publishes(latest, published, requested, error):
    with pytest.raises(error) as refused:
        rules.version_to_publish(latest=latest, published=published, requested=requested)
    assert "version" in refused.value.errors


@pytest.mark.parametrize(
    ("material_tenant", "module_tenant", "allowed"),
    [
        (None, None, True),  # national material on a national module
        (None, "CA", False),  # national materials stay on national modules
        ("CA", None, True),  # a jurisdiction adds to the national curriculum for its own people
        ("CA", "CA", True),
        ("CA", "TX", False),
    ],
)
def test_where_materials_may_be_attached(material_tenant, module_tenant, allowed):
    assert rules.may_attach(material_tenant=material_tenant, module_tenant=module_tenant) is allowed


def test_readers_see_only_the_published_version():
    assert rules.readable_version(2, published=2, sees_drafts=False)
    assert not rules.readable_version(1, published=2, sees_drafts=False)
    assert not rules.readable_version(1, published=None, sees_drafts=False)
    assert rules.readable_version(1, published=None, sees_drafts=True)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("deck.pdf", "deck.pdf"),
        ("C:\\Users\\me\\Session 1.pdf", "Session 1.pdf"),
        ("../../etc/passwd", "passwd"),
        ('bad"name\x00\n.pdf', "bad_name_.pdf"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),  # a bidi override would show it as invoiceexe.pdf
        ("deck\x85\u2066.pdf", "deck_.pdf"),
        ("", "version-3.pdf"),
        (None, "version-3.pdf"),
        ("...", "version-3.pdf"),
    ],
)
def test_filenames_are_made_safe(given, expected):
    assert rules.clean_filename(given, number=3, media_type=rules.PDF) == expected


def test_long_filenames_keep_their_extension():
    name = rules.clean_filename("a" * 400 + ".pptx", number=1, media_type=rules.PPTX)
    assert len(name) == rules.MAX_FILENAME and name.endswith(".pptx")
    assert len(rules.clean_filename("b" * 400, number=1, media_type=rules.PDF)) == rules.MAX_FILENAME
