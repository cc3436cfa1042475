"""Where requests to the Data Protection Officer are kept, with an audit trail of who did what.

The store only records: status changes come from ``update_status`` with a named member of
staff, never from the store itself. Logs carry references, request types and statuses,
never what the resident wrote.

Longer than our usual ~300 lines for one reason: the tables, the objects handed to the UI
and the store that joins them change together, so they are read together.
"""

from __future__ import annotations

import builtins
import calendar
import csv
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from assistant.dpo_form import REQUEST_TYPE_HINTS, REQUEST_TYPES, DPORequest
from assistant.settings import Settings

log = logging.getLogger(__name__)

Status = Literal["received", "in_progress", "closed"]
STATUSES: tuple[str, ...] = get_args(Status)
NEXT_STATUS = {"received": "in_progress", "in_progress": "closed"}

SAVE_FAILED = (
    "Sorry, we could not save your request just now. Nothing has been lost: your answers are "
    "still in the form. Please try again in a few minutes."
)
READ_FAILED = "Sorry, the requests database cannot be reached just now. Please try again in a few minutes."
UPDATE_FAILED = "Sorry, the change could not be saved just now. Nothing was changed. Please try again in a few minutes."

# The ICO counts the month from the day the request arrives in the UK, not in UTC.
try:
    UK = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - only without any tz database
    UK = UTC  # type: ignore[assignment]

CSV_COLUMNS = [
    "reference", "received_at", "due_date", "status", "request_type", "on_behalf", "name", "email",
    "phone", "address", "child_name", "child_dob", "representing_name", "description", "source_question",
]  # fmt: skip
# Free text a resident typed: a leading = + - @ would run as a formula when staff open the CSV.
_FORMULA_SAFE = {"name", "email", "address", "child_name", "representing_name", "description", "source_question"}


class StoreError(Exception):
    """The database could not be used; ``message`` is safe to show to a resident."""

    def __init__(self, message: str = SAVE_FAILED) -> None:
        super().__init__(message)
        self.message = message


class RequestNotFound(LookupError):
    """No request has that reference."""


def due_date(received: date) -> date:
    """The ICO's "one calendar month": same day next month, or that month's last day if shorter."""
    year, month = (received.year + 1, 1) if received.month == 12 else (received.year, received.month + 1)
    return date(year, month, min(received.day, calendar.monthrange(year, month)[1]))


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), always handed back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class RequestRow(Base):
    __tablename__ = "requests"
    # AUTOINCREMENT: ids, and so references, are never reused even after a row is deleted.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    request_type: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    on_behalf: Mapped[str] = mapped_column(String(32))
    child_name: Mapped[str | None] = mapped_column(String(200))
    child_dob: Mapped[date | None] = mapped_column(Date)
    representing_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source_question: Mapped[str | None] = mapped_column(Text)


class AuditRow(Base):
    __tablename__ = "request_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class StoredRequest(BaseModel):
    """What the resident is told after submitting."""

    reference: str
    request_type: str
    received_at: datetime
    due_date: date
    status: Status
    what_happens_next: str


class StoredRequestRow(BaseModel):
    """One request as staff see it (contains personal data: never log it)."""

    model_config = ConfigDict(from_attributes=True)

    reference: str
    request_type: str
    name: str
    email: str | None
    phone: str | None
    address: str | None
    on_behalf: str
    child_name: str | None
    child_dob: date | None
    representing_name: str | None
    description: str
    received_at: datetime
    due_date: date
    status: Status
    source_question: str | None


class AuditEntry(BaseModel):
    reference: str
    at: datetime
    staff_name: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None


