"""The learned ranking and routing: fitted on tuning questions only, weights matching their features."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from assistant.adapter import QueryAdapter
from assistant.rank import FEATURES, WEIGHTS, Ranker, default_ranker
from eval.gold import load_gold
from eval.train_ranker import collect, cross_validate, recall_at, stack
from tests.conftest import ROOT

GOLD = ROOT / "eval" / "gold" / "wigan.jsonl"
# The files that measure the fitted models stay out of them: the test split, wigan-routing2, the
# general sets written after the answerability check (fresh3 to fresh8, the four sets of twins), the
# chats, the retention set and the set on the organisations the council shares with.
HELD_OUT = {"wigan.jsonl:test", "wigan-routing2.jsonl", "wigan-conversations.jsonl", "wigan-conversations2.jsonl",
            "wigan-conversations3.jsonl",
            "wigan-retention.jsonl", "wigan-others.jsonl",
            *(f"wigan-twins{k}.jsonl" for k in ("", "2", "3", "4")), *(f"wigan-fresh{k}.jsonl" for k in range(3, 9))}


@pytest.mark.parametrize("command", ["train-ranker", "train-router", "train-answerability", "train-request-types"])
def test_fitting_on_the_test_split_is_refused(tmp_path, command):
    out = tmp_path / "weights.json"
    proc = subprocess.run([sys.executable, "-m", "eval", command, "--gold", f"{GOLD}:test", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "test split" in proc.stderr
    assert not out.exists()


def test_shipped_weights_are_for_these_features_and_were_fitted_without_test():
    record = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(record["features"]) == FEATURES
    assert len(record["weights"]) == len(record["mean"]) == len(record["scale"]) == len(FEATURES)
    assert set(record["questions"]) == {"gold"}
    test_questions = sum(1 for g in load_gold(GOLD, "test") if g.evidence)
    assert record["questions"]["gold"] != test_questions
    default_ranker()  # loads


def test_a_refit_on_dev_questions_ranks_their_evidence_and_generalises(bot):
    items = load_gold(GOLD, "dev")
    # Without the adapter (fitted on these questions, it would flatter the held-out folds).
    shipped, bot.retriever.adapter = bot.retriever.adapter, QueryAdapter.identity(bot.embedder.dim)
    try:
        questions = collect(bot, items, progress=False)
    finally:
        bot.retriever.adapter = shipped
    assert len(questions) >= 30
    # Every gold quote is among the first-stage candidates (the ranking only orders them).
    assert np.mean([q.hits.any(axis=0).mean() for q in questions]) >= 0.95
    model = Ranker.fit(*stack(questions), c=0.03)
    assert recall_at(model, questions, 3) >= 0.85
    # Held-out folds: clearly better than the order of a single signal (dense cosine alone).
    r1, r3 = cross_validate(questions, 0.03)["gold"]
    dense_only = Ranker(np.zeros(len(FEATURES), np.float32), np.ones(len(FEATURES), np.float32),
                        np.eye(len(FEATURES), dtype=np.float32)[FEATURES.index("dense")], 0.0)  # fmt: skip
    assert r3 >= recall_at(dense_only, questions, 3) + 0.05, (r3, recall_at(dense_only, questions, 3))


def test_shipped_router_is_for_these_features_and_was_fitted_without_test():
    from assistant.route_model import FEATURES as ROUTE_FEATURES
    from assistant.route_model import WEIGHTS as ROUTE_WEIGHTS
    from assistant.route_model import default_route_model

    record = json.loads(ROUTE_WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(record["features"]) == ROUTE_FEATURES
    assert sorted(record["classes"]) == sorted(["answer", "answer+offer", "handoff", "unanswerable", "out_of_scope",
                                                "safeguarding"])  # fmt: skip
    assert all(":test" not in name for name in record["questions"])
    model = default_route_model()
    assert np.isfinite(model.scale).all() and (model.scale > 0).all()
    # The signposting check: fitted on the router's questions and the children's questions too.
    check = record["signposting_check"]
    assert tuple(check["features"]) == ROUTE_FEATURES and check["classes"] == record["classes"]
    assert check["questions"] == record["questions"] | {"wigan-children-train.jsonl": 301}
    # The request check: those and the requests in residents' words too (never wigan-requests3, held out).
    requests = record["request_check"]
    assert tuple(requests["features"]) == ROUTE_FEATURES and requests["classes"] == record["classes"]
    assert requests["questions"] == check["questions"] | {"wigan-requests.jsonl": 100, "wigan-requests2.jsonl": 100}


def test_the_answerability_check_is_fitted_on_no_held_out_file():
    from assistant.route_model import ANSWERABILITY_WEIGHTS, FEATURES as ROUTE_FEATURES, WEIGHTS as ROUTE_WEIGHTS
    from eval.__main__ import ANSWERABILITY_GOLD

    record = json.loads(ANSWERABILITY_WEIGHTS.read_text(encoding="utf-8"))
    router = json.loads(ROUTE_WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(record["features"]) == ROUTE_FEATURES and record["classes"] == router["classes"]
    more = {f"wigan-{k}.jsonl" for k in ANSWERABILITY_GOLD}
    assert set(record["questions"]) == set(router["questions"]) | more
    assert not HELD_OUT & set(record["questions"])


def test_shipped_request_type_model_matches_the_patterns_and_was_fitted_on_no_held_out_file():
    from assistant.request_type import WEIGHTS as TYPE_WEIGHTS
    from assistant.request_type import default_request_type_model, patterns
    from assistant.route_model import WEIGHTS as ROUTE_WEIGHTS
    from eval.__main__ import REQUEST_TYPE_GOLD

    record = json.loads(TYPE_WEIGHTS.read_text(encoding="utf-8"))
    router = json.loads(ROUTE_WEIGHTS.read_text(encoding="utf-8"))
    assert record["pattern_types"] == list(patterns())
    assert set(record["questions"]) == set(router["questions"]) | {f"wigan-{k}.jsonl" for k in REQUEST_TYPE_GOLD}
    assert not HELD_OUT & set(record["questions"])
    assert "other_question" in default_request_type_model().classes


def test_a_refit_request_type_model_generalises_to_questions_written_apart(bot, tmp_path):
    """Fitted on the router's training questions, scored on routing2 (never fitted on)."""
    from assistant.guard import check
    from assistant.request_type import RequestTypeModel
    from eval.train_router import train_request_types

    train = [("dev", load_gold(GOLD, "dev")), ("tune", load_gold(GOLD.with_name("wigan-tune.jsonl")))]
    items = [i for _, group in train for i in group]
    out = tmp_path / "request_type.json"
    record = train_request_types(bot, items, [name for name, group in train for _ in group], out)
    assert record["cv_accuracy"] >= 0.85
    model = RequestTypeModel.from_dict(json.loads(out.read_text(encoding="utf-8")))
    held = [i for i in load_gold(GOLD.with_name("wigan-routing2.jsonl")) if i.request_types]
    questions = [check(i.question, bot.settings.max_question_chars).question for i in held]  # as asked: redacted
    right = [model.predict(q, bot.embedder.embed_query(q)) in i.request_types for q, i in zip(questions, held)]
    assert len(held) >= 60 and np.mean(right) >= 0.85, np.mean(right)


