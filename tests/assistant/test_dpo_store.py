"""The request store against real SQLite files: references, due dates, audit, failures, logs."""

from __future__ import annotations

import csv
import io
import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from assistant.dpo_form import DPORequest, validate_form
from assistant.dpo_store import (
    CSV_COLUMNS,
    SAVE_FAILED,
    RequestNotFound,
    RequestStore,
    StoreError,
    due_date,
)
from assistant.settings import Settings

PERSONAL = {
    "name": "Morwenna Quillfeather",
    "email": "morwenna.q@example.com",
    "phone": "07700 900 982",
    "address": "17 Larkspur Close, Hindley, WN2 3QZ",
    "description": "Please send me everything about my housing benefit claim from 2019.",
}


def make_request(**changes: Any) -> DPORequest:
    data: dict[str, Any] = {"request_type": "subject_access", "on_behalf": "self", "consent": True, **PERSONAL}
    data.update(changes)
    req, errors = validate_form(data)
    assert errors == {}, errors
    assert req is not None
    return req


@pytest.fixture
def store(tmp_path: Path) -> RequestStore:
    s = RequestStore(f"sqlite:///{tmp_path / 'db' / 'requests.sqlite3'}")
    yield s
    s.dispose()


@pytest.mark.parametrize(
    "received, due",
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2027, 1, 30), date(2027, 2, 28)),
        (date(2026, 3, 15), date(2026, 4, 15)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2028, 2, 29), date(2028, 3, 29)),
        (date(2026, 9, 3), date(2026, 10, 3)),  # the ICO's own example
    ],
)
def test_due_date_is_one_calendar_month(received: date, due: date):
    assert due_date(received) == due


def test_submit_stores_the_request_and_says_what_happens_next(store: RequestStore, tmp_path: Path):
    now = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    stored = store.submit(make_request(), source_question="Can I see my data?", now=now)
    assert stored.reference == "DPO-2026-000001"
    assert stored.received_at == now and stored.received_at.tzinfo is not None
    assert stored.due_date == date(2026, 2, 28)
    assert stored.status == "received"
    assert "DPO-2026-000001" in stored.what_happens_next and "28 February 2026" in stored.what_happens_next
    assert (tmp_path / "db" / "requests.sqlite3").is_file()  # the parent folder was created

    row = store.get(stored.reference)
    assert row is not None
    assert row.name == PERSONAL["name"] and row.description == PERSONAL["description"]
    assert row.received_at == now and row.received_at.tzinfo is not None
    assert row.source_question == "Can I see my data?"
    assert store.submit(make_request(), now=now).reference == "DPO-2026-000002"
    assert store.get("DPO-2026-000002").source_question is None


