"""Roster CSV import over HTTP: row-by-row report, the same seat rules, idempotent re-upload, refusals."""

from __future__ import annotations

import dataclasses
import io

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Registration, RosterImport
from tests.scheduling.test_registrations import (
    ADMIN,
    COORDINATOR,
    FACILITATOR,
    OTHER_COORDINATOR,
    TX_ADMIN,
    assert_problem,
    audit,
    auth,
    cancel,
    counts,
    make_cohort,
    outbox_events,
    person,
    registered,
    statuses,
)

BACKENDS = ["sqlite", "postgres"]
STATE_SYSTEM = ("integration", "CA", "ca-registry")

ROSTER = (
    b"participant_id,name,email,registry_id,county\n"  # line 1: "county" is not ours: ignored
    b"p-1,Ana Ruiz,ana@example.org,R-1,Alameda\n"  # 2: registered (seat 1)
    b",No Id,noid@example.org,,Kern\n"  # 3: rejected, participant_id
    b"p-2,Bo Lee,not-an-email,,Kern\n"  # 4: rejected, email
    b"p-3,Cy Diaz,cy@example.org,,Fresno\n"  # 5: registered (seat 2)
    b"p-0,Already Here,p-0@example.org,,Napa\n"  # 6: registered by themself before
    b"p-4,Di Ho,di@example.org,R-4,Napa\n"  # 7: waitlisted 1
    b"\n"
    b"p-5,Ed Fox,ed@example.org,,Napa,extra\n"  # 9: rejected, too many fields
    b"p-6,Flo Kim,flo@example.org,,Napa\n"  # 10: waitlisted 2
)


def upload(
    client,
    tokens,
    cohort_id: str,
    content: bytes,
    who=COORDINATOR,
    *,
    filename: str = "roster.csv",
    content_type: str = "text/csv",
    headers: dict | None = None,
    form: dict | None = None,
):
    data = {"file": (io.BytesIO(content), filename, content_type), **(form or {})}
    return client.post(
        f"/cohorts/{cohort_id}/roster",
        data=data,
        content_type="multipart/form-data",
        headers={**auth(tokens, who), **(headers or {})},
    )


