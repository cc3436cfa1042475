"""python -m assistant requests list|export|update: the DPO team's view of stored requests.

Wired into ``assistant/__main__.py`` with ``add_requests_parser(sub)`` and, after parsing,
``return run_requests(args)`` when ``args.command == "requests"``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from sqlalchemy.exc import ArgumentError

from assistant.dpo_form import REQUEST_TYPES
from assistant.dpo_store import STATUSES, UK, RequestNotFound, RequestStore, StoreError, StoredRequestRow
from assistant.settings import Settings

EXAMPLES = """examples:
  python -m assistant requests list
  python -m assistant requests list --status received --type subject_access
  python -m assistant requests export --out requests.csv
  python -m assistant requests update DPO-2026-000123 --status in_progress --staff "Sam Jones"
  python -m assistant requests update DPO-2026-000123 --status closed --staff "Sam Jones" --note "Data sent by post"
  ASSISTANT_DATABASE_URL=sqlite:////srv/dpo/requests.sqlite3 python -m assistant requests list
"""

USER_MISTAKE, UNAVAILABLE = 2, 1


class _UserError(Exception):
    pass


def add_requests_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``requests`` (with list, export, update) to an argparse sub-parsers object."""
    # SUPPRESS: the option is accepted before or after the sub-command without one
    # level's default overwriting the other's value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=argparse.SUPPRESS,
                        help="where requests are stored (env ASSISTANT_DATABASE_URL; default: SQLite in the data folder)")  # fmt: skip
    fmt = argparse.RawDescriptionHelpFormatter
    parser = subparsers.add_parser("requests", parents=[common], help="list, export or update requests to the DPO",
                                   description="Requests residents have sent to the Data Protection Officer.",
                                   epilog=EXAMPLES, formatter_class=fmt)  # fmt: skip
    sub = parser.add_subparsers(dest="requests_command", required=True, metavar="{list,export,update}")

    ls = sub.add_parser("list", parents=[common], help="a table of requests, oldest first", epilog=EXAMPLES,
                        formatter_class=fmt)  # fmt: skip
    ls.add_argument("--status", help=f"only this status: {', '.join(STATUSES)}")
    ls.add_argument("--type", dest="request_type", help=f"only this request type: {', '.join(REQUEST_TYPES)}")

    ex = sub.add_parser("export", parents=[common], help="every request as CSV (contains personal data)",
                        epilog=EXAMPLES, formatter_class=fmt)  # fmt: skip
    ex.add_argument("--out", help="CSV file to write (default: standard output)")

    up = sub.add_parser("update", parents=[common], help="move a request to its next status",
                        epilog=EXAMPLES, formatter_class=fmt)  # fmt: skip
    up.add_argument("reference", help="for example DPO-2026-000123")
    up.add_argument("--status", required=True, help="in_progress or closed (one step forward at a time)")
    up.add_argument("--staff", required=True, help="your name, recorded in the audit trail")
    up.add_argument("--note", help="required when closing: how the request was dealt with")
    parser.set_defaults(handler=run_requests)
    return parser


def run_requests(args: argparse.Namespace, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the parsed command; 0 on success, 2 for a user mistake, 1 if the database is down."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        store = _open_store(getattr(args, "database_url", None))
        try:
            return _dispatch(store, args, out, err)
        finally:
            store.dispose()
    except (_UserError, ValueError, RequestNotFound) as exc:
        print(f"error: {exc}", file=err)
        return USER_MISTAKE
    except StoreError as exc:
        print(f"error: {exc.message}", file=err)
        return UNAVAILABLE


def _open_store(url: str | None) -> RequestStore:
    url = url or Settings().resolved_database_url
    try:
        return RequestStore(url)
    except ArgumentError:
        # Not echoing the URL: it may hold a password.
        raise _UserError("the database URL is not valid (check --database-url or ASSISTANT_DATABASE_URL)") from None
    except ImportError as exc:
        raise _UserError(f"the database driver for this URL is not installed ({exc.name})") from None


def _dispatch(store: RequestStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    command = args.requests_command
    if command == "list":
        _check(args.status, STATUSES, "status")
        _check(args.request_type, tuple(REQUEST_TYPES), "request type")
        _print_table(store.list(status=args.status, request_type=args.request_type), out)
    elif command == "export":
        if args.out:
            try:
                count = store.export_csv(args.out)
            except OSError as exc:
                raise _UserError(f"cannot write {args.out}: {exc.strerror}") from None
            print(f"Wrote {count} requests to {args.out}", file=err)
        else:
            store.export_csv(out)
    elif command == "update":
        _check(args.status, STATUSES, "status")
        row = store.update_status(args.reference, args.status, args.staff, args.note)
        print(f"{row.reference} is now {row.status} (recorded for {' '.join(args.staff.split())})", file=out)
    else:  # pragma: no cover - argparse only lets the three through
        raise _UserError(f"unknown command {command!r}")
    return 0


def _check(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value is not None and value not in allowed:
        raise _UserError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}")


def _print_table(rows: list[StoredRequestRow], out: TextIO) -> None:
    header = ("REFERENCE", "RECEIVED", "DUE", "TYPE", "STATUS")
    lines = [
        (r.reference, r.received_at.astimezone(UK).date().isoformat(), r.due_date.isoformat(), r.request_type, r.status)
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    for line in (header, *lines):
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip(), file=out)
    if not rows:
        print("No requests found.", file=out)
