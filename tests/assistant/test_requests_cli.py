"""python -m assistant requests ...: built here with argparse, run against a real SQLite file."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.dpo_form import validate_form
from assistant.dpo_store import RequestStore
from assistant.requests_cli import add_requests_parser, run_requests


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant")
    sub = p.add_subparsers(dest="command", required=True)
    add_requests_parser(sub)
    return p


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_requests(parser().parse_args(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'requests.sqlite3'}"
    store = RequestStore(url)
    for i, kind in enumerate(["subject_access", "erasure", "complaint"]):
        req, errors = validate_form({
            "request_type": kind, "name": f"Resident Number{i}", "email": f"r{i}@example.com",
            "description": f"Details of request {i}, please.", "consent": True,
        })  # fmt: skip
        assert req is not None, errors
        store.submit(req, now=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    store.dispose()
    return url


def test_list_prints_a_table(db: str, capsys: pytest.CaptureFixture[str]):
    code, out, err = run(["requests", "--database-url", db, "list"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["REFERENCE", "RECEIVED", "DUE", "TYPE", "STATUS"]
    assert lines[1].split() == ["DPO-2026-000001", "2026-01-31", "2026-02-28", "subject_access", "received"]
    assert len(lines) == 4
    assert "Resident" not in out  # the table has no personal data


def test_list_filters_and_option_after_the_subcommand(db: str, capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(["requests", "list", "--type", "erasure", "--database-url", db], capsys)
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()[1:]] == ["DPO-2026-000002"]
    code, out, _ = run(["requests", "list", "--status", "closed", "--database-url", db], capsys)
    assert code == 0 and "No requests found." in out


def test_database_url_from_the_environment(db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", db)
    code, out, _ = run(["requests", "list"], capsys)
    assert code == 0 and "DPO-2026-000003" in out


def test_export_to_stdout_and_to_a_file(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(["requests", "export", "--database-url", db], capsys)
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0][:3] == ["reference", "received_at", "due_date"] and len(rows) == 4
    target = tmp_path / "out.csv"
    code, out, err = run(["requests", "export", "--out", str(target), "--database-url", db], capsys)
    assert code == 0 and out == "" and "Wrote 3 requests" in err
    with target.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 4


def test_update_moves_forward_and_is_audited(db: str, capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(["requests", "update", "dpo-2026-000001", "--status", "in_progress", "--staff", "Sam Jones",
                        "--database-url", db], capsys)  # fmt: skip
    assert code == 0 and out.strip() == "DPO-2026-000001 is now in_progress (recorded for Sam Jones)"
    code, _, _ = run(["requests", "update", "DPO-2026-000001", "--status", "closed", "--staff", "Sam Jones",
                      "--note", "Data sent by post", "--database-url", db], capsys)  # fmt: skip
    assert code == 0
    store = RequestStore(db)
    trail = store.audit("DPO-2026-000001")
    store.dispose()
    assert [(a.staff_name, a.to_status, a.note) for a in trail] == [
        ("system", "received", None), ("Sam Jones", "in_progress", None), ("Sam Jones", "closed", "Data sent by post")
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["update", "DPO-2026-000001", "--status", "closed", "--staff", "Sam", "--note", "x"], "one step at a time"),
        (["update", "DPO-2026-000001", "--status", "in_progress", "--staff", "  "], "name of the member of staff"),
        (["update", "DPO-2026-000009", "--status", "in_progress", "--staff", "Sam"], "No request has the reference"),
        (["update", "DPO-2026-000001", "--status", "done", "--staff", "Sam"], "unknown status 'done'"),
        (["list", "--status", "open"], "unknown status 'open'"),
        (["list", "--type", "delete"], "unknown request type 'delete'"),
    ],
)
def test_user_mistakes_are_one_line_errors(db: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]):
    code, out, err = run(["requests", "--database-url", db, *argv], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_invalid_database_url_is_a_user_mistake(capsys: pytest.CaptureFixture[str]):
    code, _, err = run(["requests", "list", "--database-url", "not a url://secret@"], capsys)
    assert code == 2 and err.startswith("error: the database URL is not valid") and "secret" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(["requests", "list", "--database-url", f"sqlite:///{blocker / 'db.sqlite3'}"], capsys)
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_unwritable_export_file_is_a_user_mistake(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, _, err = run(["requests", "export", "--out", str(tmp_path / "missing" / "x.csv"), "--database-url", db], capsys)
    assert code == 2 and err.startswith("error: cannot write")


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as info:
        parser().parse_args(["requests", "--help"])
    assert info.value.code == 0
    assert "python -m assistant requests update DPO-2026-000123" in capsys.readouterr().out
