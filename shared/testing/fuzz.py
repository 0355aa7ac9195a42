"""Property-based fuzzing of a service from its own OpenAPI document (schemathesis, in process)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings


# What a response must agree with in the document: its status, media type, headers and body schema.
RESPONSE_CHECKS = ("status_code_conformance", "content_type_conformance", "response_headers_conformance",
                   "response_schema_conformance")


def contract_breaches(case, response, headers: dict | None = None) -> list[str]:
    """How ``response`` breaks the operation's documented responses (none: it keeps the contract)."""
    from schemathesis import checks

    try:
        case.validate_response(response, headers=headers,
                               checks=[getattr(checks, name) for name in RESPONSE_CHECKS])
    except (AssertionError, BaseExceptionGroup) as error:  # a schemathesis Failure, or a group of them
        found = list(getattr(error, "exceptions", None) or [error])
        return [f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{getattr(failure, 'title', type(failure).__name__)}: {str(failure)[:400]}" for failure in found]
    return []


def fuzz_openapi(app, *, reader_headers: dict, writer_headers: dict, max_examples: int = 15) -> list[str]:
    """Send generated requests to every operation; return what answered 5xx, a non-problem error, or broke
    the document (an undocumented status, media type or header, or a body its schema does not allow)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        writer = operation.method.upper() in ("POST", "PATCH", "PUT", "DELETE")
        headers = writer_headers if writer else reader_headers

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")
            content_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
            if response.status_code >= 400 and content_type != "application/problem+json":
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} as {content_type}")
            failures.extend(contract_breaches(case, response, headers))

        exercise()
    return failures
