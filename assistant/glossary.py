"""Residents' words mapped to the notices' words (assistant/data/glossary.yaml)."""

from __future__ import annotations

from assistant.lexical import holds_phrase, tokens
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
        return " ".join(value for key, value in self.entries if holds_phrase(toks, key))


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Finds a corpus word one edit away (a typo such as 'proces' or 'recieve').

    The same word always gets the same correction, in every process: a letter too many or
    too few beats a letter changed, then the word in more passages, then alphabetical order.
    (Taking the first hit of a set's iteration made 'change' mend to 'charge' or to 'chang'
    depending on the process's string hashing, and so changed what a question retrieved.)
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self.vocab = counts  # word -> number of passages holding it
        self.index: dict[str, set[str]] = {}
        for w in counts:
            if len(w) >= 4:
                for d in deletes(w) | {w}:
                    self.index.setdefault(d, set()).add(w)

    def near(self, word: str) -> str | None:
        if word in self.vocab:
            return word
        if len(word) < 5:
            return None
        dropped = deletes(word)
        # A letter too many (the word less one letter is a corpus word), or one too few.
        found = [(0, w) for w in dropped if w in self.vocab] + [(0, w) for w in self.index.get(word, ())]
        if not found:  # a letter changed: the word and a corpus word lose a letter to the same string
            found = [(1, w) for d in dropped for w in self.index.get(d, ())]
        if not found:
            return None
        return min(found, key=lambda f: (f[0], -self.vocab[f[1]], f[1]))[1]
