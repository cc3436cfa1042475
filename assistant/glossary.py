"""Residents' words mapped to the notices' words (assistant/data/glossary.yaml)."""

from __future__ import annotations

from assistant.lexical import tokens
from assistant.resources import load


class Glossary:
    def __init__(self) -> None:
        self.entries: list[tuple[tuple[str, ...], str]] = []
        for key, value in (load("glossary") or {}).items():
            toks = tuple(tokens(str(key)))
            if toks:
                self.entries.append((toks, str(value)))
        self.keys = {t for toks, _ in self.entries for t in toks}

    def expand(self, text: str) -> str:
        """The notices' words for the resident's words in ``text`` ('' when none apply)."""
        toks = tokens(text)
        out = []
        for key, value in self.entries:
            n = len(key)
            if any(tuple(toks[i : i + n]) == key for i in range(len(toks) - n + 1)):
                out.append(value)
        return " ".join(out)


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Finds a corpus word one edit away (a typo such as 'proces' or 'recieve')."""

    def __init__(self, vocabulary: set[str]) -> None:
        self.vocab = vocabulary
        self.index: dict[str, set[str]] = {}
        for w in vocabulary:
            if len(w) >= 4:
                for d in deletes(w) | {w}:
                    self.index.setdefault(d, set()).add(w)

    def near(self, word: str) -> str | None:
        if word in self.vocab:
            return word
        if len(word) < 5:
            return None
        for d in deletes(word) | {word}:
            hits = self.index.get(d)
            if hits:
                return min(hits)
        return None
