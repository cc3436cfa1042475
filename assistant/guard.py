"""First stage: refuse or clean input that is not a plain question."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

from assistant.resources import reply

MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|javascript:|&lt;\s*script", re.I)


class Checked(BaseModel):
    question: str = ""
    refusal: str | None = None  # a message to show instead of an answer
    note: str | None = None  # a message to show with the answer


def check(question: str | None, max_chars: int) -> Checked:
    text = question or ""
    if len(text) > max_chars:
        return Checked(refusal=reply("too_long", length=len(text), limit=max_chars))
    if MARKUP.search(text):
        return Checked(refusal=reply("markup"))
    # Control and format characters (except ordinary white space) are removed, not kept.
    cleaned = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
    )
    note = reply("control_chars") if len(cleaned) != len(text) and cleaned.strip() else None
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned or not re.search(r"\w", cleaned):
        return Checked(refusal=reply("empty"))
    return Checked(question=cleaned, note=note)
