"""Fit the ranking weights (assistant/data/ranker.json) and the question adapter
(assistant/data/adapter.npz) on tuning questions.

The questions with evidence quotes in the files the router is fitted on are used (by default the
gold set's ``dev`` split, the tuning set and the routing, children's and request files the
router and its checks learn from), never ``test`` nor a held-out file.
The adapter's penalty and the ranker's regularisation are chosen together by
cross-validation grouped by question, on signals from adapters fitted without the
question (eval/train_adapter.py); the cross-validated evidence recall@1/3 is printed for
each pair of values, so the figure reported is not measured on questions the models were
fitted on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.adapter import WEIGHTS as ADAPTER_WEIGHTS
from assistant.guard import check
from assistant.pipeline import Assistant
from assistant.rank import WEIGHTS, Ranker
from eval.gold import GoldItem
from eval import train_adapter as adapter
from eval.metrics import norm

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5


class Question:
    def __init__(self, x: np.ndarray, hits: np.ndarray, source: str = "gold", group: str = "") -> None:
        self.x = x  # features, one row per candidate
        self.hits = hits  # [candidate, gold quote]: the candidate's passage holds the quote
        self.source = source  # "gold" or "policyqa": CV figures are given per source
        self.group = group  # questions of one group (a PolicyQA policy) are held out together


def collect(bot: Assistant, items: list[GoldItem], progress: bool = True) -> list[Question]:
    """Candidates and their features for every question with evidence quotes."""
    bot.warm_up()
    out = []
    for item in tqdm([i for i in items if i.evidence], desc="candidates", unit="q", disable=not progress):
        q = check(item.question, bot.settings.max_question_chars).question
        cands, x = bot.retriever.candidates(q, bot.embedder.embed_query(q), item.notice)
        quotes = [norm(e) for e in item.evidence]
        hits = np.asarray([[qt in norm(c.text) for qt in quotes] for c in cands], dtype=bool).reshape(len(cands), len(quotes))
        out.append(Question(x, hits, "gold", item.id))
    return out


def recall_at(ranker: Ranker, questions: list[Question], k: int) -> float:
    """Mean share of gold quotes inside the top-k ranked passages (as eval.metrics)."""
    shares = []
    for q in questions:
        if len(q.x) == 0:
            shares.append(0.0)
            continue
        top = np.argsort(-ranker.score(q.x), kind="stable")[:k]
        shares.append(float(q.hits[top].any(axis=0).mean()))
    return float(np.mean(shares))


def stack(questions: list[Question]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([q.x for q in questions])
    y = np.concatenate([q.hits.any(axis=1) for q in questions]).astype(int)
    return x, y


def cross_validate(questions: list[Question], c: float, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Out-of-fold recall@1 and @3 per source; a group's questions are held out together."""
    groups = sorted({q.group for q in questions})
    fold_of = {g: i % FOLDS for i, g in enumerate(np.random.default_rng(seed).permutation(groups).tolist())}
    hits: dict[str, list[tuple[float, float]]] = {}
    for fold in range(FOLDS):
        train = [q for q in questions if fold_of[q.group] != fold]
        test = [q for q in questions if fold_of[q.group] == fold]
        if not test:
            continue
        model = Ranker.fit(*stack(train), c=c)
        for q in test:
            hits.setdefault(q.source, []).append((recall_at(model, [q], 1), recall_at(model, [q], 3)))
    return {src: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for src, v in hits.items()}


def train(bot: Assistant, items: list[GoldItem], out: Path = WEIGHTS, adapter_out: Path = ADAPTER_WEIGHTS,
          progress: bool = True) -> dict:  # fmt: skip
    """Fit the question adapter and the ranker; choose the adapter's penalty and the ranker's C together."""
    items = [i for i in items if i.evidence]
    best = None
    for penalty in (None, *adapter.PENALTIES):
        # Each question's signals come from an adapter fitted without it (see eval/train_adapter.py).
        questions = adapter.cross_fitted(bot, items, penalty, FOLDS, collect)
        if penalty is None:
            coverage = float(np.mean([q.hits.any(axis=0).mean() if len(q.x) else 0.0 for q in questions]))
            print(f"{len(questions)} questions; gold among the first-stage candidates: {coverage:.3f}")
            print("adapter penalty  C        cv recall@1 / @3")
        for c in C_GRID:
            r1, r3 = cross_validate(questions, c)["gold"]
            print(f"{str(penalty):<16} {c:<8} {r1:.3f} / {r3:.3f}")
            if best is None or (r3, r1) > best[2]:
                best = (penalty, c, (r3, r1), questions)
    assert best is not None
    penalty, c, (r3, r1), questions = best
    fitted = adapter.fit(bot, items, penalty)
    fitted.save(adapter_out)
    model = Ranker.fit(*stack(questions), c=c)
    record = model.to_dict() | {"C": c, "adapter_penalty": penalty, "questions": {"gold": len(questions)},
                                "cv_recall@3": {"gold": round(r3, 4)}}  # fmt: skip
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"chose adapter penalty {penalty}, C={c} (cv recall@1 {r1:.3f}, @3 {r3:.3f});"
          f" weights written to {adapter_out} and {out}")  # fmt: skip
    for name, w in zip(record["features"], record["weights"]):
        print(f"  {name:<16} {w:+.3f}")
    return record
