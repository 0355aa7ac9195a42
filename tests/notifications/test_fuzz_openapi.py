"""Property-based fuzzing of the notifications API from its own OpenAPI document: no input yields a 500."""

import pytest
import schemathesis
from hypothesis import strategies as st

from services.notifications.app import create_app
from shared.testing.fuzz import fuzz_openapi
from tests.notifications.delivery_reports import OUT_OF_OFFICE, exchange_report, postfix_report

# POST /delivery-reports takes an e-mail as received: real reports (of messages this service never sent,
# and cut short), other mail, and any bytes at all.
REPORTS = [postfix_report("<fuzz@t4t>", "ana@example.org"), exchange_report("<fuzz-2@t4t>", "ben@example.org")]
schemathesis.openapi.media_type(
    "message/rfc822",
    st.one_of(
        st.sampled_from([*REPORTS, OUT_OF_OFFICE]),
        st.sampled_from(REPORTS).flatmap(lambda r: st.integers(0, len(r)).map(lambda n: r[:n])),
        st.binary(max_size=4000),
    ),
)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_no_generated_request_makes_the_api_fail(notifications_ctx, tokens, database):
    failures = fuzz_openapi(
        create_app(notifications_ctx),
        reader_headers=tokens.headers("jurisdiction_admin", "CA"),
        writer_headers=tokens.headers("jurisdiction_admin", "CA"),
    )
    assert failures == []