def roster_counts(ctx) -> dict:
    with ctx.db.session() as session:
        return {**counts(ctx), "RosterImport": session.scalar(select(func.count()).select_from(RosterImport))}


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_roster_with_bad_rows_registers_only_the_good_ones(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=3)
    registered(sclient, tokens, cohort_id, person(0))  # takes seat 1 of 3

    response = upload(sclient, tokens, cohort_id, ROSTER)
    assert response.status_code == 200, response.json
    report = response.json
    assert {k: report[k] for k in ("rows", "registered", "waitlisted", "already_registered")} == {
        "rows": 8,
        "registered": 2,
        "waitlisted": 2,
        "already_registered": 1,
    }
    assert report["ignored_columns"] == ["county"]
    rejected = {row["line"]: row["errors"] for row in report["rejected"]}
    assert list(rejected) == [3, 4, 9]
    assert rejected[3] == {"participant_id": ["Required."]}
    assert rejected[4] == {"email": ["Not a valid email address."]}
    assert "row" in rejected[9]
    assert report["rows"] == report["registered"] + report["waitlisted"] + report["already_registered"] + len(
        report["rejected"]
    )
    assert report["import_id"] and len(report["sha256"]) == 64
    assert "Idempotent-Replayed" not in response.headers
    # Each row gives its person's name and e-mail at the import: their events say so.
    imported = [e for e in outbox_events(scheduling_ctx) if e.data["participant"] in ("p-1", "p-3", "p-4", "p-6")]
    assert len(imported) == 4 and all(e.data["contact_given_at"] for e in imported)

    assert statuses(sclient, tokens, cohort_id) == {
        "p-0": ("confirmed", None),
        "p-1": ("confirmed", None),
        "p-3": ("confirmed", None),
        "p-4": ("waitlisted", 1),
        "p-6": ("waitlisted", 2),
    }
    with scheduling_ctx.db.session() as session:
        ana = session.scalars(select(Registration).where(Registration.participant == "p-1")).one()
        assert (ana.name, ana.email, ana.registry_id, ana.source) == ("Ana Ruiz", "ana@example.org", "R-1", "roster")
        p0 = session.scalars(select(Registration).where(Registration.participant == "p-0")).one()
        assert (p0.name, p0.source) == ("P 0", "self")  # left as it was
    [entry] = audit(scheduling_ctx, ana.id)
    assert (entry.action, entry.by, entry.detail["source"], entry.detail["line"]) == (
        "registered",
        "coord-ca",
        "roster",
        2,
    )
    events = outbox_events(scheduling_ctx)
    assert [(e.type.rsplit(".", 1)[1], e.data["participant"]) for e in events[1:]] == [
        ("confirmed", "p-1"),
        ("confirmed", "p-3"),
        ("waitlisted", "p-4"),
        ("waitlisted", "p-6"),
    ]
    assert all(e.data["by"] == "coord-ca" for e in events[1:])

    # The person registered from the roster under their sub sees it as theirs.
    mine = sclient.get("/me/registrations", headers=auth(tokens, person(4)))
    assert [(i["cohort_id"], i["status"]) for i in mine.json["items"]] == [(cohort_id, "waitlisted")]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_re_uploading_a_roster_is_idempotent_and_a_changed_one_adds_only_new_people(
    sclient, tokens, scheduling_ctx, database
):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    first = upload(sclient, tokens, cohort_id, ROSTER)
    assert first.status_code == 200, first.json
    before = roster_counts(scheduling_ctx)

    again = upload(sclient, tokens, cohort_id, ROSTER, who=ADMIN, filename="roster (1).csv")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert roster_counts(scheduling_ctx) == before

    keyed = {"Idempotency-Key": "roster-upload-7"}
    with_key = upload(sclient, tokens, cohort_id, ROSTER, headers=keyed)
    assert with_key.json == first.json
    assert upload(sclient, tokens, cohort_id, ROSTER, headers=keyed).json == first.json
    assert roster_counts(scheduling_ctx) == before

    # First upload: p-1, p-3 seated; p-0, p-4, p-6 waiting. A week later the state's list has two
    # new people and everyone else again; p-3 cancelled meanwhile.
    [p3] = [
        r
        for r in sclient.get(f"/cohorts/{cohort_id}/registrations", headers=auth(tokens, ADMIN)).json["items"]
        if r["participant"] == "p-3"
    ]
    assert cancel(sclient, tokens, p3["id"], person(3), {"reason": "New job"}).status_code == 200
    changed = ROSTER + b"p-7,Gus Ng,gus@example.org,,Napa\np-8,Hal Ito,hal@example.org,,Napa\n"
    second = upload(sclient, tokens, cohort_id, changed)
    assert second.status_code == 200, second.json
    report = second.json
    assert report["sha256"] != first.json["sha256"]
    assert {k: report[k] for k in ("rows", "registered", "waitlisted", "already_registered")} == {
        "rows": 10,
        "registered": 0,
        "waitlisted": 2,
        "already_registered": 4,
    }
    rejected = {row["line"]: row["errors"] for row in report["rejected"]}
    assert list(rejected) == [3, 4, 5, 9]
    assert "New job" in rejected[5]["participant_id"][0]  # p-3 cancelled: not signed up again
    with scheduling_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 7
        assert session.scalar(select(func.count()).select_from(RosterImport)) == 2
    assert statuses(sclient, tokens, cohort_id)["p-3"] == ("cancelled", None)
    assert statuses(sclient, tokens, cohort_id)["p-0"] == ("confirmed", None)  # promoted when p-3 left
    assert statuses(sclient, tokens, cohort_id)["p-8"] == ("waitlisted", 5)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_roster_rows_of_an_approval_cohort_are_the_coordinator_s_approval(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1, requires_approval=True)
    response = upload(
        sclient,
        tokens,
        cohort_id,
        b"participant_id,name,email\np-1,A,a@example.org\np-2,B,b@example.org\n",
        who=STATE_SYSTEM,
    )
    assert response.status_code == 200, response.json
    assert (response.json["registered"], response.json["waitlisted"]) == (1, 1)
    assert audit(scheduling_ctx, statuses_ids(sclient, tokens, cohort_id)["p-1"])[0].by == "ca-registry"