def what_happens_next(reference: str, request_type: str, due: date) -> str:
    return (
        f"Your reference is {reference}. Please keep it. {REQUEST_TYPE_HINTS[request_type]} "
        f"The council responds to requests within one month: by {due.day} {due:%B %Y}."
    )


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # We emit BEGIN ourselves (see _sqlite_begin), so the driver must not.
    dbapi_conn.isolation_level = None
    for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "foreign_keys = ON"):  # WAL: readers never block
        dbapi_conn.execute(f"PRAGMA {pragma}").close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, so read-then-write (a status change) waits
    # its turn under busy_timeout instead of failing with "database is locked".
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _describe(exc: BaseException) -> str:
    """A log line about a failure with no SQL parameters and no personal data."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        return f"{type(exc).__name__} ({orig})"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__} ({exc.strerror})"
    return f"{type(exc).__name__} ({type(orig).__name__})" if orig is not None else type(exc).__name__


class RequestStore:
    """Requests and their audit trail in any SQLAlchemy database (SQLite by default)."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url)
        self.engine: Engine = self._make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._ready = False
        self._schema_lock = threading.Lock()
        try:
            self._ensure_schema()
        except (SQLAlchemyError, OSError) as exc:
            # The chat must still start when the database is down; each call retries.
            log.warning("requests database not ready, will retry on first use: %s", _describe(exc))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RequestStore:
        return cls((settings or Settings()).resolved_database_url)

    @staticmethod
    def _make_engine(url: URL) -> Engine:
        # hide_parameters: SQL errors and logs never carry the values (the resident's answers).
        options: dict[str, Any] = {"echo": False, "hide_parameters": True, "logging_name": "dpo_requests"}
        if url.get_backend_name() == "sqlite":
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if url.database in (None, "", ":memory:"):
                options["poolclass"] = StaticPool  # one shared in-memory database
            engine = create_engine(url, **options)
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True, **options)
        # Rows are logged at DEBUG by SQLAlchemy whenever its logger is enabled, echo or
        # not; a root logger at DEBUG would otherwise print residents' answers.
        logging.getLogger("sqlalchemy.engine.Engine.dpo_requests").setLevel(logging.WARNING)
        return engine

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._schema_lock:
            if self._ready:
                return
            if self.url.get_backend_name() == "sqlite" and self.url.database not in (None, "", ":memory:"):
                Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            Base.metadata.create_all(self.engine)
            self._ready = True

    @contextmanager
    def _session(self, failure: str) -> Iterator[Session]:
        """One transaction; any database failure becomes a StoreError with ``failure``."""
        try:
            self._ensure_schema()
            with self._sessions.begin() as session:
                yield session
        except (SQLAlchemyError, OSError) as exc:
            log.warning("requests database failed: %s", _describe(exc))
            raise StoreError(failure) from exc

    def dispose(self) -> None:
        self.engine.dispose()

    def submit(self, req: DPORequest, source_question: str | None = None, now: datetime | None = None) -> StoredRequest:
        """Store a checked request; the reference comes from the row's id, so it is unique."""
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        received = now.astimezone(UK).date()
        due = due_date(received)
        question = (source_question or "").strip()[:5000] or None
        with self._session(SAVE_FAILED) as s:
            fields = req.model_dump(exclude={"consent"})
            row = RequestRow(
                reference=f"pending-{uuid.uuid4().hex}", received_at=now, due_date=due,
                status="received", source_question=question, **fields,
            )  # fmt: skip
            s.add(row)
            s.flush()  # assigns the id inside this transaction
            row.reference = f"DPO-{received.year}-{row.id:06d}"
            s.add(AuditRow(request_id=row.id, at=now, staff_name="system", action="received", to_status="received"))
            reference = row.reference
        log.info("request stored: reference=%s type=%s status=received", reference, req.request_type)
        return StoredRequest(
            reference=reference, request_type=req.request_type, received_at=now, due_date=due,
            status="received", what_happens_next=what_happens_next(reference, req.request_type, due),
        )  # fmt: skip

    def get(self, reference: str) -> StoredRequestRow | None:
        with self._session(READ_FAILED) as s:
            row = s.scalars(select(RequestRow).where(RequestRow.reference == _ref(reference))).one_or_none()
            return StoredRequestRow.model_validate(row) if row else None

    def update_status(
        self, reference: str, to_status: str, staff_name: str, note: str | None = None, now: datetime | None = None
    ) -> StoredRequestRow:
        """Move a request one step forward (received → in_progress → closed), audited."""
        staff = " ".join((staff_name or "").split())
        if not staff:
            raise ValueError("Give the name of the member of staff making this change")
        if len(staff) > 200:
            raise ValueError("The staff member's name must be 200 characters or fewer")
        if to_status not in STATUSES:
            raise ValueError(f"Unknown status {to_status!r}: use one of {', '.join(STATUSES)}")
        note = (note or "").strip() or None
        if to_status == "closed" and not note:
            raise ValueError("Add a note saying why the request is being closed")
        ref = _ref(reference)
        at = now or datetime.now(UTC)
        with self._session(UPDATE_FAILED) as s:
            row = s.scalars(select(RequestRow).where(RequestRow.reference == ref).with_for_update()).one_or_none()
            if row is None:
                raise RequestNotFound(f"No request has the reference {ref}")
            from_status = row.status
            if from_status == "closed":
                raise ValueError(f"{ref} is closed: a closed request cannot be changed")
            if from_status == to_status:
                raise ValueError(f"{ref} is already {to_status}")
            if NEXT_STATUS.get(from_status) != to_status:
                raise ValueError(
                    f"{ref} cannot go from {from_status} to {to_status}: "
                    "a request moves received → in_progress → closed, one step at a time"
                )
            row.status = to_status
            s.add(AuditRow(request_id=row.id, at=at, staff_name=staff, action="status_changed",
                           from_status=from_status, to_status=to_status, note=note))  # fmt: skip
            result = StoredRequestRow.model_validate(row)
        log.info("request status changed: reference=%s type=%s %s -> %s", ref, result.request_type, from_status, to_status)
        return result

    def audit(self, reference: str) -> builtins.list[AuditEntry]:
        """Who did what and when, oldest first."""
        ref = _ref(reference)
        with self._session(READ_FAILED) as s:
            request_id = s.scalars(select(RequestRow.id).where(RequestRow.reference == ref)).one_or_none()
            if request_id is None:
                raise RequestNotFound(f"No request has the reference {ref}")
            rows = s.scalars(select(AuditRow).where(AuditRow.request_id == request_id).order_by(AuditRow.id))
            return [AuditEntry.model_validate({**vars(a), "reference": ref}) for a in rows]

    def list(self, status: str | None = None, request_type: str | None = None) -> builtins.list[StoredRequestRow]:
        """Requests oldest first, optionally only one status and/or one request type."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"Unknown status {status!r}: use one of {', '.join(STATUSES)}")
        if request_type is not None and request_type not in REQUEST_TYPES:
            raise ValueError(f"Unknown request type {request_type!r}: use one of {', '.join(REQUEST_TYPES)}")
        query = select(RequestRow).order_by(RequestRow.id)
        if status is not None:
            query = query.where(RequestRow.status == status)
        if request_type is not None:
            query = query.where(RequestRow.request_type == request_type)
        with self._session(READ_FAILED) as s:
            rows = [StoredRequestRow.model_validate(r) for r in s.scalars(query)]
        log.debug("listed %d requests (status=%s type=%s)", len(rows), status, request_type)
        return rows

    def export_csv(self, file_or_path: str | os.PathLike[str] | IO[str]) -> int:
        """Every request, with a header row; returns how many. A path gets UTF-8 with a BOM
        (so Excel shows names like "Siân" correctly) and owner-only permissions."""
        rows = self.list()
        if isinstance(file_or_path, (str, os.PathLike)):
            fd = os.open(file_or_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w", encoding="utf-8-sig", newline="") as out:
                _write_csv(out, rows)
        else:
            _write_csv(file_or_path, rows)
        log.info("exported %d requests to CSV", len(rows))
        return len(rows)


def _ref(reference: str) -> str:
    return (reference or "").strip().upper()


def _write_csv(out: IO[str], rows: builtins.list[StoredRequestRow]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow([_cell(col, values[col]) for col in CSV_COLUMNS])


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if column in _FORMULA_SAFE and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text  # OWASP's advice against CSV injection
    return text
