"""Routing phrasings and canned replies, read once from assistant/data/."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    with open(DATA / f"{name}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def reply(key: str, **values: Any) -> str:
    return str(load("replies")[key]).format(**values)


# Phones type ’ for ' (and “ ” for "): routing.yaml's patterns are written with straight quotes.
STRAIGHT_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


class Patterns:
    """A list of routing.yaml's regular expressions: does any match the text (any case, any quote marks)?"""

    def __init__(self, sources: Iterable[str]) -> None:
        self.compiled = [re.compile(p, re.I) for p in sources]

    def search(self, text: str) -> bool:
        text = text.translate(STRAIGHT_QUOTES)
        return any(p.search(text) for p in self.compiled)

    def remove(self, text: str) -> str:
        """``text`` without the spans any of the patterns match."""
        text = text.translate(STRAIGHT_QUOTES)
        for p in self.compiled:
            text = p.sub(" ", text)
        return text
