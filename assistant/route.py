"""Routing stage: which kind of reply a question gets.

Signals: the question's embedding (computed once per question) against the labelled
example phrasings of assistant/data/routing.yaml; the patterns of the same file for what
embeddings blur (prompt injection, a request to act as opposed to a question about a right,
words that say a child may be at risk, topics the notices don't cover); and what retrieval
found. A multinomial logistic model (assistant/data/router.json, fitted by
``python -m eval train-router`` on labelled questions, never the test split) weighs them.
Phrasings and patterns are data: edit routing.yaml, then refit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from assistant.embedder import Embedder
from assistant.lexical import tokens
from assistant.models import Route
from assistant.request_type import default_request_type_model
from assistant.resources import Patterns, load


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
                 request_handoff_probability: float = 0.5) -> None:  # fmt: skip
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.k = k
        self.safeguarding_probability = safeguarding_probability
        self.safeguarding_handoff_probability = safeguarding_handoff_probability
        self.requests = Requests(offer_at=request_offer_probability, handoff_at=request_handoff_probability)
        self.model = model  # a model of one's own comes without the shipped checks
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
        self._safeguarding = Patterns(data.get("safeguarding_patterns", []))
        self._safeguarding_cues = Patterns(data.get("safeguarding_cues", []))
        self._handoff = Patterns(data.get("handoff_patterns", []))
        self._rights = Patterns(data.get("rights_patterns", []))
        self._openers = Patterns(data.get("general_question_openers", []))
        topics = data.get("uncovered_topics", [])
        self._topics = self._embed(topics) if topics else None
        terms = [t.lower() for t in data["privacy_terms"]]
        self._terms_single = {tokens(t)[0] for t in terms if len(t.split()) == 1 and tokens(t)}
        self._terms_multi = [t for t in terms if len(t.split()) > 1]
        self._by_label = {label: np.asarray([i for i, (lab, _) in enumerate(self._labels) if lab == label])
                          for label in LABELS}  # fmt: skip
        self._matrix = self._embed(self._examples)
        # The fitted models are read at start-up, not on the first question.
        default_route_model(), default_signposting_check(), default_request_check(), default_request_type_model()

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
        self.warm_up()
        return self._follow.search(question.strip()) or len(tokens(question)) <= 2

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
        if not self._safeguarding.search(question):
            return False
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
        out["uncovered_topic"] = float(np.max(self._topics @ qvec)) if self._topics is not None else 0.0
        out["pattern_injection"] = float(self.injection(question))
        out["pattern_harm"] = float(self._safeguarding.search(question))
        out["pattern_harm_cue"] = float(self._safeguarding_cues.search(question))
        out["pattern_act"] = float(self._handoff.search(question))
        out["pattern_right"] = float(self._rights.search(question))
        out["general_opener"] = float(self._openers.search(question))
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
        """
        if self.injection(question):
            return Decision(route="out_of_scope", reason="an instruction to do something else")
        model = self.model or default_route_model()
        check = None if self.model else default_signposting_check()
        requests = replace(self.requests, check=None if self.model else default_request_check())
        signals = self.signals(question, qvec)
        x = features(signals, evidence, qvec)
        expect, probs = choose(model, x, self.safeguarding_probability, check, requests)
        if signals["pattern_harm"] and signals["at_risk"]:
            # Words of harm in a present, personal situation: signposting comes first, even
            # when the same message also asks about records or asks the council to act.
            expect = "safeguarding"
        sims = self._matrix @ qvec  # type: ignore[operator]
        top = int(np.argmax(sims))
        base = {"label": expect, "nearest": self._examples[top], "similarity": float(sims[top]),
                "reason": ", ".join(f"{k} {v:.2f}" for k, v in sorted(probs.items(), key=lambda kv: -kv[1])[:3])}
        also_act = expect == "safeguarding" and (probs.get("handoff", 0.0) >= self.safeguarding_handoff_probability
                                                 or bool(signals["pattern_act"]) or requests.offers(x))
        if expect in ("answer+offer", "handoff") or also_act:
            route = "answer" if expect == "answer+offer" else expect
            offer = {"offers_handoff": True, "request_type": self.request_type(question, qvec)}
            return Decision(route=route, **offer, **base)  # type: ignore[arg-type]
        if expect == "unanswerable":
            return Decision(route="unanswerable", offers_handoff=True, request_type="other_question", **base)
        return Decision(route=expect, **base)  # type: ignore[arg-type]


