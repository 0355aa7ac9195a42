"""Property-based fuzzing of the content API from its own OpenAPI document: no input yields a 500."""

import pytest

from services.content.app import create_app
from shared.testing.fuzz import fuzz_openapi


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_makes_the_api_fail(content_ctx, tokens, database):
    failures = fuzz_openapi(
        create_app(content_ctx),
        reader_headers=tokens.headers("facilitator", "CA"),
        writer_headers=tokens.headers("national_admin", "US"),
    )
    assert failures == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_inside_a_real_community_makes_the_api_fail(client, content_ctx, tokens, database):
    """The same, with the ids of a real community, thread, document… in the paths, and a member reading."""
    from tests.content.communities import CA_MEMBER, build_story
    from tests.helpers import auth

    story = build_story(client, tokens, content_ctx)
    failures = fuzz_openapi(
        create_app(content_ctx),
        reader_headers=auth(tokens, CA_MEMBER),
        writer_headers=tokens.headers("national_admin", "US", sub="staff-rosa"),
        under="/communities/{community_id}",
        path_values={
            "community_id": story.id,
            "thread_id": story.thread["id"],
            "document_id": story.document["id"],
            "item_id": story.work_item["id"],
            "product_id": story.product["id"],
            "synthesis_id": story.synthesis["id"],
            "sub": "expert-eli",  # removing her leaves the reader (ca-ana) in
            "jurisdiction": "CA",
        },
    )
    assert failures == []
