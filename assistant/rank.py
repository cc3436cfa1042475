"""Learned ranking: a linear model over a handful of retrieval signals per candidate.

The signals (``FEATURES``) are computed by ``HybridRetriever`` for every candidate passage
that any first-stage search found (dense passage, dense sentence, BM25). The weights come
from ``assistant/data/ranker.json``, fitted by ``python -m eval train-ranker`` on the
gold set's dev split and the separate tuning set only (never on the test split).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

FEATURES = (
    "dense",  # cosine of the question and the passage (title, section, text)
    "dense_rel",  # that cosine minus the best candidate's
    "unit",  # cosine of the question and the passage's closest sentence or list item
    "unit_rel",
    "unit2",  # the second closest sentence (a passage that matches twice)
    "adapted",  # cosine with the adapted question vector (assistant/adapter.py)
    "adapted_rel",
    "adapted_unit",  # the same for the passage's closest sentence or list item
    "adapted_unit_rel",
    "bm25_rel",  # BM25 score over the best BM25 score of the question
    "cover",  # idf-weighted share of the question's words found in the passage
    "section_cover",  # idf-weighted share of the question's words found in the section heading
    "rr_dense",  # 1 / rank in each first-stage list (0 when absent)
    "rr_unit",
    "rr_bm25",
    "unit_notice_rel",  # closest-sentence cosine minus the best of the same notice's candidates
    "rr_in_notice",  # 1 / rank by closest-sentence cosine among the same notice's candidates
    "centrality",  # cosine with the centre of all passages: generic passages match everything
    "current",  # the notice is in force (not an older version)
    "is_list",
    "log_chars",
)

WEIGHTS = Path(__file__).resolve().parent / "data" / "ranker.json"


class Ranker:
    """score = w · standardised(features) + b (a logistic regression's logit)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, weights: np.ndarray, bias: float) -> None:
        self.mean, self.scale, self.weights, self.bias = mean, scale, weights, bias

    def score(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": round(float(self.bias), 6),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Ranker":
        if tuple(d["features"]) != FEATURES:
            raise ValueError(f"{WEIGHTS} was fitted on other features: run `python -m eval train-ranker`")
        arr = lambda k: np.asarray(d[k], dtype=np.float32)  # noqa: E731
        return cls(arr("mean"), arr("scale"), arr("weights"), float(d["bias"]))

    @staticmethod
    def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> "Ranker":
        from sklearn.linear_model import LogisticRegression

        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-4] = 1.0  # a (near-)constant feature: leave it unscaled
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit((x - mean) / scale, y)
        return Ranker(mean.astype(np.float32), scale.astype(np.float32),
                      model.coef_[0].astype(np.float32), float(model.intercept_[0]))  # fmt: skip


@lru_cache(maxsize=1)
def default_ranker() -> Ranker:
    return Ranker.from_dict(json.loads(WEIGHTS.read_text(encoding="utf-8")))
