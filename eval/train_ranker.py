"""Fit the ranking weights (assistant/data/ranker.json) on tuning questions.

Only the gold set's ``dev`` split and the separate tuning set are used, never ``test``.
The regularisation strength is chosen by cross-validation grouped by question, and the
cross-validated evidence recall@1/3 is printed for each candidate value, so the figure
reported is not measured on the questions a model was fitted on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.guard import check
from assistant.pipeline import Assistant
from assistant.rank import WEIGHTS, Ranker
from eval.gold import GoldItem
from eval.metrics import norm

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5


class Question:
    def __init__(self, x: np.ndarray, hits: np.ndarray) -> None:
        self.x = x  # features, one row per candidate
        self.hits = hits  # [candidate, gold quote]: the candidate's passage holds the quote


def collect(bot: Assistant, items: list[GoldItem], progress: bool = True) -> list[Question]:
    """Candidates and their features for every question with evidence quotes."""
    bot.warm_up()
    out = []
    for item in tqdm([i for i in items if i.evidence], desc="candidates", unit="q", disable=not progress):
        q = check(item.question, bot.settings.max_question_chars).question
        cands, x = bot.retriever.candidates(q, bot.embedder.embed_query(q), item.notice)
        quotes = [norm(e) for e in item.evidence]
        hits = np.asarray([[qt in norm(c.text) for qt in quotes] for c in cands], dtype=bool).reshape(len(cands), len(quotes))
        out.append(Question(x, hits))
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


def cross_validate(questions: list[Question], c: float, seed: int = 0) -> tuple[float, float]:
    order = np.random.default_rng(seed).permutation(len(questions))
    r1, r3 = [], []
    for fold in range(FOLDS):
        held = set(order[fold::FOLDS].tolist())
        train = [q for i, q in enumerate(questions) if i not in held]
        test = [q for i, q in enumerate(questions) if i in held]
        model = Ranker.fit(*stack(train), c=c)
        r1.append(recall_at(model, test, 1) * len(test))
        r3.append(recall_at(model, test, 3) * len(test))
    return sum(r1) / len(questions), sum(r3) / len(questions)


def train(bot: Assistant, items: list[GoldItem], out: Path = WEIGHTS, progress: bool = True) -> dict:
    questions = collect(bot, items, progress)
    coverage = float(np.mean([q.hits.any(axis=0).mean() if len(q.x) else 0.0 for q in questions]))
    print(f"{len(questions)} questions; gold quotes among the first-stage candidates: {coverage:.3f}")
    print("C        cv recall@1  cv recall@3")
    best = None
    for c in C_GRID:
        r1, r3 = cross_validate(questions, c)
        print(f"{c:<8} {r1:.3f}        {r3:.3f}")
        if best is None or (r3, r1) > best[1:]:
            best = (c, r3, r1)
    assert best is not None
    model = Ranker.fit(*stack(questions), c=best[0])
    record = model.to_dict() | {"C": best[0], "questions": len(questions), "cv_recall@3": round(best[1], 4)}
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"chose C={best[0]} (cv recall@3 {best[1]:.3f}); weights written to {out}")
    for name, w in zip(record["features"], record["weights"]):
        print(f"  {name:<14} {w:+.3f}")
    return record