def test_the_router_can_be_refitted_when_the_shipped_weights_are_for_other_features(monkeypatch):
    """A signal added to routing.yaml makes the shipped router.json stale; train-router must still run."""
    import argparse

    import assistant.route as route
    from eval.__main__ import tuning_assistant

    def stale():  # noqa: ANN202
        raise ValueError("router.json was fitted on other features")

    monkeypatch.setattr(route, "default_route_model", stale)
    bot = tuning_assistant(argparse.Namespace(index=None))
    bot.router.warm_up()  # the phrasings and patterns, which features need; no fitted model
    assert bot.router.signals("delete my file", bot.embedder.embed_query("delete my file"))["pattern_act"] == 1.0
    with pytest.raises(ValueError, match="other features"):
        route.Router(bot.embedder).warm_up()  # answering questions does need it


def test_a_refit_keeps_the_shipped_regularisation_unless_another_does_better_by_more_than_a_question(tmp_path):
    from eval.train_router import pick_c, shipped_c

    tried = [(0.03, 0.906, ["a"]), (0.1, 0.906, ["b"]), (0.3, 0.901, ["c"])]
    assert pick_c(tried, keep=0.1)[0] == 0.1  # a tie: the shipped C stays
    assert pick_c(tried, keep=0.3)[0] == 0.03  # the shipped C does worse: the best (first of the tied)
    assert pick_c(tried, keep=None)[0] == 0.03
    assert pick_c([(0.03, 0.90, []), (0.1, 0.91, [])], keep=0.03)[0] == 0.1  # another does better
    assert pick_c([(0.03, 0.906, []), (0.1, 0.904, [])], keep=0.1, noise=1 / 384)[0] == 0.1  # by one question: noise
    assert pick_c([(0.03, 0.906, []), (0.1, 0.900, [])], keep=0.1, noise=1 / 384)[0] == 0.03  # by more
    weights = tmp_path / "router.json"
    assert shipped_c(weights) is None  # no router yet
    weights.write_text(json.dumps({"C": 0.1}))
    assert shipped_c(weights) == 0.1
    weights.write_text("{not json")
    assert shipped_c(weights) is None
