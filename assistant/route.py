"""Routing stage: which kind of reply a question gets.

Signals: the question's embedding (computed once per question) against the labelled
example phrasings of assistant/data/routing.yaml; the patterns of the same file for what
embeddings blur (prompt injection, a request to act as opposed to a question about a right,
words that say a child may be at risk, topics the notices don't cover); and what retrieval
found. The fitted models that weigh them, and the rules that choose the route, are in
assistant/route_model.py. Phrasings and patterns are data: edit routing.yaml, then refit
(``python -m eval train-router``).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from assistant.embedder import Embedder
from assistant.lexical import tokens
from assistant.models import Route
from assistant.request_type import default_request_type_model
from assistant.resources import Patterns, load
from assistant.route_model import (LABELS, Answerability, Requests, RouteModel, choose, default_answerability_check,
                                   default_request_check, default_route_model, default_signposting_check,
                                   features)  # fmt: skip


class Decision(BaseModel):
    route: Route
    offers_handoff: bool = False
    request_type: str | None = None
    label: str = ""
    nearest: str = ""
    similarity: float = 0.0
    reason: str = ""


class Router:
    def __init__(self, embedder: Embedder, k: int = 5, safeguarding_probability: float = 0.3,
                 model: RouteModel | None = None, cache_dir: Path | None = None,
                 safeguarding_handoff_probability: float = 0.2, request_offer_probability: float = 0.3,
                 request_handoff_probability: float = 0.5, unanswerable_probability: float = 0.9,
                 uncovered_topic_similarity: float | None = None,
                 follow_up_off_topic_similarity: float | None = None) -> None:  # fmt: skip
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.k = k
        self.safeguarding_probability = safeguarding_probability
        self.safeguarding_handoff_probability = safeguarding_handoff_probability
        self.request_offer_probability = request_offer_probability
        self.request_handoff_probability = request_handoff_probability
        self.unanswerable_probability = unanswerable_probability
        self.uncovered_topic_similarity = uncovered_topic_similarity
        self.follow_up_off_topic_similarity = follow_up_off_topic_similarity
        self.model = model  # a model of one's own comes without the shipped checks
        # Off when fitting: computing features needs no fitted model, and the shipped weights
        # may have been fitted on other features (a signal added to routing.yaml).
        self.needs_models = True
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
        self._out_of_scope = Patterns(data.get("out_of_scope_patterns", []))
        self._follow = Patterns(data.get("follow_up_patterns", []))
        self._points_back = Patterns(data.get("points_back_patterns", []))
        self._about_assistant = Patterns(data.get("about_assistant_patterns", []))
        self._safeguarding = Patterns(data.get("safeguarding_patterns", []))
        self._safeguarding_cues = Patterns(data.get("safeguarding_cues", []))
        self._recorded_harm = Patterns(data.get("recorded_harm_patterns", []))
        self._handoff = Patterns(data.get("handoff_patterns", []))
        self._rights = Patterns(data.get("rights_patterns", []))
        self._openers = Patterns(data.get("general_question_openers", []))
        self._asking = Patterns(data.get("asking_whether_patterns", []))
        self._why = Patterns(data.get("asking_why_patterns", []))
        self._how = Patterns(data.get("asking_how_patterns", []))
        held = data.get("held_data") or {}
        self._held, self.held_sections = Patterns(held.get("asks", [])), set(held.get("sections", []))
        unnamed = data.get("unnamed_subject") or {}
        self._unnamed = (int(unnamed["max_words"]), Patterns([unnamed["pronouns"]]), Patterns([unnamed["named"]]),
                         Patterns([unnamed["handled"]]), str(unnamed["means"])) if unnamed else None  # fmt: skip
        topics = data.get("uncovered_topics", [])
        self._topics = self._embed(topics) if topics else None
        terms = [t.lower() for t in data["privacy_terms"]]
        self._terms_single = {tokens(t)[0] for t in terms if len(t.split()) == 1 and tokens(t)}
        self._terms_multi = [t for t in terms if len(t.split()) > 1]
        self._by_label = {label: np.asarray([i for i, (lab, _) in enumerate(self._labels) if lab == label])
                          for label in LABELS}  # fmt: skip
        self._matrix = self._embed(self._examples)
        if self.needs_models:
            self._load_models()

    def _load_models(self) -> None:
        """The fitted models are read at start-up, not on the first question."""
        shipped = self.model is None
        self._model = default_route_model() if shipped else self.model
        self._check = default_signposting_check() if shipped else None
        self._requests = Requests(default_request_check() if shipped else None, self.request_offer_probability,
                                  self.request_handoff_probability)  # fmt: skip
        self._answerability = Answerability(default_answerability_check() if shipped else None,
                                            self.unanswerable_probability)  # fmt: skip
        default_request_type_model()

    def _embed(self, texts: list[str]) -> np.ndarray:
        """The phrasings' vectors, kept in the cache folder between starts (keyed by their text)."""
        if self.cache_dir is None:
            return self.embedder.embed(texts)
        key = hashlib.sha256("\x1f".join(["all-MiniLM-L6-v2", *texts]).encode()).hexdigest()[:24]
        path = self.cache_dir / f"routing-{key}.npy"
        try:
            vecs = np.load(path)
            if vecs.shape == (len(texts), self.embedder.dim):
                return vecs
        except (OSError, ValueError):
            pass
        vecs = self.embedder.embed(texts)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, vecs)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only data dir: embed again at the next start
        return vecs

    def is_follow_up(self, question: str) -> bool:
        """A message that leans on the one before it (``follow_up_patterns``, two words or fewer), or asks the
        council to act on something it named ("great, opt both of them out then please": a hand-off pattern
        with words that point back, ``points_back_patterns``)."""
        self.warm_up()
        q = question.strip()
        return (self._follow.search(q) or len(tokens(q)) <= 2
                or self._handoff.search(q) and self._points_back.search(q))  # fmt: skip

    def with_subject(self, question: str) -> str:
        """``question``, saying what it is about when it is a short message about "it" and names
        nothing ("who sees it?" is about the resident's information: routing.yaml ``unnamed_subject``).

        Only for a first message: later, "it" is what the conversation was about (``is_follow_up``).
        """
        self.warm_up()
        if self._unnamed is None:
            return question
        most, pronouns, named, handled, means = self._unnamed
        if (len(question.split()) <= most and pronouns.search(question) and handled.search(question)
                and not named.search(question)):  # fmt: skip
            return f"{question} ({means})"
        return question

    def mentions_privacy(self, question: str) -> bool:
        low = question.lower()
        return bool(self._terms_single & set(tokens(question))) or any(t in low for t in self._terms_multi)

    def at_risk(self, question: str, label: str, safe_sim: float) -> bool:
        """Harm words in a present, personal situation; or a question like a safeguarding one.

        Harm words that only say what a record holds ("the assessment says I was drunk") or
        tell of the past ("six years ago") don't count (``recorded_harm_patterns``).

        Errs towards signposting: showing 999 to someone asking about records costs a line,
        missing a child at risk costs far more.
        """
        if safe_sim >= 0.62:
            return True
        if not self._safeguarding.search(self._recorded_harm.remove(question)):
            return False  # no harm words, or only as what a record says or as the past
        cue = self._safeguarding_cues.search(question)
        return label == "safeguarding" or cue or not self.mentions_privacy(question)

    def vote(self, qvec: np.ndarray) -> tuple[dict[str, float], list[int]]:
        sims = self._matrix @ qvec  # type: ignore[operator]
        top = list(np.argsort(-sims)[: self.k])
        votes: dict[str, float] = defaultdict(float)
        for i in top:
            votes[self._labels[i][0]] += float(sims[i])
        return votes, top

    def request_type(self, question: str, qvec: np.ndarray) -> str:
        """The DPO request the question fits, for the form to open with (assistant/request_type.py)."""
        return default_request_type_model().predict(question, qvec)

    def typed_phrasings(self) -> tuple[list[str], list[str]]:
        """routing.yaml's rights and hand-off phrasings and their request types (to fit the request-type model)."""
        self.warm_up()
        typed = [k for k, (lab, _) in enumerate(self._labels) if lab in ("rights", "handoff")]
        return [self._examples[k] for k in typed], [self._labels[k][1] or "other_question" for k in typed]

    def asks_to_act(self, question: str) -> bool:
        """Words that ask the council to do something (routing.yaml ``handoff_patterns``)."""
        self.warm_up()
        return self._handoff.search(question)

    def asks_what_is_held(self, question: str) -> bool:
        """Asking whether a kind of data is held ("is my kids nhs number on there?": routing.yaml ``held_data``)."""
        self.warm_up()
        return self._held.search(question)

    def about_a_right(self, question: str) -> bool:
        """Words that name a right or ask what one may do ("can I opt him out?": ``rights_patterns``,
        ``asking_whether_patterns``)."""
        self.warm_up()
        return self._rights.search(question) or self._asking.search(question)

    def about_itself(self, question: str) -> bool:
        """A question about the assistant ("are you a real person?"): told what it is (``about_assistant_patterns``)."""
        self.warm_up()
        return self._about_assistant.search(question)

    def like_off_topic(self, qvec: np.ndarray) -> bool:
        """Whether the question is as close to one of the off-topic phrasings (``examples: out_of_scope``) as
        ``follow_up_off_topic_similarity`` asks for: "and what's the weather like?" is, "how long for?" is not."""
        self.warm_up()
        at = self.follow_up_off_topic_similarity
        return at is not None and float(np.max(self._matrix[self._by_label["out_of_scope"]] @ qvec)) >= at

    def near_uncovered_topic(self, qvec: np.ndarray) -> bool:
        """Whether the question is as close to a topic the notices don't cover (``uncovered_topics``) as
        ``uncovered_topic_similarity`` asks for."""
        at = self.uncovered_topic_similarity
        return at is not None and self._uncovered(qvec) >= at

    def _uncovered(self, qvec: np.ndarray) -> float:
        """Cosine of the question with the nearest topic the notices don't cover."""
        self.warm_up()
        return float(np.max(self._topics @ qvec)) if self._topics is not None else 0.0

    def injection(self, question: str) -> bool:
        """An attempt to make the assistant do something else (never a privacy question)."""
        self.warm_up()
        return self._out_of_scope.search(question)

    def signals(self, question: str, qvec: np.ndarray) -> dict[str, float]:
        """What the labelled phrasings and the patterns say about ``question`` (ROUTER_SIGNALS)."""
        self.warm_up()
        sims = self._matrix @ qvec  # type: ignore[operator]
        out: dict[str, float] = {}
        for label in LABELS:
            s = np.sort(sims[self._by_label[label]])[::-1]
            out[f"max_{label}"] = float(s[0])
            out[f"top3_{label}"] = float(s[:3].mean())
        votes, top = self.vote(qvec)
        total = sum(votes.values()) or 1.0
        for label in LABELS:
            out[f"vote_{label}"] = votes.get(label, 0.0) / total
        out["uncovered_topic"] = self._uncovered(qvec)
        out["pattern_injection"] = float(self.injection(question))
        out["pattern_harm"] = float(self._safeguarding.search(question))
        out["pattern_harm_cue"] = float(self._safeguarding_cues.search(question))
        out["pattern_act"] = float(self._handoff.search(question))
        out["pattern_right"] = float(self._rights.search(question))
        out["general_opener"] = float(self._openers.search(question))
        out["asking_whether"] = float(self._asking.search(question))
        out["asking_why"] = float(self._why.search(question))
        out["mentions_privacy"] = float(self.mentions_privacy(question))
        label = max(votes, key=votes.get)  # type: ignore[arg-type]
        out["at_risk"] = float(self.at_risk(question, label, out["max_safeguarding"]))
        return out

    def decide(self, question: str, qvec: np.ndarray, evidence: dict[str, float]) -> Decision:
        """The route, from a model fitted on labelled questions (assistant/data/router.json).

        ``evidence`` holds what retrieval found (EVIDENCE_SIGNALS): whether the notices
        answer is judged from it together with the phrasings, patterns and the question's
        embedding. A question about a council service that no notice in scope mentions
        is never answered from the notices (``most_probable``). A child at risk is
        signposted at a lower probability than other routes need, once the signposting
        check agrees (``choose``), and always when words of harm come with a present,
        personal situation (``at_risk``): showing 999 to someone asking about records costs
        a line. When the same message also asks the council to act (the hand-off is that
        probable, its words match a hand-off pattern, or the request check takes it for a
        request), the signposting comes with the DPO form, so the request is not lost; for the
        same reason a request is never given a plain answer or a pointer elsewhere (``choose``).
        A question asking how or where to ask for something ("what's the postal address to write
        to for a copy of my records?": ``asking_how_patterns``) is answered with the form, not
        handed off, unless its words ask the council to act.
        """
        if self.injection(question):
            return Decision(route="out_of_scope", reason="an instruction to do something else")
        signals = self.signals(question, qvec)  # warms up
        x = features(signals, evidence, qvec)
        expect, probs = choose(self._model, x, self.safeguarding_probability, self._check, self._requests,
                               self.uncovered_topic_similarity, self._answerability)  # fmt: skip
        if signals["pattern_harm"] and signals["at_risk"]:
            # Words of harm in a present, personal situation: signposting comes first, even
            # when the same message also asks about records or asks the council to act.
            expect = "safeguarding"
        elif expect == "handoff" and not signals["pattern_act"] and self._how.search(question):
            expect = "answer+offer"  # how or where to ask for something: a question about a right
        sims = self._matrix @ qvec  # type: ignore[operator]
        top = int(np.argmax(sims))
        base = {"label": expect, "nearest": self._examples[top], "similarity": float(sims[top]),
                "reason": ", ".join(f"{k} {v:.2f}" for k, v in sorted(probs.items(), key=lambda kv: -kv[1])[:3])}
        also_act = expect == "safeguarding" and (probs.get("handoff", 0.0) >= self.safeguarding_handoff_probability
                                                 or bool(signals["pattern_act"]) or self._requests.offers(x))
        if expect in ("answer+offer", "handoff") or also_act:
            route = "answer" if expect == "answer+offer" else expect
            offer = {"offers_handoff": True, "request_type": self.request_type(question, qvec)}
            return Decision(route=route, **offer, **base)  # type: ignore[arg-type]
        if expect == "unanswerable":
            return Decision(route="unanswerable", offers_handoff=True, request_type="other_question", **base)
        return Decision(route=expect, **base)  # type: ignore[arg-type]
