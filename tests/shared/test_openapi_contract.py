"""The OpenAPI documents are the contract: one problem model, every status, header and media type an
operation serves, schemas that the responses keep, and a README-like flow checked against them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
import requests

from shared.http.problems import PROBLEM_SCHEMA, PROBLEM_TYPE_BASE
from shared.testing.contract import Contract, serving
from tests.conftest import config_overrides, migrated_context

PROBLEM = "application/problem+json"
SERVICES = ("content", "scheduling", "coaching")
PORTS = {"content": 8001, "scheduling": 8002, "coaching": 8003}


def build_app(service: str, tmp_path, signing_key_file, **config):
    """A service's app on its own migrated, seeded SQLite database (the flow needs both at once)."""
    folder = tmp_path / service
    folder.mkdir()
    database = {"url": f"sqlite:///{folder / 'service.db'}", "schema": "main"}
    broker = {"url": "filesystem://", "folder": str(folder / "broker"), "namespace": ""}
    overrides = {**config_overrides(database, broker, signing_key_file, folder), **config}
    if service == "content":
        from services.content.app import create_app
        from services.content.config import ContentConfig

        ctx = migrated_context("content", ContentConfig, dict(storage_dir=str(folder / "files"), **overrides))
    elif service == "coaching":
        from services.coaching.app import create_app
        from services.coaching.config import CoachingConfig

        ctx = migrated_context("coaching", CoachingConfig, overrides)
    else:
        from services.scheduling.app import create_app
        from services.scheduling.config import SchedulingConfig

        ctx = migrated_context("scheduling", SchedulingConfig, overrides)
    app = create_app(ctx)
    app.config["TESTING"] = True
    return app, ctx


@pytest.fixture(params=SERVICES)
def service(request, tmp_path, signing_key_file):
    app, ctx = build_app(request.param, tmp_path, signing_key_file)
    yield request.param, app
    ctx.db.dispose()


def document(app) -> dict:
    return app.test_client().get("/openapi.json").json


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


# --- 1. one problem model ------------------------------------------------------------------------


def test_every_error_is_documented_as_the_one_problem_component(service):
    name, app = service
    spec = document(app)
    schemas = spec["components"]["schemas"]
    assert "Error" not in schemas  # flask-smorest's {code, message}: no response of ours has that shape
    assert set(schemas["Problem"]["properties"]) >= {
        "type",
        "title",
        "status",
        "detail",
        "errors",
        "conflicts",
        "correlationid",
    }
    errors = 0
    for path, method, operation in operations(spec):
        assert "default" not in operation["responses"], f"{method} {path}: list the statuses instead"
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            errors += 1
            response = resolve(spec, response)
            media = list(response["content"])  # a page for browsers (text/html) may come with it
            assert media[0] == PROBLEM and not any("json" in m for m in media[1:]), f"{method} {path} {status}"
            assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
            for example in response["content"][PROBLEM]["examples"].values():
                jsonschema.validate(example["value"], schemas["Problem"])
                assert example["value"]["status"] == int(status)
    assert errors > 100


def test_problems_carry_stable_types_and_about_blank_keeps_the_status_phrase(client, tokens):
    admin = tokens.headers("jurisdiction_admin", "CA")
    series = {"slug": "state-orientation", "title": "State orientation"}

    def problem(response, status: int, kind: str | None) -> dict:
        assert response.status_code == status and response.mimetype == PROBLEM, response.get_data(as_text=True)
        body = response.json
        jsonschema.validate(body, PROBLEM_SCHEMA)
        assert body["type"] == (PROBLEM_TYPE_BASE + kind if kind else "about:blank"), body
        return body

    assert problem(client.post("/series", json={**series, "title": 5}, headers=admin), 422, "validation")["errors"] == {
        "title": ["Not a valid string."]
    }
    assert (
        problem(
            client.post("/series", data="{", headers={**admin, "Content-Type": "application/json"}),
            400,
            "malformed-json",
        )["title"]
        == "Malformed JSON"
    )
    body = problem(client.post("/series", data="x", headers={**admin, "Content-Type": "text/plain"}), 415, None)
    assert body["title"] == "Unsupported Media Type"
    assert problem(client.get("/series/nope", headers=admin), 404, None)["title"] == "Not Found"
    assert problem(client.get("/series"), 401, None)["title"] == "Unauthorized"
    assert (
        problem(client.post("/series", json=series, headers=tokens.headers("facilitator", "CA")), 403, None)["title"]
        == "Forbidden"
    )

    keyed = {**admin, "Idempotency-Key": "orientation-1"}
    created = client.post("/series", json=series, headers=keyed)
    assert created.status_code == 201
    problem(client.post("/series", json={**series, "title": "Other"}, headers=keyed), 422, "idempotency-key-reused")
    problem(client.post("/series", json={**series, "description": "again"}, headers=admin), 409, "conflict")

    item = f"/series/{created.json['id']}"
    problem(client.patch(item, json={"title": "New"}, headers=admin), 428, "etag-required")
    stale = problem(
        client.patch(item, json={"title": "New"}, headers={**admin, "If-Match": '"stale"'}), 412, "stale-etag"
    )
    assert "ETag" in stale["detail"]


