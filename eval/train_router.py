"""Fit the router (assistant/data/router.json) on labelled questions, never the test split.

Each question's features are computed exactly as ``Assistant.ask`` computes them. The
regularisation strength is chosen by stratified cross-validation, and the out-of-fold
accuracy per expected behaviour is printed per question file, so the reported figures
were not measured on questions the model was fitted on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.adapter import default_adapter
from assistant.guard import check
from assistant.pipeline import Assistant
from assistant.request_type import WEIGHTS as REQUEST_TYPE_WEIGHTS
from assistant.request_type import RequestTypeModel
from assistant.route_model import (ANSWERABILITY_WEIGHTS, ANSWERING, WEIGHTS, Answerability, Requests, RouteModel,
                                   choose, default_request_check, default_route_model,
                                   default_signposting_check)  # fmt: skip
from eval.gold import GoldItem
from eval.train_adapter import cross_fitted

C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
# The request-type model's grid: its C, and how loud the pattern flags are next to the embedding.
TYPE_C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)
PATTERN_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)


def collect(bot: Assistant, items: list[GoldItem], progress: bool = True) -> np.ndarray:
    bot.warm_up()
    rows = [bot.routing_features(i.question, i.notice) for i in tqdm(items, desc="features", unit="q", disable=not progress)]
    return np.stack(rows)


def folds(labels: list[str], seed: int = 0) -> np.ndarray:
    """Stratified fold number of each question."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(labels), dtype=int)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, y in enumerate(labels):
        by_label[y].append(i)
    for idx in by_label.values():
        for k, i in enumerate(rng.permutation(idx)):
            out[i] = k % FOLDS
    return out


def out_of_fold(x: np.ndarray, y: list[str], c: float, threshold: float, router_questions: int | None = None,
                check_questions: int | None = None, requests: Requests | None = None) -> list[str]:  # fmt: skip
    """Each question's route from models fitted without its fold.

    The router is fitted on the first ``router_questions`` questions only (all by default);
    with ``check_questions``, the signposting check of each fold on the first that many of
    the fold's others; with ``requests``, its request check on all of them.
    """
    n = len(y) if router_questions is None else router_questions
    m = check_questions
    fold = folds(y)
    pred = [""] * len(y)
    for f in range(FOLDS):
        train = np.flatnonzero(fold != f)
        model = RouteModel.fit(x[train[train < n]], [y[i] for i in train if i < n], c=c)
        second = RouteModel.fit(x[train[train < m]], [y[i] for i in train if i < m], c=c) if m else None
        asked = replace(requests, check=RouteModel.fit(x[train], [y[i] for i in train], c=c)) if requests else None
        for i in np.flatnonzero(fold == f):
            pred[i] = decide(model, x[i], threshold, second, asked)
    return pred


def decide(model: RouteModel, x: np.ndarray, threshold: float, check: RouteModel | None = None,
           requests: Requests | None = None) -> str:  # fmt: skip
    """As Router.decide: the most probable route, safeguarding from a lower probability (see ``choose``)."""
    return choose(model, x, threshold, check, requests)[0]


def accuracy_table(y: list[str], pred: list[str], source: list[str]) -> str:
    lines = []
    for src in dict.fromkeys(source):
        idx = [i for i, s in enumerate(source) if s == src]
        per = defaultdict(list)
        for i in idx:
            per[y[i]].append(pred[i] == y[i])
        cells = ", ".join(f"{k} {np.mean(v):.2f} ({len(v)})" for k, v in sorted(per.items()))
        lines.append(f"  {src}: {np.mean([pred[i] == y[i] for i in idx]):.3f} — {cells}")
    return "\n".join(lines)


