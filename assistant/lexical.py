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


def holds_phrase(toks: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether the token list holds ``phrase`` as consecutive tokens."""
    n = len(phrase)
    return any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1))


def inverse_df(df: int, n: int) -> float:
    """BM25's idf of a word found in ``df`` of ``n`` passages."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class BM25:
    """Okapi BM25 with per-term weights computed at build time.

    A query adds up the precomputed weights of its terms' postings with numpy, so its cost
    grows with the postings it touches, not with Python loops over the corpus.

    Given ``rows`` (a scope: some notices' passages), a query is scored with the scope's own
    statistics instead (document frequencies and mean length within those rows), so the
    score of a notice's passage does not depend on how many other notices are indexed.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.ids: list[str] = []
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.counts: dict[str, np.ndarray] = {}  # each posting's term count, for scoped statistics
        self.lengths = np.zeros(0, dtype=np.float32)

    def build(self, ids: list[str], texts: list[str]) -> "BM25":
        self.ids = list(ids)
        raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            toks = tokens(text)
            lengths[i] = len(toks)
            for term, tf in Counter(toks).items():
                raw[term].append((i, tf))
        avg = float(lengths.mean()) if len(texts) else 1.0
        n = len(texts)
        self.postings, self.counts, self.lengths = {}, {}, lengths
        for term, plist in raw.items():
            idx = np.fromiter((i for i, _ in plist), dtype=np.int32, count=len(plist))
            tf = np.fromiter((t for _, t in plist), dtype=np.float32, count=len(plist))
            idf = inverse_df(len(plist), n)
            norm = self.k1 * (1 - self.b + self.b * lengths[idx] / (avg or 1.0))
            self.postings[term] = (idx, (idf * tf * (self.k1 + 1) / (tf + norm)).astype(np.float32))
            self.counts[term] = tf
        return self

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str, rows: np.ndarray | None = None) -> float:
        """Inverse document frequency of ``term`` in the corpus, or among ``rows`` alone."""
        if rows is None:
            df, n = (len(self.postings[term][0]) if term in self.postings else 0), len(self.ids)
        else:
            df, n = int(self.has(term, rows).sum()), len(rows)
        return inverse_df(df, n)

    def scores(self, terms: list[str], rows: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for these (already tokenised) terms.

        With the corpus's statistics; or within ``rows`` (distinct row numbers), with those
        rows' own statistics, and passages outside score 0.
        """
        scores = np.zeros(len(self.ids), dtype=np.float32)
        if rows is not None:
            return self._scores_within(set(terms), rows, scores)
        for term in set(terms):
            if term in self.postings:
                idx, weight = self.postings[term]
                scores[idx] += weight  # each passage appears once per term
        return scores

    def _scores_within(self, terms: set[str], rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if not len(rows):
            return scores
        lengths = self.lengths[rows]
        norm = self.k1 * (1 - self.b + self.b * lengths / (float(lengths.mean()) or 1.0))
        for term in terms:
            at, hit = self._find(term, rows)
            if not hit.any():
                continue
            idf = inverse_df(int(hit.sum()), len(rows))
            tf = self.counts[term][at[hit]]
            scores[rows[hit]] += idf * tf * (self.k1 + 1) / (tf + norm[hit])
        return scores

    def _find(self, term: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of ``rows`` would be in ``term``'s (sorted) postings, and whether it is there."""
        if term not in self.postings:
            return np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=bool)
        idx = self.postings[term][0]
        at = np.minimum(np.searchsorted(idx, rows), len(idx) - 1)
        return at, idx[at] == rows

    def has(self, term: str, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` contains ``term``."""
        return self._find(term, rows)[1]