def test_the_receipt_day_is_the_uk_day(store: RequestStore):
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST): the month runs from 1 June.
    stored = store.submit(make_request(), now=datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    assert stored.due_date == date(2026, 7, 1)
    # New Year's Eve in UTC is still 2026 in London in winter.
    assert store.submit(make_request(), now=datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).reference.startswith("DPO-2026-")


def test_sqlite_uses_wal(store: RequestStore):
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_from_settings_uses_the_data_folder(tmp_path: Path):
    s = RequestStore.from_settings(Settings(data_dir=tmp_path / "data"))
    try:
        s.submit(make_request())
        assert (tmp_path / "data" / "requests.sqlite3").is_file()
    finally:
        s.dispose()


def test_100_concurrent_submissions_get_100_unique_references(store: RequestStore):
    with ThreadPoolExecutor(16) as pool:
        stored = list(pool.map(lambda i: store.submit(make_request(description=f"Concurrent request number {i}")), range(100)))
    refs = {s.reference for s in stored}
    assert len(refs) == 100
    rows = store.list()
    assert len(rows) == 100 and {r.reference for r in rows} == refs
    assert {r.description for r in rows} == {f"Concurrent request number {i}" for i in range(100)}
    assert all(store.audit(r)[0].action == "received" for r in list(refs)[:10])


def test_an_unusable_database_gives_the_resident_safe_message(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    caplog.set_level(logging.DEBUG)
    broken = RequestStore(f"sqlite:///{blocker / 'x' / 'requests.sqlite3'}")  # starting up must not crash
    with pytest.raises(StoreError) as info:
        broken.submit(make_request())
    assert str(info.value) == info.value.message == SAVE_FAILED
    assert info.value.message == (
        "Sorry, we could not save your request just now. Nothing has been lost: your answers are still "
        "in the form. Please try again in a few minutes."
    )
    with pytest.raises(StoreError):
        broken.list()
    for value in PERSONAL.values():
        assert value not in caplog.text


def test_a_database_error_never_carries_the_answers(tmp_path: Path):
    folder = tmp_path / "db-is-a-folder.sqlite3"
    folder.mkdir()
    broken = RequestStore(f"sqlite:///{folder}")
    with pytest.raises(StoreError) as info:
        broken.submit(make_request())
    chain = f"{info.value!r} {info.value.__cause__!r} {info.value.__cause__}"
    for value in PERSONAL.values():
        assert value not in chain


def test_the_store_recovers_when_the_database_comes_back(tmp_path: Path):
    place = tmp_path / "later"
    place.write_text("blocking")
    s = RequestStore(f"sqlite:///{place / 'requests.sqlite3'}")
    with pytest.raises(StoreError):
        s.submit(make_request())
    place.unlink()
    assert s.submit(make_request()).reference.startswith("DPO-")
    s.dispose()


def test_status_changes_are_audited(store: RequestStore):
    stored = store.submit(make_request(), now=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    t1, t2 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC), datetime(2026, 3, 20, 16, 30, tzinfo=UTC)
    row = store.update_status(stored.reference, "in_progress", "  Priya   Shah ", now=t1)
    assert row.status == "in_progress"
    store.update_status(stored.reference.lower(), "closed", "Tom Baker", note="Data sent by secure email", now=t2)
    trail = store.audit(stored.reference)
    assert [(a.staff_name, a.action, a.from_status, a.to_status, a.note, a.at) for a in trail] == [
        ("system", "received", None, "received", None, datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
        ("Priya Shah", "status_changed", "received", "in_progress", None, t1),
        ("Tom Baker", "status_changed", "in_progress", "closed", "Data sent by secure email", t2),
    ]
    assert store.get(stored.reference).status == "closed"


@pytest.mark.parametrize(
    "steps, to_status, staff, note, match",
    [
        ([], "closed", "Priya", "done", "one step at a time"),
        (["in_progress"], "received", "Priya", None, "one step at a time"),
        ([], "received", "Priya", None, "already received"),
        (["in_progress", "closed"], "in_progress", "Priya", None, "closed request cannot be changed"),
        (["in_progress", "closed"], "closed", "Priya", "again", "closed request cannot be changed"),
        (["in_progress"], "closed", "Priya", "   ", "Add a note"),
        ([], "in_progress", "   ", None, "name of the member of staff"),
        ([], "approved", "Priya", None, "Unknown status"),
    ],
)
def test_invalid_transitions_are_refused(store: RequestStore, steps: list[str], to_status: str, staff: str,
                                         note: str | None, match: str):  # fmt: skip
    ref = store.submit(make_request()).reference
    for step in steps:
        store.update_status(ref, step, "Setup Staff", note="set up")
    before = store.audit(ref)
    with pytest.raises(ValueError, match=match):
        store.update_status(ref, to_status, staff, note=note)
    assert store.audit(ref) == before  # nothing changed, nothing audited


def test_unknown_references(store: RequestStore):
    assert store.get("DPO-2026-999999") is None
    with pytest.raises(RequestNotFound):
        store.update_status("DPO-2026-999999", "in_progress", "Priya")
    with pytest.raises(RequestNotFound):
        store.audit("DPO-2026-999999")


def test_nothing_changes_status_by_itself(store: RequestStore):
    long_ago = datetime.now(UTC) - timedelta(days=400)
    ref = store.submit(make_request(), now=long_ago).reference
    assert store.get(ref).status == "received"  # far past its due date, still waiting for staff
    assert [a.staff_name for a in store.audit(ref)] == ["system"]


def test_list_filters(store: RequestStore):
    a = store.submit(make_request(request_type="erasure")).reference
    b = store.submit(make_request(request_type="complaint")).reference
    store.update_status(b, "in_progress", "Priya")
    assert [r.reference for r in store.list()] == [a, b]
    assert [r.reference for r in store.list(status="in_progress")] == [b]
    assert [r.reference for r in store.list(request_type="erasure")] == [a]
    assert store.list(status="received", request_type="complaint") == []
    with pytest.raises(ValueError):
        store.list(status="done")
    with pytest.raises(ValueError):
        store.list(request_type="anything")


def test_export_csv_has_a_header_and_every_row(store: RequestStore, tmp_path: Path):
    refs = [store.submit(make_request(description=f"Request {i}: please send my records")).reference for i in range(3)]
    store.submit(make_request(name="=HYPERLINK(\"http://evil\")", on_behalf="parent_or_guardian",
                              child_name="Kit Quillfeather", child_dob="2015-03-27"))  # fmt: skip
    buffer = io.StringIO()
    assert store.export_csv(buffer) == 4
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert list(rows[0]) == CSV_COLUMNS
    assert [r["reference"] for r in rows[:3]] == refs
    assert rows[0]["email"] == PERSONAL["email"] and rows[0]["status"] == "received"
    assert rows[3]["name"].startswith("'=")  # a formula is shown as text in a spreadsheet
    assert rows[3]["child_dob"] == "2015-03-27" and rows[3]["child_name"] == "Kit Quillfeather"

    out = tmp_path / "export.csv"
    assert store.export_csv(out) == 4
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 5
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # personal data: owner only


def test_personal_data_never_reaches_the_logs(store: RequestStore, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    # Even with SQLAlchemy's own logging turned up (someone debugging SQL), no rows or values.
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    assert store.engine.echo is False
    child = {"on_behalf": "parent_or_guardian", "child_name": "Kit Quillfeather", "child_dob": "2015-03-27"}
    ref = store.submit(make_request(**child), source_question="What do you know about me?").reference
    store.update_status(ref, "in_progress", "Priya Shah", note="Checking the housing file")
    store.update_status(ref, "closed", "Priya Shah", note="Sent by post")
    store.list()
    store.get(ref)
    store.audit(ref)
    store.export_csv(io.StringIO())
    with pytest.raises(ValueError):
        store.update_status(ref, "in_progress", "Priya Shah")
    assert ref in caplog.text  # the log is useful: it names the request
    for value in [*PERSONAL.values(), "Kit Quillfeather", "2015-03-27", "What do you know about me?"]:
        assert value not in caplog.text