# Routing labels of routing.yaml's examples (``rights`` is answer+offer).
LABELS = ("answer", "rights", "handoff", "safeguarding", "out_of_scope")
ROUTER_SIGNALS = (
    *(f"{kind}_{label}" for label in LABELS for kind in ("max", "top3")),
    *(f"vote_{label}" for label in LABELS),
    "uncovered_topic", "pattern_injection", "pattern_harm", "pattern_harm_cue", "pattern_act", "pattern_right",
    "general_opener", "mentions_privacy", "at_risk",
)  # fmt: skip
# What retrieval and evidence selection found, computed by the pipeline.
EVIDENCE_SIGNALS = ("top_score", "second_score", "best_similarity", "best_overlap", "unknown_terms",
                    "unknown_share", "other_service", "log_words", "question_mark")  # fmt: skip
EMBEDDING_DIM = 384
FEATURES = (*ROUTER_SIGNALS, *EVIDENCE_SIGNALS, *(f"emb_{i}" for i in range(EMBEDDING_DIM)))
WEIGHTS = Path(__file__).resolve().parent / "data" / "router.json"


def features(signals: dict[str, float], evidence: dict[str, float], qvec: np.ndarray) -> np.ndarray:
    head = [signals[k] for k in ROUTER_SIGNALS] + [evidence[k] for k in EVIDENCE_SIGNALS]
    return np.concatenate([np.asarray(head, dtype=np.float32), np.asarray(qvec, dtype=np.float32)])


# The routes that answer from the notices' passages.
ANSWERING = ("answer", "answer+offer")


@dataclass(frozen=True)
class Requests:
    """The request check and its thresholds (``choose``): a second opinion on whether a message asks the council to act."""

    check: RouteModel | None = None
    offer_at: float = 0.3
    handoff_at: float = 0.5

    def probability(self, x: np.ndarray) -> float:
        return self.check.probability(x, "handoff") if self.check is not None else 0.0

    def offers(self, x: np.ndarray) -> bool:
        return self.check is not None and self.probability(x) >= self.offer_at


def choose(model: RouteModel, x: np.ndarray, threshold: float, check: RouteModel | None = None,
           requests: Requests | None = None) -> tuple[str, dict[str, float]]:  # fmt: skip
    """The route ``model`` gives the features ``x``, and its probabilities.

    Safeguarding needs only ``threshold`` (below what the other routes need), and, when
    there is a ``check``, the check's agreement at the same threshold. The check is the
    same kind of model fitted on more questions: the router's own training questions plus
    questions about children's data in a parent's or a teenager's words
    (eval/gold/wigan-children-train.jsonl). Fitted on the router's questions alone, the
    model takes a child's age or "my lad" in a question for a sign of risk, and showed
    999 to "how long do you keep stuff about my kid after they turn 18"; fitting the router
    itself on the children's questions as well moved its other routes (lower on the test
    split), so they only confirm or withdraw the signposting. When the check withdraws it,
    the question gets its most probable other route, and an answer comes with the DPO form:
    the router took the message for a child at risk, so it may be about more than the notices
    say, and a request to act in it ("keep my details from my ex") is not lost.

    A request to act is never given a plain answer or a pointer elsewhere: the router's
    answer becomes a hand-off when a hand-off pattern matches the words ("can you tell me
    everything you hold about me"), and comes with the form when the ``requests`` check (the
    same kind of model, fitted on the check's questions plus requests and questions about
    one's own records in residents' words, eval/gold/wigan-requests*.jsonl) gives a request
    to act ``offer_at`` or more ("I'm taking that consent back from today"); a message about
    records the router took for off-topic ("your system still has me at my old flat") is
    handed to a person from ``handoff_at``. Offering the form costs a line; a lost request
    costs the resident their right.
    """
    probs = dict(zip(model.classes, model.probabilities(x).tolist()))
    uncovered = bool(x[FEATURES.index("other_service")])
    expect = most_probable(probs, uncovered)
    if expect == "safeguarding" or probs.get("safeguarding", 0.0) >= threshold:
        confirmed = check is None or check.probability(x, "safeguarding") >= threshold
        if not confirmed:
            other = most_probable(without(probs, "safeguarding"), uncovered)
            return ("answer+offer" if other == "answer" else other), probs
        expect = "safeguarding"
    if expect == "answer" and x[FEATURES.index("pattern_act")]:
        expect = "handoff"
    if requests is not None and requests.check is not None:
        if expect == "answer" and requests.offers(x):
            expect = "answer+offer"
        elif expect == "out_of_scope" and x[FEATURES.index("mentions_privacy")] and \
                requests.probability(x) >= requests.handoff_at:  # fmt: skip
            expect = "handoff"
    return expect, probs


