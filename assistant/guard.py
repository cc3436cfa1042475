"""First stage: refuse or clean input that is not a plain question."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

from functools import lru_cache

from assistant.resources import load, reply

MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|javascript:|&lt;\s*script", re.I)


class Checked(BaseModel):
    question: str = ""
    refusal: str | None = None  # a message to show instead of an answer
    note: str | None = None  # a message to show with the answer
    personal: list[str] = []  # kinds of personal detail removed from the question


@lru_cache(maxsize=1)
def _pii() -> list[tuple[str, re.Pattern[str]]]:
    return [(kind, re.compile(p, re.I)) for kind, p in load("pii").items()]


# What a personal detail becomes in the question: "[email removed]".
PLACEHOLDER = re.compile(r"\[[\w ]+ removed\]")


def redact(text: str) -> tuple[str, list[str]]:
    """The text with personal details replaced by [kind removed], and the kinds found."""
    found = []
    for kind, pattern in _pii():
        text, n = pattern.subn(f"[{kind} removed]", text)
        if n:
            found.append(kind)
    return text, found


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
    cleaned, personal = redact(cleaned)
    if personal:
        reminder = reply("personal_details", kinds=", ".join(personal))
        note = f"{note}\n\n{reminder}" if note else reminder
    return Checked(question=cleaned, note=note, personal=personal)
