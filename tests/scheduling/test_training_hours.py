"""Training hours for state registries over HTTP: JSON and CSV, registry ids, date and updated_since filters, roles."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.scheduling.models import Registration, TrainingSession
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
NATIONAL = ("national_admin", "US", "admin-us")


def auth(tokens, who) -> dict:
    role, tenant, sub = who
    return tokens.headers(role, tenant, sub=sub)


def arrange(
    client,
    ctx,
    tokens,
    *,
    tenant="CA",
    time_zone="America/Los_Angeles",
    completion_minimum=3,
    participants=(("ana-lopez", "REG-1001"), ("ben-cho", None)),
    attended: dict | None = None,
):
    """A cohort of nine past sessions; ``attended`` maps participant -> how many leading sessions they attend.

    By default the first participant attends all nine, the second the first two (one of them partially).
    Returns (cohort id, {participant: registration id}, [sessions as (id, starts_at)]).
    """
    attended = attended or {participants[0][0]: 9, participants[1][0]: 2}
    with ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(
            uow.session,
            tenant=tenant,
            time_zone=time_zone,
            facilitators=(f"fac-{tenant}",),
            completion_minimum=completion_minimum,
            first_day=datetime.now(UTC) - timedelta(weeks=10),
        )
        regs = {
            p: factories.registration(uow.session, cohort, p, registry_id=registry).id for p, registry in participants
        }
        sessions = [
            (s.id, s.starts_at)
            for s in uow.session.scalars(
                select(TrainingSession)
                .where(TrainingSession.cohort_id == cohort.id)
                .order_by(TrainingSession.starts_at)
            )
        ]
        cohort_id = cohort.id
        uow.commit()
    headers = tokens.headers("facilitator", tenant, sub=f"fac-{tenant}")
    for index, (session_id, _) in enumerate(sessions):
        records = []
        for participant, count in attended.items():
            if index < count:
                partial = participant == participants[1][0] and index == 1
                records.append(
                    {
                        "registration_id": regs[participant],
                        "status": "partial" if partial else "present",
                        **({"minutes": 30} if partial else {}),
                    }
                )
        if records:
            response = client.put(f"/sessions/{session_id}/attendance", json={"records": records}, headers=headers)
            assert response.status_code == 200, response.json
    return cohort_id, regs, sessions


def rows_by_participant(items) -> dict:
    return {row["participant"]: row for row in items}


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_training_hours_as_json(sclient, scheduling_ctx, tokens, database):
    cohort_id, regs, _ = arrange(sclient, scheduling_ctx, tokens)
    response = sclient.get("/training-hours", headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 200
    rows = rows_by_participant(response.json["items"])
    ana, ben = rows["ana-lopez"], rows["ben-cho"]
    assert ana["registry_id"] == "REG-1001" and ben["registry_id"] is None
    assert (ana["hours"], ana["minutes"], ana["sessions_attended"]) == (18.0, 1080, 9)
    assert (ben["hours"], ben["sessions_attended"]) == (2.5, 2)  # 120 + 30 minutes
    assert ana["completed"] is True and ana["completed_at"]
    assert ben["completed"] is False and ben["completed_at"] is None
    assert {ana["verification"], ben["verification"]} == {"verified"}
    assert ana["cohort_id"] == cohort_id and ana["jurisdiction"] == "CA" and ana["name"] == "Ana Lopez"
    assert ana["registration_id"] == regs["ana-lopez"]
    assert ana["updated_at"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize("how", ["accept", "query"])
def test_training_hours_as_csv(sclient, scheduling_ctx, tokens, database, how):
    arrange(sclient, scheduling_ctx, tokens, participants=(("ana-lopez", "REG-1001"), ("=cmd-injection", "+1")))
    if how == "accept":
        response = sclient.get("/training-hours", headers={**auth(tokens, CA_ADMIN), "Accept": "text/csv"})
    else:
        response = sclient.get("/training-hours?format=csv", headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].startswith("participant,name,registry_id,")
    rows = {row["registry_id"]: row for row in parse_csv(text)}
    assert set(rows) == {"REG-1001", "'+1"}  # a spreadsheet must not run a cell as a formula
    ana = rows["REG-1001"]
    assert (ana["participant"], ana["hours"], ana["sessions_attended"], ana["completed"], ana["verification"]) == (
        "ana-lopez",
        "18.0",
        "9",
        "true",
        "verified",
    )
    assert rows["'+1"]["participant"] == "'=cmd-injection"
    assert rows["'+1"]["completed_at"] == ""


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_hours_within_a_date_range(sclient, scheduling_ctx, tokens, database):
    _, _, sessions = arrange(sclient, scheduling_ctx, tokens)
    local = [starts.astimezone(ZoneInfo("America/Los_Angeles")).date() for _, starts in sessions]
    response = sclient.get(f"/training-hours?from={local[1]}&to={local[3]}", headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 200
    rows = rows_by_participant(response.json["items"])
    assert (rows["ana-lopez"]["hours"], rows["ana-lopez"]["sessions_attended"]) == (6.0, 3)
    assert (rows["ben-cho"]["hours"], rows["ben-cho"]["sessions_attended"]) == (0.5, 1)
    assert rows["ana-lopez"]["completed"] is True  # completion is the participant's, not the range's

    only_ana = sclient.get(f"/training-hours?from={local[5]}", headers=auth(tokens, CA_ADMIN)).json["items"]
    assert [(row["participant"], row["hours"]) for row in only_ana] == [("ana-lopez", 8.0)]
    csv_rows = parse_csv(
        sclient.get(f"/training-hours?to={local[0]}&format=csv", headers=auth(tokens, CA_ADMIN)).get_data(as_text=True)
    )
    assert sorted((row["participant"], row["hours"]) for row in csv_rows) == [("ana-lopez", "2.0"), ("ben-cho", "2.0")]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_dates_are_the_cohorts_local_dates(sclient, scheduling_ctx, tokens, database):
    # 9:00 in Guam is 23:00 UTC the day before: the registry asks by Guam's calendar.
    _, _, sessions = arrange(
        sclient, scheduling_ctx, tokens, tenant="GU", time_zone="Pacific/Guam", attended={"ana-lopez": 1}
    )
    starts = sessions[0][1]
    local_day = starts.astimezone(ZoneInfo("Pacific/Guam")).date()
    assert local_day != starts.date()
    admin = tokens.headers("jurisdiction_admin", "GU", sub="admin-gu")
    on_the_day = sclient.get(f"/training-hours?from={local_day}&to={local_day}", headers=admin).json["items"]
    assert [row["hours"] for row in on_the_day] == [2.0]
    the_day_before = sclient.get(f"/training-hours?to={local_day - timedelta(days=1)}", headers=admin).json["items"]
    assert the_day_before == []


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_updated_since_returns_what_changed(sclient, scheduling_ctx, tokens, database):
    _, regs, sessions = arrange(sclient, scheduling_ctx, tokens)
    since = datetime.now(UTC)
    assert (
        sclient.get(
            "/training-hours", query_string={"updated_since": since.isoformat()}, headers=auth(tokens, CA_ADMIN)
        ).json["items"]
        == []
    )
    response = sclient.put(
        f"/sessions/{sessions[2][0]}/attendance",
        headers=auth(tokens, CA_ADMIN),
        json={"records": [{"registration_id": regs["ben-cho"], "status": "present"}]},
    )
    assert response.status_code == 200
    changed = sclient.get(
        "/training-hours", query_string={"updated_since": since.isoformat()}, headers=auth(tokens, CA_ADMIN)
    ).json["items"]
    assert [(row["participant"], row["hours"], row["completed"]) for row in changed] == [("ben-cho", 4.5, True)]
    assert datetime.fromisoformat(changed[0]["updated_at"]) >= since

    # A registry id learned later changes the row too.
    later = datetime.now(UTC)
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(Registration, regs["ana-lopez"]).registry_id = "REG-2002"
        uow.commit()
    changed = sclient.get(
        "/training-hours",
        query_string={"updated_since": later.isoformat(), "format": "csv"},
        headers=auth(tokens, CA_ADMIN),
    ).get_data(as_text=True)
    assert [(row["participant"], row["registry_id"]) for row in parse_csv(changed)] == [("ana-lopez", "REG-2002")]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cursor_pagination_visits_every_row_once(sclient, scheduling_ctx, tokens, database):
    arrange(
        sclient,
        scheduling_ctx,
        tokens,
        participants=tuple((f"p-{i}", f"R{i}") for i in range(5)),
        attended={f"p-{i}": i + 1 for i in range(5)},
    )
    seen, url = [], "/training-hours?limit=2"
    while url:
        response = sclient.get(url, headers=auth(tokens, CA_ADMIN))
        assert response.status_code == 200
        seen += [row["participant"] for row in response.json["items"]]
        url = None
        if response.json.get("next_cursor"):
            assert 'rel="next"' in response.headers["Link"]
            url = f"/training-hours?limit=2&cursor={response.json['next_cursor']}"
    assert sorted(seen) == [f"p-{i}" for i in range(5)]

    first_csv = sclient.get("/training-hours?limit=2&format=csv", headers=auth(tokens, CA_ADMIN))
    assert len(parse_csv(first_csv.get_data(as_text=True))) == 2
    assert "format=csv" in first_csv.headers["Link"] and "cursor=" in first_csv.headers["Link"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_each_jurisdiction_sees_its_own(sclient, scheduling_ctx, tokens, database):
    arrange(sclient, scheduling_ctx, tokens)
    arrange(sclient, scheduling_ctx, tokens, tenant="TX", participants=(("tx-one", "TX-1"), ("tx-two", None)))
    tx = rows_by_participant(sclient.get("/training-hours", headers=auth(tokens, TX_ADMIN)).json["items"])
    assert set(tx) == {"tx-one", "tx-two"}
    assert sclient.get("/training-hours?jurisdiction=CA", headers=auth(tokens, TX_ADMIN)).status_code == 404

    everything = sclient.get("/training-hours", headers=auth(tokens, NATIONAL)).json["items"]
    assert {row["jurisdiction"] for row in everything} == {"CA", "TX"}
    ca_only = sclient.get("/training-hours?jurisdiction=CA", headers=auth(tokens, NATIONAL)).json["items"]
    assert {row["participant"] for row in ca_only} == {"ana-lopez", "ben-cho"}
    assert sclient.get("/training-hours?jurisdiction=XX", headers=auth(tokens, NATIONAL)).status_code == 404


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_state_systems_use_an_api_key(sclient, scheduling_ctx, tokens, database):
    arrange(sclient, scheduling_ctx, tokens)
    created = sclient.post("/api-keys", json={"name": "CA registry"}, headers=auth(tokens, CA_ADMIN))
    assert created.status_code == 201, created.json
    response = sclient.get("/training-hours?format=csv", headers={"X-API-Key": created.json["key"]})
    assert response.status_code == 200
    assert {row["participant"] for row in parse_csv(response.get_data(as_text=True))} == {"ana-lopez", "ben-cho"}


@pytest.mark.parametrize(
    "who",
    [
        ("facilitator", "CA", "fac-CA"),
        ("agency_coordinator", "CA", "coord-ca"),
        ("specialist", "CA", "spec-ca"),
    ],
)
def test_other_roles_are_refused(sclient, scheduling_ctx, tokens, who):
    response = sclient.get("/training-hours", headers=auth(tokens, who))
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert sclient.get("/training-hours").status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-05-01&to=2026-04-01",
        "from=yesterday",
        "format=xml",
        "from=0001-01-01",
        "to=9999-12-31",
        "updated_since=2026-01-01T00:00:00",
        "cursor=bogus",
        "limit=0",
    ],
)
def test_bad_queries_are_problems(sclient, scheduling_ctx, tokens, query):
    response = sclient.get(f"/training-hours?{query}", headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 422, (query, response.json)
    assert response.mimetype == PROBLEM
    assert response.json["errors"]


# Self-reported training: reported by the participant (or their jurisdiction admin), exported as self_reported.

ANA = ("participant", "CA", "ana-lopez")
# Long before the sessions of ``arrange`` (ten weeks ago), so a date range can tell the two apart.
DAY = (datetime.now(UTC) - timedelta(days=400)).date()
ELSEWHERE = {
    "title": "Infant mental health",
    "provider": "State university extension",
    "completed_on": DAY.isoformat(),
    "minutes": 90,
}


def count_self_reported(ctx) -> int:
    from services.scheduling.models import SelfReportedHours

    with ctx.db.unit_of_work() as uow:
        return len(uow.session.scalars(select(SelfReportedHours)).all())


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_self_reported_hours_are_exported_beside_verified_ones(sclient, scheduling_ctx, tokens, database):
    arrange(sclient, scheduling_ctx, tokens)
    created = sclient.post(
        "/training-hours/self-reported", json={**ELSEWHERE, "registry_id": "REG-1001"}, headers=auth(tokens, ANA)
    )
    assert created.status_code == 201, created.json
    entry = created.json
    assert (entry["participant"], entry["jurisdiction"], entry["minutes"], entry["hours"]) == (
        "ana-lopez",
        "CA",
        90,
        1.5,
    )
    assert created.headers["Location"].endswith(f"/training-hours/self-reported/{entry['id']}")
    recorded = sclient.post(
        "/training-hours/self-reported",
        json={**ELSEWHERE, "participant": "dee-ford", "name": "Dee Ford", "minutes": 45},
        headers=auth(tokens, CA_ADMIN),
    )
    assert recorded.status_code == 201, recorded.json

    rows = sclient.get("/training-hours", headers=auth(tokens, CA_ADMIN)).json["items"]
    assert sorted((row["participant"], row["verification"], row["hours"]) for row in rows) == [
        ("ana-lopez", "self_reported", 1.5),
        ("ana-lopez", "verified", 18.0),
        ("ben-cho", "verified", 2.5),
        ("dee-ford", "self_reported", 0.75),
    ]
    mine = next(row for row in rows if row["self_reported_id"] == entry["id"])
    assert (mine["registration_id"], mine["cohort_id"], mine["sessions_attended"], mine["completed"]) == (
        None,
        None,
        None,
        False,
    )
    assert (mine["registry_id"], mine["title"], mine["provider"], mine["completed_on"]) == (
        "REG-1001",
        "Infant mental health",
        "State university extension",
        DAY.isoformat(),
    )
    assert next(row for row in rows if row["participant"] == "dee-ford")["name"] == "Dee Ford"

    text = sclient.get("/training-hours?format=csv", headers=auth(tokens, CA_ADMIN)).get_data(as_text=True)
    by_kind = {(row["participant"], row["verification"]): row for row in parse_csv(text)}
    assert set(by_kind) == {
        ("ana-lopez", "self_reported"),
        ("ana-lopez", "verified"),
        ("ben-cho", "verified"),
        ("dee-ford", "self_reported"),
    }
    reported = by_kind[("ana-lopez", "self_reported")]
    assert (
        reported["hours"],
        reported["minutes"],
        reported["sessions_attended"],
        reported["completed"],
        reported["registration_id"],
        reported["completed_on"],
    ) == ("1.5", "90", "", "false", "", DAY.isoformat())
    assert by_kind[("ana-lopez", "verified")]["hours"] == "18.0"

    # The date filters take a self-reported training's completion day; updated_since sees a new one.
    assert (
        sclient.get(f"/training-hours?to={DAY - timedelta(days=1)}", headers=auth(tokens, CA_ADMIN)).json["items"] == []
    )
    on_the_day = sclient.get(f"/training-hours?from={DAY}&to={DAY}", headers=auth(tokens, CA_ADMIN))
    assert {row["participant"] for row in on_the_day.json["items"]} == {"ana-lopez", "dee-ford"}
    since = datetime.now(UTC)
    sclient.post("/training-hours/self-reported", json={**ELSEWHERE, "minutes": 60}, headers=auth(tokens, ANA))
    changed = sclient.get(
        "/training-hours", query_string={"updated_since": since.isoformat()}, headers=auth(tokens, CA_ADMIN)
    ).json["items"]
    assert [(row["participant"], row["verification"], row["hours"]) for row in changed] == [
        ("ana-lopez", "self_reported", 1.0)
    ]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_pagination_walks_both_sources_once(sclient, scheduling_ctx, tokens, database):
    arrange(
        sclient,
        scheduling_ctx,
        tokens,
        participants=tuple((f"p-{i}", None) for i in range(3)),
        attended={f"p-{i}": 1 for i in range(3)},
    )
    for i in range(3):
        response = sclient.post(
            "/training-hours/self-reported",
            json={**ELSEWHERE, "minutes": 10 + i},
            headers=auth(tokens, ("participant", "CA", f"p-{i}")),
        )
        assert response.status_code == 201
    seen, url = [], "/training-hours?limit=2"
    while url:
        page = sclient.get(url, headers=auth(tokens, CA_ADMIN)).json
        seen += [(row["participant"], row["verification"], row["minutes"]) for row in page["items"]]
        url = f"/training-hours?limit=2&cursor={page['next_cursor']}" if page.get("next_cursor") else None
    assert sorted(seen) == sorted(
        [(f"p-{i}", "verified", 120) for i in range(3)] + [(f"p-{i}", "self_reported", 10 + i) for i in range(3)]
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_self_reported_hours_stay_in_their_jurisdiction(sclient, scheduling_ctx, tokens, database):
    entry = sclient.post("/training-hours/self-reported", json=ELSEWHERE, headers=auth(tokens, ANA)).json
    assert sclient.get("/training-hours", headers=auth(tokens, TX_ADMIN)).json["items"] == []
    assert sclient.get("/training-hours/self-reported", headers=auth(tokens, TX_ADMIN)).json["items"] == []
    item = f"/training-hours/self-reported/{entry['id']}"
    assert sclient.get(item, headers=auth(tokens, TX_ADMIN)).status_code == 404
    assert sclient.get("/training-hours?jurisdiction=CA", headers=auth(tokens, TX_ADMIN)).status_code == 404
    # Another participant of the same jurisdiction does not see it either; the admin and the author do.
    ben = ("participant", "CA", "ben-cho")
    assert sclient.get(item, headers=auth(tokens, ben)).status_code == 404
    assert sclient.get("/training-hours/self-reported", headers=auth(tokens, ben)).json["items"] == []
    assert [e["id"] for e in sclient.get("/training-hours/self-reported", headers=auth(tokens, ANA)).json["items"]] == [
        entry["id"]
    ]
    assert sclient.get(item, headers=auth(tokens, CA_ADMIN)).json["participant"] == "ana-lopez"
    everything = sclient.get("/training-hours?jurisdiction=CA", headers=auth(tokens, NATIONAL)).json["items"]
    assert [row["self_reported_id"] for row in everything] == [entry["id"]]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "change, field",
    [
        ({"completed_on": "2099-01-01"}, "completed_on"),
        ({"completed_on": str((datetime.now(UTC) + timedelta(days=2)).date())}, "completed_on"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": 6001}, "minutes"),
        ({"minutes": "90"}, "minutes"),
        ({"title": "  "}, "title"),
        ({"bogus": 1}, "bogus"),
        ({"provider": None}, "provider"),
        ({"cohort_id": "no-such-cohort"}, "cohort_id"),
    ],
)
def test_bad_self_reports_are_problems_and_write_nothing(sclient, scheduling_ctx, tokens, database, change, field):
    response = sclient.post("/training-hours/self-reported", json={**ELSEWHERE, **change}, headers=auth(tokens, ANA))
    assert response.status_code == 422, response.json
    assert response.mimetype == PROBLEM
    assert field in response.json["errors"]
    assert count_self_reported(scheduling_ctx) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_only_admins_and_state_systems_record_for_someone_else(sclient, scheduling_ctx, tokens, database):
    for_ben = {**ELSEWHERE, "participant": "ben-cho"}
    response = sclient.post("/training-hours/self-reported", json=for_ben, headers=auth(tokens, ANA))
    assert response.status_code == 403 and response.mimetype == PROBLEM
    facilitator = ("facilitator", "CA", "fac-CA")
    assert (
        sclient.post("/training-hours/self-reported", json=for_ben, headers=auth(tokens, facilitator)).status_code
        == 403
    )
    assert sclient.post("/training-hours/self-reported", json=ELSEWHERE, headers=auth(tokens, CA_ADMIN)).json[
        "errors"
    ] == {"participant": ["Required unless you report your own training."]}
    assert count_self_reported(scheduling_ctx) == 0

    key = sclient.post("/api-keys", json={"name": "CA registry"}, headers=auth(tokens, CA_ADMIN)).json["key"]
    recorded = sclient.post("/training-hours/self-reported", json=for_ben, headers={"X-API-Key": key})
    assert recorded.status_code == 201, recorded.json
    assert (recorded.json["participant"], recorded.json["jurisdiction"]) == ("ben-cho", "CA")
    listed = sclient.get("/training-hours/self-reported", headers={"X-API-Key": key}).json["items"]
    assert [entry["participant"] for entry in listed] == ["ben-cho"]
    assert (
        sclient.get("/training-hours/self-reported", headers=auth(tokens, ("participant", "CA", "ben-cho"))).json[
            "items"
        ][0]["id"]
        == recorded.json["id"]
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_kept_hours_agree_with_attendance_summed_afresh(sclient, scheduling_ctx, tokens, database):
    """The export's kept rows equal what summing every mark again gives, after marks, re-marks and a cancellation."""
    _, regs, sessions = arrange(
        sclient,
        scheduling_ctx,
        tokens,
        participants=tuple((f"p-{i}", f"R{i}") for i in range(4)),
        attended={f"p-{i}": 2 * i + 1 for i in range(4)},
    )
    sclient.put(
        f"/sessions/{sessions[0][0]}/attendance",
        headers=auth(tokens, CA_ADMIN),
        json={"records": [{"registration_id": regs["p-3"], "status": "absent"}]},
    )
    sclient.post(f"/sessions/{sessions[2][0]}/cancel", headers=auth(tokens, CA_ADMIN), json={"reason": "Snow day."})

    def export(query: str) -> dict:
        items = sclient.get(f"/training-hours?limit=200{query}", headers=auth(tokens, CA_ADMIN)).json["items"]
        return {r["participant"]: (r["minutes"], r["sessions_attended"], r["completed"]) for r in items}

    kept = export("")
    assert kept == export("&from=1900-01-01")  # dated exports sum the attendance itself
    assert kept["p-0"] == (120, 1, False) and kept["p-3"] == (600, 5, True)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_deep_page_reads_only_its_own_rows(sclient, scheduling_ctx, tokens, database):
    """A page is a range of one index from the cursor on: its cost does not grow with the jurisdiction's rows."""
    from sqlalchemy import text

    from services.scheduling.models import RegistrationHours

    arrange(
        sclient,
        scheduling_ctx,
        tokens,
        participants=tuple((f"p-{i}", None) for i in range(15)),
        attended={f"p-{i}": 1 for i in range(15)},
    )
    with scheduling_ctx.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    statements: list[str] = []

    from sqlalchemy import event

    @event.listens_for(scheduling_ctx.db.engine, "before_cursor_execute")
    def _keep(_conn, _cursor, statement, parameters, _context, _many):
        if "registration_hours" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    first = sclient.get("/training-hours?limit=5", headers=auth(tokens, CA_ADMIN)).json
    sclient.get(f"/training-hours?limit=5&cursor={first['next_cursor']}", headers=auth(tokens, CA_ADMIN))
    event.remove(scheduling_ctx.db.engine, "before_cursor_execute", _keep)
    statement, parameters = statements[-1]
    with scheduling_ctx.db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # a table this small would be read whole anyway
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters))
    read = [line for line in plan.splitlines() if RegistrationHours.__tablename__ in line and "Scan" in line]
    assert read and all("ix_registration_hours_updated" in line for line in read), plan
    assert "rows=6 " in plan.split("ix_registration_hours_updated", 1)[1].split("\n")[0], plan  # the page, no more


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_participant_reads_her_own_rows_only_what_her_registry_receives(sclient, scheduling_ctx, tokens, database):
    arrange(sclient, scheduling_ctx, tokens)
    assert sclient.post("/training-hours/self-reported", json=ELSEWHERE, headers=auth(tokens, ANA)).status_code == 201
    ben = ("participant", "CA", "ben-cho")
    assert sclient.post("/training-hours/self-reported", json=ELSEWHERE, headers=auth(tokens, ben)).status_code == 201

    mine = sclient.get("/training-hours", headers=auth(tokens, ANA))
    assert mine.status_code == 200, mine.json
    assert sorted((row["participant"], row["verification"], row["hours"]) for row in mine.json["items"]) == [
        ("ana-lopez", "self_reported", 1.5),
        ("ana-lopez", "verified", 18.0),
    ]
    # The same with dates (summed from attendance), as CSV, and in a sync: still hers alone.
    since = (DAY - timedelta(days=1)).isoformat()  # the training taken elsewhere too
    windowed = sclient.get("/training-hours", query_string={"from": since}, headers=auth(tokens, ANA)).json["items"]
    assert {(row["participant"], row["verification"]) for row in windowed} == {
        ("ana-lopez", "verified"),
        ("ana-lopez", "self_reported"),
    }
    assert [row["hours"] for row in windowed if row["verification"] == "verified"] == [18.0]
    as_csv = sclient.get("/training-hours", query_string={"format": "csv"}, headers=auth(tokens, ANA))
    assert {row["participant"] for row in parse_csv(as_csv.get_data(as_text=True))} == {"ana-lopez"}
    synced = sclient.get("/training-hours", query_string={"changed_after": 0}, headers=auth(tokens, ben)).json
    assert {row["participant"] for row in synced["items"]} == {"ben-cho"}
    assert sorted(row["hours"] for row in synced["items"]) == [1.5, 2.5]
    # Another jurisdiction's participant has none of these; naming another jurisdiction is a 404.
    assert sclient.get("/training-hours", headers=auth(tokens, ("participant", "TX", "ana-lopez"))).json["items"] == []
    response = sclient.get("/training-hours", query_string={"jurisdiction": "TX"}, headers=auth(tokens, ANA))
    assert response.status_code == 404 and response.mimetype == PROBLEM