def train_request_types(bot: Assistant, items: list[GoldItem], source: list[str],
                        out: Path = REQUEST_TYPE_WEIGHTS, more: Sequence[str] = ()) -> dict:  # fmt: skip
    """Fit the request-type model on the questions labelled with ``request_types`` and routing.yaml's phrasings.

    A question is right when the type chosen is among its ``request_types``; it is fitted on
    the first (the most fitting). C and the pattern weight are chosen by cross-validation over
    the labelled questions (the phrasings are always fitted on). Each file named in ``more`` is
    also scored with the chosen setting fitted without it: the accuracy on questions written
    apart from those it learns from.
    """
    labelled = [k for k, i in enumerate(items) if i.request_types]
    questions = [check(items[k].question, bot.settings.max_question_chars).question for k in labelled]
    qvecs = np.stack([bot.embedder.embed_query(q) for q in questions])
    accepted = [items[k].request_types for k in labelled]
    y = [a[0] for a in accepted]
    src = [source[k] for k in labelled]
    phrasings, types = bot.router.typed_phrasings()
    pvecs = bot.embedder.embed(phrasings)

    def fitted(train: np.ndarray, c: float, w: float) -> RequestTypeModel:
        return RequestTypeModel.fit([questions[i] for i in train] + phrasings,
                                    np.concatenate([qvecs[train], pvecs]), [y[i] for i in train] + types, c, w)  # fmt: skip

    def right(model: RequestTypeModel, rows: np.ndarray) -> list[bool]:
        return [model.predict(questions[i], qvecs[i]) in accepted[i] for i in rows]

    fold = np.random.default_rng(0).permutation(len(labelled)) % FOLDS
    best = None
    print(f"request types: {len(labelled)} labelled questions, {len(phrasings)} phrasings")
    for w in PATTERN_WEIGHTS:
        for c in TYPE_C_GRID:
            ok = np.zeros(len(labelled), dtype=bool)
            for f in range(FOLDS):
                rows = np.flatnonzero(fold == f)
                ok[rows] = right(fitted(np.flatnonzero(fold != f), c, w), rows)
            acc = float(ok.mean())
            if best is None or acc > best[2]:
                best = (w, c, acc, ok)
    assert best is not None
    w, c, acc, ok = best
    print(f"chose pattern weight {w}, C={c}: cross-validated request-type accuracy {acc:.3f}")
    for name in dict.fromkeys(src):
        own = np.asarray([s == name for s in src])
        line = f"  {name}: {ok[own].mean():.3f} ({own.sum()})"
        if name in more:
            line += f"; fitted without the file: {np.mean(right(fitted(np.flatnonzero(~own), c, w), np.flatnonzero(own))):.3f}"
        print(line)
    model = fitted(np.arange(len(labelled)), c, w)
    record = model.to_dict() | {"C": c, "questions": counts(src),
                                "phrasings": len(phrasings), "cv_accuracy": round(acc, 4)}  # fmt: skip
    out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(f"weights written to {out}")
    return record


def unseen_features(bot: Assistant, items: list[GoldItem], progress: bool = True) -> np.ndarray:
    """``collect``, except that the questions the shipped question adapter was fitted on get the
    signals of an adapter fitted without them, as a resident's question does (see eval/train_adapter.py)."""
    x = collect(bot, items, progress)
    shipped = bot.retriever.adapter or default_adapter()
    seen = [k for k, i in enumerate(items) if i.id in set(shipped.fitted_on)]
    if seen:
        rows = cross_fitted(bot, [items[k] for k in seen], shipped.penalty, FOLDS, lambda b, its, p: list(collect(b, its, p)))
        x[seen] = np.stack(rows)
        print(f"{len(seen)} questions the adapter was fitted on: signals from adapters fitted without them")
    return x


