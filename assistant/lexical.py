"""A small BM25 index over passages: tokens are lower-cased words with light stemming."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np

TOKEN = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    "a an and are as at be been being but by can could did do does doing for from had has have"
    " having he her here hers him his how i if in into is it its itself me more most my myself"
    " no nor not of off on once only or other our ours ourselves out over own same she should"
    " so some such than that the their theirs them themselves then there these they this those"
    " through to too under until up very was we were what when where which while who whom why"
    " will with would you your yours yourself yourselves about also any all may".split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Crude suffix stripping: enough for 'sharing'/'shares'/'shared' to meet."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + repl
    return word


def tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    return [stem(t) for t in TOKEN.findall(text) if t not in STOP]


class BM25:
    """Okapi BM25 with an inverted index, so a query touches only passages sharing a term."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.ids: list[str] = []
        self.groups: list[str] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []

    def build(self, ids: list[str], texts: list[str], groups: list[str]) -> "BM25":
        self.ids, self.groups = list(ids), list(groups)
        self.postings = defaultdict(list)
        self.lengths = []
        for i, text in enumerate(texts):
            toks = tokens(text)
            self.lengths.append(len(toks))
            for term, tf in Counter(toks).items():
                self.postings[term].append((i, tf))
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        self.lengths_arr = np.asarray(self.lengths, dtype=np.float32)
        return self

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        n = len(self.ids)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int, group: str | None = None) -> list[tuple[str, float]]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokens(query)):
            plist = self.postings.get(term)
            if not plist:
                continue
            idf = self.idf(term)
            for i, tf in plist:
                if group is not None and self.groups[i] != group:
                    continue
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                scores[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
        return [(self.ids[i], s) for i, s in best]
