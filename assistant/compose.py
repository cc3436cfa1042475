"""Compose the Markdown answer from selected evidence: the notice's own words, numbered."""

from __future__ import annotations

import re

from assistant.evidence import Evidence
from assistant.models import Citation, Notice
from assistant.resources import reply
from ingest.chunk import BULLET_MARK

BETWEEN_UNITS = re.compile(rf"^(?:\s|{BULLET_MARK})*$")
# A sentence that ends on a colon but introduces no list (the chunker made it no list's intro):
# "...please visit:", the web address lost when the notice was copied from its page.
POINTS_NOWHERE = re.compile(r":\s*$")


def _points_nowhere(run: list[Evidence]) -> bool:
    """Whether a unit of the quote ``run`` ends on a colon and introduces nothing ("Contact details:"
    and "...the following personal data:" introduce their lists, quoted with them or not)."""
    return any(e.unit.kind == "sentence" and POINTS_NOWHERE.search(e.unit.text) for e in run)


def _runs(body: str, quotes: list[Evidence]) -> list[list[Evidence]]:
    """Consecutive units (nothing but spaces or list markers between them) form one quote."""
    runs: list[list[Evidence]] = []
    for e in sorted(quotes, key=lambda e: e.unit.start):
        if runs and BETWEEN_UNITS.match(body[runs[-1][-1].unit.end : e.unit.start]) and runs[-1][-1].section == e.section:
            runs[-1].append(e)
        else:
            runs.append([e])
    return runs


def compose(quotes: list[Evidence], notices: dict[str, Notice]) -> tuple[str, list[Citation]]:
    # Groups by notice and section, in the order of their best evidence.
    order: list[tuple[str, str]] = []
    for e in quotes:
        key = (e.notice_id, e.section)
        if key not in order:
            order.append(key)
    lines: list[str] = []
    citations: list[Citation] = []
    warned: set[str] = set()
    for notice_id, section in order:
        notice = notices[notice_id]
        group = [e for e in quotes if (e.notice_id, e.section) == (notice_id, section)]
        if lines:
            lines.append("")
        lead = "lead" if section else "lead_no_section"
        lines.append(reply(lead, title=notice.title, edition=notice.edition or "undated", section=section.split(" > ")[-1]))
        if notice.status == "superseded" and notice_id not in warned:
            warned.add(notice_id)
            lines.append("")
            lines.append(f"*{reply('older_notice', date=notice.date_label or 'unknown')}*")
        lines.append("")
        for run in _runs(notice.body, group):
            n = len(citations) + 1
            start, end = run[0].unit.start, run[-1].unit.end
            citations.append(
                Citation(
                    n=n, notice_id=notice_id, notice_title=notice.title, version=notice.version,
                    effective=notice.effective, status=notice.status, section=section,
                    quote=notice.body[start:end], start=start, end=end,
                )  # fmt: skip
            )
            for i, e in enumerate(run):
                mark = f" [{n}]" if i == len(run) - 1 else ""
                if e.unit.kind == "item":
                    lines.append(f"> - {md_escape(e.unit.text)}{mark}")
                else:
                    if i:  # a new paragraph inside the quote
                        lines.append(">")
                    lines.append(f"> {md_escape(e.unit.text)}{mark}")
                    if i < len(run) - 1 and run[i + 1].unit.kind == "item":
                        lines.append(">")
            if _points_nowhere(run):
                lines += ["", f"*{reply('points_nowhere')}*"]
            lines.append("")
    return "\n".join(lines).strip(), citations


def md_escape(text: str) -> str:
    """Notice text shown as text: no HTML, no accidental Markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)
