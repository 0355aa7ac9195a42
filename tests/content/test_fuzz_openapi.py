"""Property-based fuzzing of the content API from its own OpenAPI document: no input yields a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from services.content.app import create_app


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_makes_the_api_fail(content_ctx, tokens, database):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(content_ctx))
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        writer = operation.method.upper() in ("POST", "PATCH", "PUT", "DELETE")
        headers = tokens.headers("national_admin", "US") if writer else tokens.headers("facilitator", "CA")

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")
            content_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
            if response.status_code >= 400 and content_type != "application/problem+json":
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} as {content_type}")

        exercise()
    assert failures == []
