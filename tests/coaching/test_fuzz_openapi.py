"""Property-based fuzzing of the coaching API from its own OpenAPI document: no input yields a 500."""

import pytest

from services.coaching.app import create_app
from shared.testing.fuzz import fuzz_openapi


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_makes_the_api_fail(coaching_ctx, tokens, database):
    failures = fuzz_openapi(
        create_app(coaching_ctx),
        reader_headers=tokens.headers("specialist", "CA"),
        writer_headers=tokens.headers("jurisdiction_admin", "CA"),
    )
    assert failures == []
