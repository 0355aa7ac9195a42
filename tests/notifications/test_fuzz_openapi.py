"""Property-based fuzzing of the notifications API from its own OpenAPI document: no input yields a 500."""

import pytest

from services.notifications.app import create_app
from shared.testing.fuzz import fuzz_openapi


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_makes_the_api_fail(notifications_ctx, tokens, database):
    failures = fuzz_openapi(
        create_app(notifications_ctx),
        reader_headers=tokens.headers("jurisdiction_admin", "CA"),
        writer_headers=tokens.headers("jurisdiction_admin", "CA"),
    )
    assert failures == []
