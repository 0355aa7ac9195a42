"""Property-based fuzzing of a service from its own OpenAPI document (schemathesis, in process).

Besides the requests schemathesis generates from the document, each JSON body is sent again with one of
its top-level text fields replaced by text every service refuses (a lone surrogate, a control or a
bidi-control character) or must at least survive (blank, padded, multi-line, astral), and one of its
whole-number fields by what a lenient parser would coerce ("5", 5.5, 100.0, true); and once nested far
deeper than any schema reads.
"""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Text no field may accept: each must be refused, whatever else the body holds.
REFUSED_TEXT = {
    "lone surrogate": "Spring \ud800 cohort",
    "C0 control": "Spring\x07cohort",
    "escape": "Spring\x1b[31mcohort",
    "C1 control": "Spring\x85cohort",
    "bidi override": "Spring \u202eevil",
    "bidi isolate": "Spring \u2066evil\u2069",
    "vertical tab": "Spring\x0bcohort",
}
# Text that must never fail the service, though a field may accept it (an optional note left blank).
ODD_TEXT = {
    "whitespace only": " \t ",
    "zero-width only": "\u200b\u200d",
    "padded": "  Spring cohort  ",
    "astral": "Spring \U0001f331",
    "line breaks": "Spring\r\ncohort\n",  # refused in one-line fields, kept in multi-line ones
}
# Whole numbers sent as what a lenient parser would coerce: every integer field is strict.
NOT_WHOLE_NUMBERS = {"string": "5", "fraction": 5.5, "float": 100.0, "boolean": True}
DEEP = 5_000


# What a response must agree with in the document: its status, media type, headers and body schema.
RESPONSE_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def contract_breaches(case, response, headers: dict | None = None) -> list[str]:
    """How ``response`` breaks the operation's documented responses (none: it keeps the contract)."""
    from schemathesis import checks

    try:
        case.validate_response(response, headers=headers, checks=[getattr(checks, name) for name in RESPONSE_CHECKS])
    except (AssertionError, BaseExceptionGroup) as error:  # a schemathesis Failure, or a group of them
        found = list(getattr(error, "exceptions", None) or [error])
        return [
            f"{case.method} {case.formatted_path} -> {response.status_code}: "
            f"{getattr(failure, 'title', type(failure).__name__)}: {str(failure)[:400]}"
            for failure in found
        ]
    return []


def fuzz_openapi(
    app,
    *,
    reader_headers: dict,
    writer_headers: dict,
    max_examples: int = 15,
    path_values: dict[str, str] | None = None,
    under: str | None = None,
) -> list[str]:
    """Send generated requests to every operation; return what answered 5xx, a non-problem error, or broke
    the document (an undocumented status, media type or header, or a body its schema does not allow), and
    what accepted input every service refuses.

    ``path_values`` puts real ids in the named path parameters, so that bodies and queries reach past the
    404 of an unknown id; ``under`` keeps the operations whose path starts with it.
    """
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    client = app.test_client()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if under is not None and not operation.path.startswith(under):
            continue
        writer = operation.method.upper() in ("POST", "PATCH", "PUT", "DELETE")
        headers = writer_headers if writer else reader_headers
        sent_deep: set[str] = set()

        def check(case, response, *, what: str = "", must_refuse: bool = False) -> None:
            label = f"{case.method} {case.formatted_path}{' with ' + what if what else ''}"
            text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
            if response.status_code >= 500:
                failures.append(f"{label} -> {response.status_code}: {text[:300]}")
            content_type = response.headers.get("content-type") or ""
            content_type = (content_type if isinstance(content_type, str) else content_type[0]).split(";")[0]
            if response.status_code >= 400 and content_type != "application/problem+json":
                failures.append(f"{label} -> {response.status_code} as {content_type}")
            if must_refuse and response.status_code < 400:
                failures.append(f"{label} -> {response.status_code}: accepted")

        def send(case, raw: str):
            """``raw`` as the body of ``case``'s request, sent as written (schemathesis re-encodes bodies)."""
            return client.open(
                case.formatted_path,
                method=case.method,
                query_string=case.query,
                data=raw,
                headers={**headers, "Content-Type": "application/json"},
            )

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case, data):
            if path_values and case.path_parameters:
                case.path_parameters = {
                    name: path_values.get(name, value) for name, value in case.path_parameters.items()
                }
            response = case.call(headers=headers)
            check(case, response)
            failures.extend(contract_breaches(case, response, headers))
            if case.media_type != "application/json" or not isinstance(case.body, dict):
                return
            if operation.path not in sent_deep:
                sent_deep.add(operation.path)
                deep = send(case, "[" * DEEP + "]" * DEEP)
                if deep.status_code != 400 or deep.mimetype != "application/problem+json":
                    failures.append(
                        f"{case.method} {case.formatted_path} with {DEEP} levels of nesting -> "
                        f"{deep.status_code}: {deep.get_data(as_text=True)[:300]}"
                    )
            body = case.body
            texts = sorted(k for k, v in body.items() if isinstance(v, str))
            numbers = sorted(k for k, v in body.items() if type(v) is int)
            if texts:
                field = data.draw(st.sampled_from(texts))
                kind = data.draw(st.sampled_from(sorted(REFUSED_TEXT) + sorted(ODD_TEXT)))
                value = REFUSED_TEXT.get(kind, ODD_TEXT.get(kind))
                check(
                    case,
                    send(case, json.dumps({**body, field: value})),
                    what=f"{kind} text in {field}",
                    must_refuse=kind in REFUSED_TEXT,
                )
            if numbers:
                field = data.draw(st.sampled_from(numbers))
                kind = data.draw(st.sampled_from(sorted(NOT_WHOLE_NUMBERS)))
                check(
                    case,
                    send(case, json.dumps({**body, field: NOT_WHOLE_NUMBERS[kind]})),
                    what=f"a {kind} for whole number {field}",
                    must_refuse=True,
                )

        exercise()
    return failures