def train(bot: Assistant, sources: list[tuple[str, list[GoldItem]]], out: Path = WEIGHTS, progress: bool = True,
          check_sources: list[tuple[str, list[GoldItem]]] = (),
          request_sources: list[tuple[str, list[GoldItem]]] = ()) -> dict:  # fmt: skip
    """Fit the router on ``sources``, its signposting check on those and ``check_sources``, and
    its request check on all of them and ``request_sources``. (The request types the form opens
    with are fitted apart, on more questions: ``train_request_types``.)"""
    groups = [*sources, *check_sources, *request_sources]
    items = [i for _, group in groups for i in group]
    source = [name for name, group in groups for _ in group]
    n = sum(len(group) for _, group in sources)
    m = n + sum(len(group) for _, group in check_sources)
    y_all = [i.expect for i in items]
    x_all = unseen_features(bot, items, progress)
    x, y = x_all[:n], y_all[:n]
    threshold = bot.settings.safeguarding_probability
    tried = []
    for c in C_GRID:
        pred = out_of_fold(x, y, c, threshold)
        acc = float(np.mean([p == t for p, t in zip(pred, y)]))
        print(f"C={c}: cross-validated behaviour accuracy {acc:.3f}")
        tried.append((c, acc, pred))
    c, acc, pred = pick_c(tried, shipped_c(out), 1 / len(y))
    print(f"chose C={c}; out-of-fold accuracy per file and expected behaviour:")
    print(accuracy_table(y, pred, source[:n]))
    wrong = [(t, p) for t, p in zip(y, pred) if t in ("handoff", "safeguarding") and p == "answer"]
    print(f"  handoff or safeguarding questions routed to a plain answer: {len(wrong)}")
    model = RouteModel.fit(x, y, c=c)
    record = model.to_dict() | {"C": c, "questions": counts(source[:n]), "cv_accuracy": round(acc, 4)}
    if check_sources:
        record["signposting_check"] = model_check(x_all[:m], y_all[:m], source[:m], n, c, threshold)
    if request_sources:
        requests = Requests(offer_at=bot.settings.request_offer_probability,
                            handoff_at=bot.settings.request_handoff_probability)  # fmt: skip
        record["request_check"] = request_check(x_all, y_all, source, n, m, c, threshold, requests)
    out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(f"weights written to {out}")
    return record


