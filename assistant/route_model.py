"""The fitted routing models, and the rules that choose a route from what they say.

The router (assistant/route.py) computes a question's features: the signals of its
phrasings and patterns, what retrieval found and the question's embedding. Here a
multinomial logistic model (assistant/data/router.json, fitted by ``python -m eval
train-router`` on labelled questions, never the test split) turns them into route
probabilities, and ``choose`` picks the route, asking three second opinions of the same
kind fitted on more questions: the signposting check, the request check and the
answerability check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Routing labels of routing.yaml's examples (``rights`` is answer+offer).
LABELS = ("answer", "rights", "handoff", "safeguarding", "out_of_scope")
ROUTER_SIGNALS = (
    *(f"{kind}_{label}" for label in LABELS for kind in ("max", "top3")),
    *(f"vote_{label}" for label in LABELS),
    "uncovered_topic", "pattern_injection", "pattern_harm", "pattern_harm_cue", "pattern_act", "pattern_right",
    "general_opener", "asking_whether", "asking_why", "mentions_privacy", "at_risk",
)  # fmt: skip
# What retrieval and evidence selection found, computed by the pipeline.
EVIDENCE_SIGNALS = ("top_score", "second_score", "best_similarity", "best_overlap", "unknown_terms",
                    "unknown_share", "other_service", "log_words", "question_mark")  # fmt: skip
EMBEDDING_DIM = 384
FEATURES = (*ROUTER_SIGNALS, *EVIDENCE_SIGNALS, *(f"emb_{i}" for i in range(EMBEDDING_DIM)))
WEIGHTS = Path(__file__).resolve().parent / "data" / "router.json"
ANSWERABILITY_WEIGHTS = WEIGHTS.with_name("answerability.json")


def features(signals: dict[str, float], evidence: dict[str, float], qvec: np.ndarray) -> np.ndarray:
    head = [signals[k] for k in ROUTER_SIGNALS] + [evidence[k] for k in EVIDENCE_SIGNALS]
    return np.concatenate([np.asarray(head, dtype=np.float32), np.asarray(qvec, dtype=np.float32)])


_COLUMN = {name: i for i, name in enumerate(FEATURES)}


def signal(x: np.ndarray, name: str) -> float:
    """The value of the signal ``name`` in the feature row ``x``."""
    return float(x[_COLUMN[name]])


def flag(x: np.ndarray, name: str) -> bool:
    """Whether the signal ``name`` (a pattern that matched, say) is on in the feature row ``x``."""
    return bool(signal(x, name))


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


@dataclass(frozen=True)
class Answerability:
    """The answerability check and its threshold (``choose``): a second opinion on whether the notices answer."""

    check: RouteModel | None = None
    at: float = 0.9

    def doubts(self, x: np.ndarray) -> bool:
        """Whether the check gives "the notices don't say" ``at`` or more."""
        return self.check is not None and self.check.probability(x, "unanswerable") >= self.at


def choose(model: RouteModel, x: np.ndarray, threshold: float, check: RouteModel | None = None,
           requests: Requests | None = None, uncovered_at: float | None = None,
           answerability: Answerability | None = None) -> tuple[str, dict[str, float]]:  # fmt: skip
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
    to act ``offer_at`` or more ("I'm taking that consent back from today"), and goes to a
    person from ``handoff_at`` ("copy of my records pls"): the form then opens pre-filled and
    the reply says plainly that the assistant cannot act on it. A message about records the
    router took for off-topic ("your system still has me at my old flat") is handed to a
    person from ``handoff_at`` too. Offering the form costs a line; a lost request costs the
    resident their right.

    A first-person question about what one may do ("can I take my son off the register?",
    "am I allowed to see my file?": ``asking_whether``) asks about a right, not for the thing
    itself: it is answered from the notice with the form, whatever the router, the patterns
    or the request check made of it, and never with a plain answer when it names a right.

    Asking why the council does something in general ("why would the council keep photos of
    children in care?": ``asking_why``) is answered from the notices, which give the reasons,
    instead of being handed off as a question about one family's case ("why did you give my
    address to my ex?"), unless its words ask the council to act ("why are you still holding
    our file? I want it deleted"). The request check then weighs it like any other answer.

    A question this close (``uncovered_at``, a cosine similarity) to one of routing.yaml's
    topics the notices don't cover ("at what age can a child ask for their own records?") is
    told the notices don't say, whatever passages retrieval found on the nearby topic,
    unless its words ask the council to act. The router weighs the same similarity among its
    features, but one feature among hundreds moves it too little.

    A question the route would answer is told the notices don't say when the ``answerability``
    check (the same kind of model, fitted on the router's questions plus some 1,150 more in
    residents' words: ``python -m eval train-answerability``) gives that ``at`` or more, unless
    its words ask the council to act. Retrieval always finds the passages nearest a question's
    topic; a question beside what they say ("which companies has the DfE given pupil data
    to?", next to the paragraph on how the DfE shares it) reads much like one they answer, and
    the router, fitted on fewer such questions, quoted them.
    """
    expect, probs = _choose(model, x, threshold, check, requests, uncovered_at)
    if expect in ANSWERING and answerability is not None and not flag(x, "pattern_act") and answerability.doubts(x):
        return "unanswerable", probs
    return expect, probs


def _choose(model: RouteModel, x: np.ndarray, threshold: float, check: RouteModel | None,
            requests: Requests | None, uncovered_at: float | None) -> tuple[str, dict[str, float]]:  # fmt: skip
    probs = dict(zip(model.classes, model.probabilities(x).tolist()))
    uncovered = flag(x, "other_service")
    expect = most_probable(probs, uncovered)
    if expect == "safeguarding" or probs.get("safeguarding", 0.0) >= threshold:
        confirmed = check is None or check.probability(x, "safeguarding") >= threshold
        if not confirmed:
            other = most_probable(without(probs, "safeguarding"), uncovered)
            return ("answer+offer" if other == "answer" else other), probs
        expect = "safeguarding"
    asking, act = flag(x, "asking_whether"), flag(x, "pattern_act")
    near_uncovered = uncovered_at is not None and signal(x, "uncovered_topic") >= uncovered_at
    if expect in ANSWERING and near_uncovered and not act:
        return "unanswerable", probs
    if expect == "answer" and act and not asking:
        expect = "handoff"
    if expect == "handoff" and flag(x, "asking_why") and not act:
        expect = "answer"  # the request check may still offer the form, or hand it to a person
    if requests is not None and requests.check is not None:
        asks = requests.probability(x)
        if expect in ANSWERING and asks >= requests.handoff_at:
            expect = "handoff"
        elif expect == "answer" and asks >= requests.offer_at:
            expect = "answer+offer"
        elif expect == "out_of_scope" and flag(x, "mentions_privacy") and asks >= requests.handoff_at:
            expect = "handoff"
    if asking and (expect == "handoff" or expect == "answer" and (act or flag(x, "pattern_right"))):
        expect = "answer+offer"
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
def default_answerability_check() -> RouteModel | None:
    """assistant/data/answerability.json, fitted by ``python -m eval train-answerability``."""
    try:
        return RouteModel.from_dict(json.loads(ANSWERABILITY_WEIGHTS.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


@lru_cache(maxsize=1)
def default_request_check() -> RouteModel | None:
    check = shipped_weights().get("request_check")
    return RouteModel.from_dict(check) if check else None