# --- 2. every status, header, media type, role and limit ------------------------------------------


def test_each_operation_declares_what_its_view_can_answer(service):
    name, app = service
    spec = document(app)
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids)) and all(ids)
    # Every service has a public URL (<SERVICE>_PUBLIC_URL), by default its local port.
    assert spec["servers"] == [{"url": f"http://127.0.0.1:{PORTS[name]}"}]
    for path, method, operation in operations(spec):
        label = f"{method.upper()} {path}"
        statuses = set(operation["responses"])
        parameters = [resolve(spec, p) for p in operation.get("parameters", [])]
        names = {p["name"] for p in parameters}
        public = operation.get("security") == []
        assert ("x-roles" in operation) != public, label
        if not public:
            assert {"401", "403"} <= statuses, label
            assert "Allowed to" in operation["description"], label
            # Credentials that cannot be checked just now (identity provider or jurisdictions unreadable).
            assert "503" in statuses, label
            assert "Retry-After" in resolve(spec, operation["responses"]["503"]).get("headers", {}), label
        if "{" in path:
            assert "404" in statuses, label
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= statuses, label
        if "If-Match" in names:
            assert {"412", "428"} <= statuses, label
        if any(p["in"] == "query" for p in parameters):
            assert "422" in statuses, label
        for status, response in operation["responses"].items():
            headers = resolve(spec, response).get("headers", {})
            assert "X-Correlation-ID" in headers, f"{label} {status}"
            if status.startswith("2") and "Idempotency-Key" in names:
                assert {"400", "409", "422"} <= statuses and "Idempotent-Replayed" in headers, label
            if status.startswith("2") and "cursor" in names:
                assert "Link" in headers, label


def test_roles_token_claims_and_media_types_are_documented(service):
    name, app = service
    spec = document(app)
    bearer = spec["components"]["securitySchemes"]["bearer"]["description"]
    for claim in ("`iss`", "`aud`", "`exp`", "`sub`", "`tenant`", "`roles`", "`facilitator`"):
        assert claim in bearer
    assert "X-API-Key" == spec["components"]["securitySchemes"]["apiKey"]["name"]
    paths = spec["paths"]
    if name == "content":
        assert paths["/series"]["post"]["x-roles"] == ["national_admin", "jurisdiction_admin"]
        assert paths["/series"]["get"]["x-roles"] == []
        return
    if name == "coaching":
        assert paths["/activities"]["post"]["x-roles"] == ["specialist", "coach"]
        assert paths["/consent"]["put"]["x-roles"] == ["jurisdiction_admin"]
        for path in ("/reports/summary", "/reports/activities", "/reports/national"):
            assert "text/csv" in paths[path]["get"]["responses"]["200"]["content"], path
        return
    assert paths["/cohorts"]["post"]["x-roles"] == ["jurisdiction_admin", "agency_coordinator"]
    assert paths["/jurisdictions"]["post"]["x-roles"] == ["national_admin"]
    assert "text/calendar" in paths["/calendars/{token}.ics"]["get"]["responses"]["200"]["content"]
    hours = paths["/training-hours"]["get"]["responses"]["200"]
    assert "text/csv" in hours["content"] and "`=`, `+`, `-`, `@`" in hours["description"]
    assert (
        "application/pdf"
        in paths["/registrations/{registration_id}/certificate.pdf"]["get"]["responses"]["200"]["content"]
    )


