"""Which DPO request a question fits: the request type the form opens with.

A multinomial logistic model over the question's embedding and one flag per request type:
whether that type's ``request_type_patterns`` (routing.yaml) match the question. The
patterns hold the words that name a right ("delete", "correct", "object"); the embedding
alone hears the topic ("my son's file", "my records") louder than the verb, so "please
erase my son's records" sat nearest a subject-access phrasing. The weights
(assistant/data/request_type.json) are fitted by ``python -m eval train-request-types`` on
the labelled questions' ``request_types`` (the router's and every other file fitted on) and
routing.yaml's rights and hand-off phrasings.
The resident can always change the type in the form: this only saves them a step.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.guard import PLACEHOLDER
from assistant.resources import Patterns, load

WEIGHTS = Path(__file__).resolve().parent / "data" / "request_type.json"


@lru_cache(maxsize=1)
def patterns() -> dict[str, Patterns]:
    return {t: Patterns(ps) for t, ps in load("routing").get("request_type_patterns", {}).items()}


def flags(question: str) -> np.ndarray:
    """1.0 for each request type (in routing.yaml's order) whose patterns match ``question``.

    The placeholders of personal details ("[phone removed]") are not the resident's words:
    "removed" there asks for no erasure.
    """
    text = PLACEHOLDER.sub(" ", question)
    return np.asarray([float(ps.search(text)) for ps in patterns().values()], dtype=np.float32)


class RequestTypeModel:
    """softmax(W · [pattern_weight · flags, question vector] + b).

    The embedding is not standardised: its cosine geometry is what generalises from a few
    phrasings per type. ``pattern_weight`` sets how loud the flags are next to it (chosen
    by cross-validation with C).
    """

    def __init__(self, classes: list[str], coef: np.ndarray, intercept: np.ndarray, pattern_weight: float,
                 pattern_types: list[str]) -> None:  # fmt: skip
        self.classes, self.coef, self.intercept = classes, coef, intercept
        self.pattern_weight, self.pattern_types = pattern_weight, pattern_types

    def features(self, question: str, qvec: np.ndarray) -> np.ndarray:
        return np.concatenate([self.pattern_weight * flags(question), np.asarray(qvec, dtype=np.float32)])

    def predict(self, question: str, qvec: np.ndarray) -> str:
        return self.classes[int(np.argmax(self.coef @ self.features(question, qvec) + self.intercept))]

    def to_dict(self) -> dict:
        return {"classes": self.classes, "pattern_types": self.pattern_types, "pattern_weight": self.pattern_weight,
                "coef": self.coef.round(6).tolist(), "intercept": self.intercept.round(6).tolist()}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> "RequestTypeModel":
        if list(d["pattern_types"]) != list(patterns()):
            raise ValueError(f"{WEIGHTS} was fitted on other request_type_patterns: run `python -m eval train-request-types`")
        arr = lambda k: np.asarray(d[k], dtype=np.float32)  # noqa: E731
        return cls(list(d["classes"]), arr("coef"), arr("intercept"), float(d["pattern_weight"]),
                   list(d["pattern_types"]))  # fmt: skip

    @staticmethod
    def fit(questions: list[str], qvecs: np.ndarray, y: list[str], c: float,
            pattern_weight: float) -> "RequestTypeModel":  # fmt: skip
        from sklearn.linear_model import LogisticRegression

        x = np.concatenate([pattern_weight * np.stack([flags(q) for q in questions]), qvecs], axis=1)
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)
        return RequestTypeModel([str(k) for k in model.classes_], model.coef_.astype(np.float32),
                                model.intercept_.astype(np.float32), pattern_weight, list(patterns()))  # fmt: skip


@lru_cache(maxsize=1)
def default_request_type_model() -> RequestTypeModel:
    return RequestTypeModel.from_dict(json.loads(WEIGHTS.read_text(encoding="utf-8")))