def statuses_ids(client, tokens, cohort_id: str) -> dict[str, str]:
    items = client.get(f"/cohorts/{cohort_id}/registrations", headers=auth(tokens, ADMIN)).json["items"]
    return {item["participant"]: item["id"] for item in items}


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_oversize_and_non_csv_rosters_are_refused_with_nothing_written(sclient, tokens, scheduling_ctx, database):
    scheduling_ctx.config = dataclasses.replace(scheduling_ctx.config, max_roster_bytes=2048)
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    before = roster_counts(scheduling_ctx)

    big = b"participant_id,name,email\n" + b"".join(f"p-{n},Person {n},p{n}@example.org\n".encode() for n in range(100))
    assert len(big) > 2048
    assert_problem(upload(sclient, tokens, cohort_id, big), 413, "file")
    assert_problem(upload(sclient, tokens, cohort_id, big, headers={"Idempotency-Key": "big"}), 413, "file")

    for content, filename, declared in [
        (b"%PDF-1.7\n", "roster.pdf", "application/pdf"),
        (b"participant_id,name,email\n", "roster.txt", "text/plain"),
        (b"PK\x03\x04\x14\x00\x00\x00", "roster.csv", "text/csv"),  # a spreadsheet named .csv
        (b"participant_id,name,email\nq,Jos\xe9,j@example.org\n", "roster.csv", "text/csv"),  # not UTF-8
    ]:
        assert_problem(
            upload(sclient, tokens, cohort_id, content, filename=filename, content_type=declared), 415, "file"
        )
    url = f"/cohorts/{cohort_id}/roster"
    assert_problem(sclient.post(url, json={"participant_id": "p-1"}, headers=auth(tokens, COORDINATOR)), 415)
    assert_problem(sclient.post(url, data=ROSTER, content_type="text/csv", headers=auth(tokens, COORDINATOR)), 415)
    assert roster_counts(scheduling_ctx) == before

    # Exactly at the limit is accepted; "Windows" declares a .csv as a spreadsheet type.
    fits = b"participant_id,name,email\np-1,A,a@example.org\n"
    fits += b"\n" * (2048 - len(fits))
    accepted = upload(sclient, tokens, cohort_id, fits, content_type="application/vnd.ms-excel")
    assert accepted.status_code == 200 and accepted.json["registered"] == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_unusable_files_and_forms_are_refused_with_nothing_written(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx)
    before = roster_counts(scheduling_ctx)
    assert_problem(upload(sclient, tokens, cohort_id, b"p-1,Ana,ana@example.org,R-1\n"), 422, "file")  # no header
    assert_problem(upload(sclient, tokens, cohort_id, b""), 422, "file")
    assert_problem(upload(sclient, tokens, cohort_id, b"participant_id,name,email,email\n"), 422, "file")
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, form={"mode": "replace"}), 422, "mode")
    no_file = sclient.post(
        f"/cohorts/{cohort_id}/roster",
        data={"note": "x"},
        content_type="multipart/form-data",
        headers=auth(tokens, COORDINATOR),
    )
    assert_problem(no_file, 422, "file")
    assert roster_counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_only_managers_and_state_systems_import_and_other_jurisdictions_get_404(
    sclient, tokens, scheduling_ctx, database
):
    cohort_id = make_cohort(scheduling_ctx)
    before = roster_counts(scheduling_ctx)
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, who=person(1)), 403)
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, who=FACILITATOR), 403)
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, who=OTHER_COORDINATOR), 403)
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, who=TX_ADMIN), 404)
    assert_problem(upload(sclient, tokens, cohort_id, ROSTER, who=("integration", "TX", "tx-registry")), 404)
    assert_problem(upload(sclient, tokens, "no-such-cohort", ROSTER), 404)
    assert roster_counts(scheduling_ctx) == before
    assert upload(sclient, tokens, cohort_id, ROSTER, who=STATE_SYSTEM).status_code == 200


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_rosters_language_column_gives_each_person_the_language_of_their_e_mails(
    sclient, tokens, scheduling_ctx, database
):
    cohort_id = make_cohort(scheduling_ctx, capacity=10)
    roster = (
        b"participant_id,name,email,language\n"
        b"p-1,Ana Ruiz,ana@example.org,ES\n"  # 2: any case
        b"p-2,Bo Lee,bo@example.org,\n"  # 3: not said
        b"p-3,Cy Diaz,cy@example.org,fr\n"  # 4: rejected
    )
    response = upload(sclient, tokens, cohort_id, roster)
    assert response.status_code == 200, response.json
    assert response.json["registered"] == 2 and response.json["ignored_columns"] == []
    assert response.json["rejected"] == [{"line": 4, "errors": {"language": ["One of en, es, or empty."]}}]
    languages = {e.data["participant"]: e.data["participant_language"] for e in outbox_events(scheduling_ctx)}
    assert languages == {"p-1": "es", "p-2": None}
