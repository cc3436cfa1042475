"""Routing stage: which kind of reply a question gets, from labelled phrasings in data files.

The question's own embedding (computed once per question) is compared with the example
phrasings of each route; explicit patterns catch what embeddings miss (prompt injection).
Whether the notices actually answer a question is decided later, from the evidence.
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel

from assistant.embedder import Embedder
from assistant.lexical import tokens
from assistant.models import Route
from assistant.resources import load


class Decision(BaseModel):
    route: Route
    nearest: str = ""
    similarity: float = 0.0
    reason: str = ""


class Router:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._labels: list[str] = []
        self._examples: list[str] = []
        self._matrix: np.ndarray | None = None

    def warm_up(self) -> None:
        if self._matrix is not None:
            return
        data = load("routing")
        for label, phrases in data["examples"].items():
            for p in phrases:
                self._labels.append(label)
                self._examples.append(p)
        self._patterns = [re.compile(p, re.I) for p in data["out_of_scope_patterns"]]
        self._follow = [re.compile(p, re.I) for p in data["follow_up_patterns"]]
        terms = [t.lower() for t in data["privacy_terms"]]
        self._terms_single = {tokens(t)[0] for t in terms if len(t.split()) == 1 and tokens(t)}
        self._terms_multi = [t for t in terms if len(t.split()) > 1]
        self._matrix = self.embedder.embed(self._examples)

    def is_follow_up(self, question: str) -> bool:
        self.warm_up()
        return any(p.search(question.strip()) for p in self._follow) or len(tokens(question)) <= 2

    def mentions_privacy(self, question: str) -> bool:
        low = question.lower()
        return bool(self._terms_single & set(tokens(question))) or any(t in low for t in self._terms_multi)

    def run(self, question: str, qvec: np.ndarray) -> Decision:
        self.warm_up()
        for p in self._patterns:
            if p.search(question):
                return Decision(route="out_of_scope", reason=f"pattern {p.pattern}")
        sims = self._matrix @ qvec  # type: ignore[operator]
        best = int(np.argmax(sims))
        label = self._labels[best]
        decision = Decision(route="answer", nearest=self._examples[best], similarity=float(sims[best]))
        if label == "out_of_scope" and not self.mentions_privacy(question):
            decision.route = "out_of_scope"
            decision.reason = "nearest example is out of scope and no privacy term"
        return decision
