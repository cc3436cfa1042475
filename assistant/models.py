"""The typed objects that pass between stages (the contracts of shared/DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence

import hashlib
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Route = Literal["answer", "handoff", "unanswerable", "out_of_scope", "safeguarding"]
NoticeStatus = Literal["current", "superseded"]


def content_id(*parts: str) -> str:
    """A stable id from content, so re-ingesting the same text gives the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:24]


class Notice(BaseModel):
    id: str
    title: str
    service: str | None = None
    owner: str | None = None
    version: str | None = None
    effective: str | None = Field(default=None, description="ISO date, or YYYY-MM / YYYY")
    source: str | None = None
    status: NoticeStatus = "current"
    body: str
    path: str | None = None

    @property
    def date_label(self) -> str | None:
        """'6 June 2017', 'December 2025' or '2017' from the ISO ``effective``."""
        return format_iso_date(self.effective)

    @property
    def edition(self) -> str:
        """'version 8.0, December 2025', 'effective 6 June 2017' or ''."""
        bits = []
        if self.version:
            bits.append(f"version {self.version}")
        if self.date_label:
            bits.append(self.date_label if self.version else f"effective {self.date_label}")
        return ", ".join(bits)

    @property
    def fingerprint(self) -> str:
        meta = self.model_dump(exclude={"body", "path"})
        return content_id(repr(sorted(meta.items())), self.body)


class Unit(BaseModel):
    """A sentence or a list item: the smallest piece an answer may quote."""

    start: int
    end: int
    text: str
    kind: Literal["sentence", "item", "intro"] = "sentence"


class Passage(BaseModel):
    id: str
    notice_id: str
    section: str = Field(description="heading path, outermost first, joined by ' > '")
    text: str
    start: int
    end: int
    kind: Literal["paragraph", "list"] = "paragraph"
    context: str = Field(default="", description="text that frames it (a list's intro) when not inside it")
    units: list[Unit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _span_matches(self) -> "Passage":
        if self.end - self.start != len(self.text):
            raise ValueError("passage offsets do not match its text")
        return self

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the section and framing help a bare list item match."""
        return "\n".join(p for p in (self.section, self.context, self.text) if p)


class Citation(BaseModel):
    n: int
    notice_id: str
    notice_title: str
    version: str | None = None
    effective: str | None = None
    status: NoticeStatus = "current"
    section: str
    quote: str
    start: int
    end: int


class Retrieved(BaseModel):
    passage_id: str
    notice_id: str
    section: str
    text: str
    start: int
    end: int
    score: float
    dense: float | None = Field(default=None, description="cosine similarity to the query")


# Where a question is asked: every notice (None), one notice id, or several.
Scope = str | Sequence[str] | None


def scope_ids(scope: Scope) -> tuple[str, ...] | None:
    """The notice ids of a scope, in order, once each; None for every notice."""
    if scope is None:
        return None
    return tuple(dict.fromkeys([scope] if isinstance(scope, str) else scope))


class Answer(BaseModel):
    route: Route
    text: str
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Retrieved] = Field(default_factory=list)
    offers_handoff: bool = False
    request_type: str | None = None
    latency_ms: float = 0.0
    notice: str | list[str] | None = Field(default=None, description="the notice (or notices) the question was restricted to")


def format_iso_date(value: str | None) -> str | None:
    if not value:
        return None
    import calendar

    parts = value.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {calendar.month_name[int(parts[1])]} {parts[0]}"
        if len(parts) == 2:
            return f"{calendar.month_name[int(parts[1])]} {parts[0]}"
    except (ValueError, IndexError):
        return value
    return value