def test_scheduling_limits_and_daylight_saving_are_documented(tmp_path, signing_key_file):
    from services.scheduling.domain.recurrence import HORIZON_TEXT, MAX_COUNT
    from services.scheduling.domain.registrations import MAX_ROSTER_ROWS

    app, ctx = build_app("scheduling", tmp_path, signing_key_file)
    schemas = document(app)["components"]["schemas"]
    ctx.db.dispose()
    series = schemas["RecurringSeries"]["properties"]
    assert f"at most {MAX_COUNT}" in series["rrule"]["description"]
    assert f"within {HORIZON_TEXT}" in series["rrule"]["description"]
    assert "daylight-saving" in series["local_start"]["description"]
    assert "02:30 becomes 03:30" in series["local_start"]["description"]
    assert f"At most {MAX_ROSTER_ROWS} rows" in schemas["RosterUpload"]["properties"]["file"]["description"]


def test_servers_name_the_configured_public_url(tmp_path, signing_key_file):
    app, ctx = build_app("scheduling", tmp_path, signing_key_file, public_base_url="https://t4t.example.gov/api")
    assert document(app)["servers"] == [{"url": "https://t4t.example.gov/api"}]
    ctx.db.dispose()


# --- 3. the schemas say what the responses are ---------------------------------------------------


def test_declared_schemas_agree_with_what_is_served(tmp_path, signing_key_file):
    app, ctx = build_app("scheduling", tmp_path, signing_key_file)
    schemas = document(app)["components"]["schemas"]
    ctx.db.dispose()
    assert set(schemas["Jurisdiction"]["properties"]["kind"]["enum"]) == {"state", "territory", "tribe"}
    assert schemas["NewJurisdiction"]["properties"]["kind"]["enum"] == ["tribe"]
    local_start = schemas["RecurringSeries"]["properties"]["local_start"]
    assert "format" not in local_start and local_start["pattern"].startswith("^")
    assert local_start.get("example") and jsonschema.Draft7Validator(local_start).is_valid(local_start["example"])
    assert not jsonschema.Draft7Validator(local_start).is_valid("2026-10-27T10:00:00-07:00")
    capacity, cohort = schemas["Capacity"]["properties"]["capacity"], schemas["Cohort"]["properties"]["capacity"]
    assert (capacity["minimum"], capacity["maximum"]) == (cohort["minimum"], cohort["maximum"])


# --- 4. a README-like flow, every response checked against the document ---------------------------


