"""A learned linear correction of the question's vector towards the notices' wording.

Residents ask in their words ("other councils", "departments", "a list of children with
disabilities"); the notices answer in theirs ("Other local authorities", "Other teams
within Wigan Council", "a register of disabled children"). The embedding model puts
some of those pairs far apart. The adapter maps the question's vector ``q`` to
``normalise(q + D q)``, with ``D`` fitted so that passages holding the answer score above
the rest of the question's scope (``python -m eval train-ranker``, on the gold set's dev
split and the tuning set only, never the test split). Passage vectors are left as they
are, so no index is rebuilt. The ranker sees the adapted cosine as extra signals next to
the plain one and weighs them (assistant/rank.py), so a notice whose wording the adapter
has not learnt keeps the plain signals.

Weights: assistant/data/adapter.npz (``delta``, 384 x 384, float16).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "data" / "adapter.npz"


@dataclass
class Example:
    """One tuning question: its vector, the vectors of the passages in its scope, which of them hold the answer."""

    qvec: np.ndarray
    passages: np.ndarray
    positive: np.ndarray


class QueryAdapter:
    def __init__(self, delta: np.ndarray, penalty: float | None = None, fitted_on: tuple[str, ...] = ()) -> None:
        self.delta = np.asarray(delta, dtype=np.float32)
        self.penalty = penalty  # None: not fitted (the identity)
        self.fitted_on = fitted_on  # ids of the questions it was fitted on

    @classmethod
    def identity(cls, dim: int, penalty: float | None = None, fitted_on: tuple[str, ...] = ()) -> "QueryAdapter":
        """An adapter that leaves the question as it is (D = 0)."""
        return cls(np.zeros((dim, dim), dtype=np.float32), penalty, fitted_on)

    def apply(self, qvec: np.ndarray) -> np.ndarray:
        """The adapted question vector (unit length)."""
        a = qvec + self.delta @ qvec
        return (a / (np.linalg.norm(a) or 1.0)).astype(np.float32)

    def save(self, path: Path = WEIGHTS) -> None:
        with open(path, "wb") as f:
            np.savez_compressed(f, delta=self.delta.astype(np.float16), penalty=np.nan if self.penalty is None else self.penalty,
                                fitted_on=np.asarray(self.fitted_on, dtype=str))  # fmt: skip

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "QueryAdapter":
        with np.load(path) as d:
            penalty = float(d["penalty"])
            return cls(d["delta"], None if np.isnan(penalty) else penalty, tuple(str(i) for i in d["fitted_on"]))

    @staticmethod
    def fit(examples: list[Example], penalty: float, epochs: int = 200, temperature: float = 0.05,
            ids: tuple[str, ...] = ()) -> "QueryAdapter":  # fmt: skip
        """Minimise the mean softmax loss of the answer passages within each question's scope, plus ``penalty`` · |D|².

        Full-batch Adam from D = 0 (deterministic). Questions that share a scope (the same
        passages) are scored against it in one product.
        """
        import torch

        data = [e for e in examples if e.positive.any()]
        if not data:
            return QueryAdapter.identity(examples[0].qvec.shape[0] if examples else 384, penalty, ids)
        dim = data[0].qvec.shape[0]
        by_scope: dict[bytes, list[Example]] = {}
        for e in data:
            by_scope.setdefault(np.ascontiguousarray(e.passages, dtype=np.float32).tobytes(), []).append(e)
        groups = [(torch.from_numpy(np.asarray(g[0].passages, dtype=np.float32)),
                   torch.from_numpy(np.stack([e.qvec for e in g]).astype(np.float32)),
                   torch.from_numpy(~np.stack([e.positive for e in g])))
                  for g in by_scope.values()]  # fmt: skip
        delta = torch.zeros(dim, dim, requires_grad=True)
        opt = torch.optim.Adam([delta], lr=1e-3)
        for _ in range(epochs):
            opt.zero_grad()
            loss = torch.zeros(())
            for passages, q, other in groups:
                a = q + q @ delta.T
                logits = (a / a.norm(dim=1, keepdim=True)) @ passages.T / temperature
                loss = loss + (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(other, -1e9), 1)).sum()
            (loss / len(data) + penalty * (delta**2).sum()).backward()
            opt.step()
        return QueryAdapter(delta.detach().numpy(), penalty, ids)


@lru_cache(maxsize=1)
def default_adapter() -> QueryAdapter:
    return QueryAdapter.load()
