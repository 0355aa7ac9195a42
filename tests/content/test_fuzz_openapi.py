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