def without(probs: dict[str, float], route: str) -> dict[str, float]:
    return {k: v for k, v in probs.items() if k != route}


def most_probable(probs: dict[str, float], uncovered_service: bool) -> str:
    """The most probable route; never an answering one when ``uncovered_service``.

    The question then names a council service that no notice in scope mentions
    (``other_service``): whatever passages retrieval found are about something else, so
    quoting them as the answer would mislead.
    """
    ranked = sorted(probs, key=lambda k: -probs[k])
    if uncovered_service:
        ranked = [r for r in ranked if r not in ANSWERING] or ranked
    return ranked[0]


class RouteModel:
    """Multinomial logistic regression: softmax(W · standardised(x) + b)."""

    def __init__(self, classes: list[str], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray) -> None:  # fmt: skip
        self.classes, self.mean, self.scale, self.coef, self.intercept = classes, mean, scale, coef, intercept

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = self.coef @ ((x - self.mean) / self.scale) + self.intercept
        e = np.exp(z - z.max())
        return e / e.sum()

    def probability(self, x: np.ndarray, route: str) -> float:
        return float(self.probabilities(x)[self.classes.index(route)]) if route in self.classes else 0.0

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "classes": self.classes, "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": self.intercept.round(6).tolist()}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> "RouteModel":
        if tuple(d["features"]) != FEATURES:
            raise ValueError(f"{WEIGHTS} was fitted on other features: run `python -m eval train-router`")
        arr = lambda k: np.asarray(d[k], dtype=np.float32)  # noqa: E731
        return cls(list(d["classes"]), arr("mean"), arr("scale"), arr("coef"), arr("intercept"))

    @staticmethod
    def fit(x: np.ndarray, y: list[str], c: float = 0.3) -> "RouteModel":
        from sklearn.linear_model import LogisticRegression

        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-4] = 1.0  # a (near-)constant feature: leave it unscaled
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit((x - mean) / scale, y)
        return RouteModel([str(k) for k in model.classes_], mean.astype(np.float32), scale.astype(np.float32),
                          model.coef_.astype(np.float32), model.intercept_.astype(np.float32))  # fmt: skip


@lru_cache(maxsize=1)
def shipped_weights() -> dict:
    return json.loads(WEIGHTS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_route_model() -> RouteModel:
    return RouteModel.from_dict(shipped_weights())


@lru_cache(maxsize=1)
def default_signposting_check() -> RouteModel | None:
    check = shipped_weights().get("signposting_check")
    return RouteModel.from_dict(check) if check else None


@lru_cache(maxsize=1)
def default_request_check() -> RouteModel | None:
    check = shipped_weights().get("request_check")
    return RouteModel.from_dict(check) if check else None
