"""Property-based fuzzing of the scheduling API from its own OpenAPI document: no input yields a 500."""

import pytest

from services.scheduling.app import create_app
from shared.testing.fuzz import fuzz_openapi


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_no_generated_request_makes_the_api_fail(scheduling_ctx, tokens, database):
    failures = fuzz_openapi(
        create_app(scheduling_ctx),
        reader_headers=tokens.headers("jurisdiction_admin", "CA"),
        writer_headers=tokens.headers("jurisdiction_admin", "CA"),
        max_examples=10,
    )
    assert failures == []
