"""Routing stage: which kind of reply a question gets, from labelled phrasings in data files.

The question's embedding (computed once per question) is compared with the labelled
example phrasings of assistant/data/routing.yaml (a weighted vote of the nearest ones);
explicit patterns from the same file catch what embeddings blur: prompt injection, a
request to act ("delete my file") as opposed to a question about a right ("can I ask you
to delete it?"), and words that say a child may be at risk. Whether the notices actually
answer a question is decided later, from the evidence.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from pydantic import BaseModel

from assistant.embedder import Embedder
from assistant.lexical import tokens
from assistant.models import Route
from assistant.resources import load


class Decision(BaseModel):
    route: Route
    offers_handoff: bool = False
    request_type: str | None = None
    label: str = ""
    nearest: str = ""
    similarity: float = 0.0
    reason: str = ""


class Router:
    def __init__(self, embedder: Embedder, k: int = 5, uncovered_similarity: float = 0.6) -> None:
        self.embedder = embedder
        self.k = k
        self.uncovered_similarity = uncovered_similarity
        self._matrix: np.ndarray | None = None

    def warm_up(self) -> None:
        if self._matrix is not None:
            return
        data = load("routing")
        self._labels: list[tuple[str, str | None]] = []
        self._examples: list[str] = []
        for label, group in data["examples"].items():
            # A label holds phrases, or request types that hold phrases.
            items = group.items() if isinstance(group, dict) else [(None, group)]
            for request_type, phrases in items:
                for p in phrases:
                    self._labels.append((label, request_type))
                    self._examples.append(p)
        compile_all = lambda key: [re.compile(p, re.I) for p in data.get(key, [])]  # noqa: E731
        self._out_of_scope = compile_all("out_of_scope_patterns")
        self._follow = compile_all("follow_up_patterns")
        self._safeguarding = compile_all("safeguarding_patterns")
        self._safeguarding_cues = compile_all("safeguarding_cues")
        self._handoff = compile_all("handoff_patterns")
        self._rights = compile_all("rights_patterns")
        self._openers = compile_all("general_question_openers")
        topics = data.get("uncovered_topics", [])
        self._topics = self.embedder.embed(topics) if topics else None
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

    def at_risk(self, question: str, label: str, safe_sim: float) -> bool:
        """Harm words in a present, personal situation; or a question like a safeguarding one.

        Errs towards signposting: showing 999 to someone asking about records costs a line,
        missing a child at risk costs far more.
        """
        if safe_sim >= 0.62:
            return True
        if not any(p.search(question) for p in self._safeguarding):
            return False
        cue = any(p.search(question) for p in self._safeguarding_cues)
        return label == "safeguarding" or cue or not self.mentions_privacy(question)

    def vote(self, qvec: np.ndarray) -> tuple[dict[str, float], list[int]]:
        sims = self._matrix @ qvec  # type: ignore[operator]
        top = list(np.argsort(-sims)[: self.k])
        votes: dict[str, float] = defaultdict(float)
        for i in top:
            votes[self._labels[i][0]] += float(sims[i])
        return votes, top

    def request_type(self, qvec: np.ndarray) -> str:
        """The request type of the nearest rights or hand-off phrasing."""
        sims = self._matrix @ qvec  # type: ignore[operator]
        best = max((i for i, (lab, _) in enumerate(self._labels) if lab in ("rights", "handoff")), key=lambda i: sims[i])
        return self._labels[best][1] or "other_question"

    def run(self, question: str, qvec: np.ndarray) -> Decision:
        self.warm_up()
        for p in self._out_of_scope:
            if p.search(question):
                return Decision(route="out_of_scope", reason=f"pattern {p.pattern}")
        votes, top = self.vote(qvec)
        sims = self._matrix @ qvec  # type: ignore[operator]
        label = max(votes, key=votes.get)  # type: ignore[arg-type]
        nearest = self._examples[top[0]]
        base = {"label": label, "nearest": nearest, "similarity": float(sims[top[0]])}
        safe_sim = max(float(sims[i]) for i, (lab, _) in enumerate(self._labels) if lab == "safeguarding")
        if self.at_risk(question, label, safe_sim):
            return Decision(route="safeguarding", reason="a child may be at risk", **base)
        general = any(p.search(question.lower()) for p in self._openers)
        rights = label == "rights" or any(p.search(question) for p in self._rights)
        strong_handoff = label == "handoff" and self._labels[top[0]][0] == "handoff" and base["similarity"] >= 0.6
        asks_to_act = any(p.search(question) for p in self._handoff) and not (general and rights)
        if asks_to_act or (strong_handoff and not general):
            return Decision(route="handoff", offers_handoff=True, request_type=self.request_type(qvec),
                            reason="asks the council to act or to judge", **base)  # fmt: skip
        if label == "out_of_scope" and not self.mentions_privacy(question):
            return Decision(route="out_of_scope", reason="nearest phrasings are out of scope", **base)
        if self._topics is not None and float(np.max(self._topics @ qvec)) >= self.uncovered_similarity:
            return Decision(route="unanswerable", offers_handoff=True, request_type="other_question",
                            reason="a topic the notices do not cover", **base)  # fmt: skip
        if rights:
            return Decision(route="answer", offers_handoff=True, request_type=self.request_type(qvec),
                            reason="about a right: answer and offer the form", **base)  # fmt: skip
        return Decision(route="answer", **base)
