"""The question adapter's part of fitting (assistant/adapter.py), never on the test split.

``cross_fitted`` gives every question the signals it would get from an adapter that was
fitted without it (on the other folds). The ranker is fitted, and its regularisation
chosen, on those signals; so is the router, for the questions the adapter was fitted on.
On signals from an adapter that had seen the question, both would trust the adapted
cosine (and the ranking scores built on it) more than unseen questions justify.
"""

from __future__ import annotations

import numpy as np

from assistant.adapter import Example, QueryAdapter
from assistant.guard import check
from assistant.models import scope_ids
from assistant.pipeline import Assistant
from eval.gold import GoldItem
from eval.metrics import norm

PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0)
EPOCHS = 200


def scope_example(qvec: np.ndarray, retriever, rows: np.ndarray, docs: list[str], wanted: list[str]) -> Example:  # noqa: ANN001
    """A question's example: the passages of ``rows``; those whose text (in ``docs``, normalised) holds a ``wanted`` string answer it."""
    positive = np.asarray([any(w in docs[i] for w in wanted) for i in rows.tolist()], dtype=bool)
    return Example(qvec, retriever.vecs[rows], positive)


def examples(bot: Assistant, items: list[GoldItem]) -> list[Example]:
    """Each question: its vector, its scope's passage vectors, and which of them hold a gold quote."""
    bot.warm_up()
    r = bot.retriever
    docs = [norm(d) for d in r.docs]
    out = []
    for item in items:
        q = check(item.question, bot.settings.max_question_chars).question
        rows = r._rows(scope_ids(item.notice))
        rows = np.arange(len(r.ids)) if rows is None else rows
        out.append(scope_example(bot.embedder.embed_query(q), r, rows, docs, [norm(e) for e in item.evidence]))
    return out


def fit(bot: Assistant, items: list[GoldItem], penalty: float | None) -> QueryAdapter:
    """The adapter fitted on ``items`` (none: the identity, so adapted signals equal the plain ones)."""
    if penalty is None:
        return QueryAdapter.identity(bot.embedder.dim)
    return QueryAdapter.fit(examples(bot, items), penalty, EPOCHS, ids=tuple(i.id for i in items))


def cross_fitted(bot: Assistant, items: list[GoldItem], penalty: float | None, folds: int, collect) -> list:  # noqa: ANN001
    """``collect(bot, items)`` for each fold of ``items``, with the adapter fitted on the other folds."""
    keep = bot.retriever.adapter
    fold_of = {item.id: k % folds for k, item in enumerate(np.random.default_rng(0).permutation(np.asarray(items, dtype=object)))}
    out = {}
    for fold in range(folds):
        bot.retriever.adapter = fit(bot, [i for i in items if fold_of[i.id] != fold], penalty)
        held = [i for i in items if fold_of[i.id] == fold]
        out.update(zip([i.id for i in held], collect(bot, held, False)))
    bot.retriever.adapter = keep
    return [out[i.id] for i in items]