def shipped_c(path: Path) -> float | None:
    """The C of the router already at ``path``, if any."""
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["C"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pick_c(tried: list[tuple[float, float, list[str]]], keep: float | None,
           noise: float = 0.0) -> tuple[float, float, list[str]]:  # fmt: skip
    """The (C, accuracy, routes) with the best out-of-fold accuracy, unless the shipped router's
    C ``keep`` is within ``noise`` of it (train passes one question's worth).

    Cross-validated accuracies a question apart are noise: a refit that adds a signal or a
    phrase should not also move the regularisation, and every route with it, unless another C
    does better by more than that. Among ties, the first (the strongest regularisation).
    """
    best = max(acc for _, acc, _ in tried)
    kept = next((t for t in tried if t[0] == keep and t[1] >= best - noise - 1e-9), None)
    return kept or next(t for t in tried if t[1] == best)


def model_check(x: np.ndarray, y: list[str], source: list[str], n: int, c: float, threshold: float) -> dict:
    """The signposting check (route_model.choose), fitted on all the questions; the router is fitted on the first ``n``.

    Prints the out-of-fold routes with the check, and how many are signposted with and without it.
    """
    plain = out_of_fold(x, y, c, threshold, n)
    checked = out_of_fold(x, y, c, threshold, n, check_questions=len(y))
    print(f"with the signposting check, out of fold (the router fitted on the first {n} questions only):")
    print(accuracy_table(y, checked, source))
    for name, pred in (("without", plain), ("with", checked)):
        alarms = sum(p == "safeguarding" != t for p, t in zip(pred, y))
        missed = sum(t == "safeguarding" != p for p, t in zip(pred, y))
        print(f"  {name} the check: {alarms} other questions signposted, {missed} children at risk not signposted")
    return RouteModel.fit(x, y, c=c).to_dict() | {"questions": counts(source)}


def request_check(x: np.ndarray, y: list[str], source: list[str], n: int, m: int, c: float, threshold: float,
                  requests: Requests) -> dict:  # fmt: skip
    """The request check (route_model.choose), fitted on all the questions.

    Prints, out of fold, how many requests to act are given the form with and without it, and
    how many other questions change route (the router fitted on the first ``n`` questions,
    the signposting check on the first ``m``).
    """
    without = out_of_fold(x, y, c, threshold, n, check_questions=m)
    checked = out_of_fold(x, y, c, threshold, n, check_questions=m, requests=requests)
    print(f"with the request check, out of fold (offer the form from {requests.offer_at}, "
          f"hand off an answer or an off-topic route from {requests.handoff_at}):")  # fmt: skip
    print(accuracy_table(y, checked, source))
    asked = [i for i, t in enumerate(y) if t == "handoff"]
    for name, pred in (("without", without), ("with", checked)):
        given = sum(pred[i] in ("handoff", "answer+offer", "unanswerable") for i in asked)
        print(f"  {name} the check: {given} of {len(asked)} requests to act given the form")
    moved = sum(a != b and t != "handoff" for a, b, t in zip(without, checked, y))
    print(f"  other questions whose route the check changed: {moved} of {len(y) - len(asked)}")
    return RouteModel.fit(x, y, c=c).to_dict() | {"questions": counts(source)}


def counts(names: list[str]) -> dict[str, int]:
    return {k: names.count(k) for k in dict.fromkeys(names)}


def train_answerability(bot: Assistant, sources: list[tuple[str, list[GoldItem]]],
                        more: list[tuple[str, list[GoldItem]]], out: Path = ANSWERABILITY_WEIGHTS,
                        progress: bool = True, thresholds: tuple[float, ...] = (0.7, 0.8, 0.9)) -> dict:  # fmt: skip
    """Fit the answerability check (route_model.choose) on the router's ``sources`` and ``more``.

    The shipped router and its checks are left as they are (refitting them moves other routes).
    For each file of ``more``, prints its routes from the shipped models alone and with a check
    fitted without that file, at each threshold: accuracy, questions rightly told the notices
    don't say, and answerable questions wrongly told so.
    """
    router = bot.router
    groups = [*sources, *more]
    items = [i for _, group in groups for i in group]
    source = [name for name, group in groups for _ in group]
    x, y = unseen_features(bot, items, progress), [i.expect for i in items]
    c = shipped_c(WEIGHTS) or 0.3
    model, signposting = default_route_model(), default_signposting_check()
    requests = Requests(default_request_check(), router.request_offer_probability, router.request_handoff_probability)

    def routes(rows: np.ndarray, answerability: Answerability | None) -> list[str]:
        return [choose(model, row, router.safeguarding_probability, signposting, requests,
                       router.uncovered_topic_similarity, answerability)[0] for row in rows]  # fmt: skip

    print(f"answerability check, C={c}; each file with a check fitted without it (accuracy, told the notices "
          f"don't say rightly / wrongly):")  # fmt: skip
    print("  file: without the check | " + " | ".join(f"from {t}" for t in thresholds))
    for name, _ in more:
        own = np.asarray([s == name for s in source])
        check = RouteModel.fit(x[~own], [t for t, o in zip(y, own) if not o], c=c)
        truth = [t for t, o in zip(y, own) if o]
        cells = []
        for t in (None, *thresholds):
            pred = routes(x[own], None if t is None else Answerability(check, t))
            right = sum(p == e == "unanswerable" for p, e in zip(pred, truth))
            wrong = sum(p == "unanswerable" and e in ANSWERING for p, e in zip(pred, truth))
            cells.append(f"{np.mean([p == e for p, e in zip(pred, truth)]):.3f} ({right}/{wrong})")
        print(f"  {name} ({truth.count('unanswerable')} unanswerable): " + " | ".join(cells))
    record = RouteModel.fit(x, y, c=c).to_dict() | {"C": c, "questions": counts(source)}
    out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(f"weights written to {out}")
    return record