def test_the_walkthrough_keeps_the_contract_of_both_services(tmp_path, signing_key_file, tokens):
    content_app, content_ctx = build_app("content", tmp_path, signing_key_file)
    scheduling_app, scheduling_ctx = build_app("scheduling", tmp_path, signing_key_file)
    admin, coord = tokens.headers("jurisdiction_admin", "CA"), tokens.headers("agency_coordinator", "CA")
    national, fac = tokens.headers("national_admin", "US"), tokens.headers("facilitator", "CA")
    ana, specialist = tokens.headers("participant", "CA"), tokens.headers("specialist", "CA")
    http = requests.Session()
    try:
        with serving(content_app) as content, serving(scheduling_app) as api:
            c = Contract(http.get(f"{content}/openapi.json").json())
            s = Contract(http.get(f"{api}/openapi.json").json())

            def call(contract, method, url, status, headers=None, **kwargs):
                response = contract.check(http.request(method, url, headers=headers or {}, timeout=10, **kwargs))
                assert response.status_code == status, (method, url, response.status_code, response.text[:500])
                return response

            # The curriculum, and the content service's own conventions.
            listed = call(c, "GET", f"{content}/series", 200, coord).json()["items"]
            series = next(s["id"] for s in listed if s["slug"] == "relationship-based-care-infants-toddlers")
            modules = call(c, "GET", f"{content}/series/{series}/modules", 200, coord).json()["items"]
            call(c, "GET", f"{content}/practices", 200, fac)
            call(c, "GET", f"{content}/series", 401)
            call(c, "POST", f"{content}/series", 415, {**admin, "Content-Type": "text/plain"}, data="x")
            local = {"slug": "ca-orientation", "title": "California orientation"}
            call(c, "POST", f"{content}/series", 422, admin, json={**local, "colour": "red"})
            call(c, "POST", f"{content}/series", 403, fac, json=local)
            key = {**admin, "Idempotency-Key": "ca-orientation"}
            made = call(c, "POST", f"{content}/series", 201, key, json=local)
            again = call(c, "POST", f"{content}/series", 201, key, json=local)
            assert again.headers["Idempotent-Replayed"] == "true" and again.json() == made.json()
            item = f"{content}/series/{made.json()['id']}"
            call(c, "PATCH", item, 428, admin, json={"title": "Orientation"})
            call(c, "PATCH", item, 412, {**admin, "If-Match": '"old"'}, json={"title": "Orientation"})
            etag = call(c, "GET", item, 200, admin).headers["ETag"]
            call(c, "PATCH", item, 200, {**admin, "If-Match": etag}, json={"title": "Orientation"})
            call(c, "GET", f"{content}/series/no-such-series", 404, admin)

            # Scheduling: jurisdictions, agency, request, approval, cohort.
            call(s, "GET", f"{api}/jurisdictions", 200, admin, params={"limit": 100})
            call(s, "GET", f"{api}/jurisdictions/CA", 200, admin)
            agency = call(
                s,
                "POST",
                f"{api}/agencies",
                201,
                admin,
                json={
                    "name": "Bay Area Child Care Council",
                    "email": "training@example.org",
                    "coordinators": ["agency_coordinator-ca"],
                },
            ).json()["id"]
            request_id = call(
                s,
                "POST",
                f"{api}/requests",
                201,
                coord,
                json={
                    "series_id": series,
                    "host_agency_id": agency,
                    "format": "virtual",
                    "expected_participants": 20,
                    "preferred_windows": [{"starts_on": "2027-01-11", "ends_on": "2027-03-19"}],
                },
            ).json()["id"]
            call(s, "GET", f"{api}/requests/{request_id}", 200, coord)
            cohort = call(
                s,
                "POST",
                f"{api}/requests/{request_id}/approve",
                200,
                national,
                json={
                    "title": "Relationship-Based Care, Bay Area",
                    "capacity": 20,
                    "facilitators": ["facilitator-ca"],
                    "completion_minimum": 2,
                },
            ).json()["cohort_id"]
            call(s, "GET", f"{api}/cohorts/{cohort}", 200, coord)
            call(s, "PATCH", f"{api}/cohorts/{cohort}", 428, coord, json={"title": "Bay Area"})

            # Sessions (in the past, so attendance can be taken), and a double booking.
            first = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0) - timedelta(days=5)
            bodies = [
                {
                    "module_id": module["id"],
                    "module_position": module["position"],
                    "title": module["title"],
                    "starts_at": (first + timedelta(days=n)).isoformat(),
                    "ends_at": (first + timedelta(days=n, hours=2)).isoformat(),
                    "meeting_url": "https://meet.example.org/bay-area",
                }
                for n, module in enumerate(modules[:2])
            ]
            for body in bodies:
                call(s, "POST", f"{api}/cohorts/{cohort}/sessions", 201, coord, json=body)
            clash = call(s, "POST", f"{api}/cohorts/{cohort}/sessions", 409, coord, json=bodies[0]).json()
            assert clash["type"] == PROBLEM_TYPE_BASE + "conflict" and clash["conflicts"]
            sessions = call(
                s, "GET", f"{api}/cohorts/{cohort}/sessions", 200, fac, params={"viewer_time_zone": "America/New_York"}
            ).json()["items"]
            call(s, "GET", f"{api}/sessions", 200, admin, params={"limit": 1})

            # Registrations, a roster, capacity.
            mine = call(
                s,
                "POST",
                f"{api}/cohorts/{cohort}/registrations",
                201,
                ana,
                json={"name": "Ana López", "email": "ana.lopez@example.org", "registry_id": "CA-100234"},
            ).json()["id"]
            call(
                s,
                "POST",
                f"{api}/cohorts/{cohort}/registrations",
                201,
                coord,
                json={"participant": "ben-cho", "name": "Ben Cho", "email": "ben.cho@example.org"},
            )
            roster = (
                "participant_id,name,email,registry_id\r\ncarla-ruiz,Carla Ruiz,carla.ruiz@example.org,"
                "-101502\r\ndee-tran,Dee Tran,not-an-email,\r\n"
            )
            report = call(
                s,
                "POST",
                f"{api}/cohorts/{cohort}/roster",
                200,
                coord,
                files={"file": ("roster.csv", roster, "text/csv")},
            ).json()
            assert report["registered"] == 1 and len(report["rejected"]) == 1
            call(s, "GET", f"{api}/cohorts/{cohort}/capacity", 200, coord)
            call(s, "PUT", f"{api}/cohorts/{cohort}/capacity", 200, coord, json={"capacity": 25})
            call(s, "GET", f"{api}/me/registrations", 200, ana)

            # A private calendar feed, served as text/calendar.
            feed = call(s, "POST", f"{api}/calendar-feeds", 201, ana, json={"kind": "participant"}).json()
            path = "/" + feed["url"].split("/", 3)[3]
            assert call(s, "GET", f"{api}{path}", 200).headers["Content-Type"].startswith("text/calendar")

            # Attendance, completions, the certificate and its public verification.
            for shown in sessions:
                sheet = call(s, "GET", f"{api}/sessions/{shown['id']}/attendance", 200, fac).json()
                call(
                    s,
                    "PUT",
                    f"{api}/sessions/{shown['id']}/attendance",
                    200,
                    fac,
                    json={
                        "records": [
                            {"registration_id": r["registration_id"], "status": "present"} for r in sheet["records"]
                        ]
                    },
                )
            marks = call(s, "GET", f"{api}/me/attendance", 200, ana, params={"cohort_id": cohort, "limit": 1})
            assert [m["status"] for m in marks.json()["items"]] == ["present"] and "Link" in marks.headers
            call(s, "GET", f"{api}/me/attendance", 422, ana, params={"limit": 0})
            call(s, "GET", f"{api}/me/attendance", 401)
            completions = call(s, "GET", f"{api}/cohorts/{cohort}/completions", 200, coord).json()["items"]
            code = next(c["certificate_code"] for c in completions if c["registration_id"] == mine)
            pdf = call(s, "GET", f"{api}/registrations/{mine}/certificate.pdf", 200, ana)
            assert pdf.content.startswith(b"%PDF")
            call(s, "GET", f"{api}/certificates/{code}", 200, headers={"Accept": "application/json"})
            call(s, "GET", f"{api}/certificates/{code}", 200, headers={"Accept": "text/html"})
            call(s, "GET", f"{api}/certificates/no-such-code", 404, headers={"Accept": "text/html"})
            call(s, "GET", f"{api}/certificates/no-such-code", 404, headers={"Accept": "application/json"})

            # The state registry: an API key, the hours as JSON and as CSV.
            secret = call(
                s,
                "POST",
                f"{api}/api-keys",
                201,
                admin,
                json={"name": "CA training registry", "roles": ["integration"]},
            ).json()["key"]
            registry = {"X-API-Key": secret}
            call(s, "GET", f"{api}/training-hours", 200, registry)
            csv = call(s, "GET", f"{api}/training-hours", 200, registry, params={"format": "csv"})
            assert csv.headers["Content-Type"].startswith("text/csv") and "'-101502" in csv.text

            # Office hours: a recurring series in local wall time, and its occurrences.
            office = call(
                s,
                "POST",
                f"{api}/recurring-series",
                201,
                specialist,
                json={
                    "kind": "office_hours",
                    "title": "Office hours",
                    "time_zone": "America/Los_Angeles",
                    "local_start": "2027-03-02T10:00:00",
                    "duration_minutes": 60,
                    "rrule": "FREQ=WEEKLY;COUNT=4",
                    "supported_facilitators": ["facilitator-ca"],
                    "slot_minutes": 30,
                },
            ).json()
            assert office["local_start"] == "2027-03-02T10:00:00"
            occurrences = call(s, "GET", f"{api}/recurring-series/{office['id']}/occurrences", 200, specialist).json()[
                "items"
            ]
            # 10:00 in Los Angeles before and after the change to daylight time on 14 March 2027.
            assert [o["starts_at"][11:16] for o in occurrences] == ["18:00", "18:00", "17:00", "17:00"]
    finally:
        content_ctx.db.dispose()
        scheduling_ctx.db.dispose()
