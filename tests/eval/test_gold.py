"""The gold set is well formed and its evidence is verbatim notice text."""

import json
from collections import Counter

import pytest

from eval.gold import load_gold
from tests.conftest import ROOT

GOLD = ROOT / "eval" / "gold" / "wigan.jsonl"
EXPECT = {"answer", "answer+offer", "handoff", "unanswerable", "out_of_scope", "safeguarding"}


# The other gold files: sets fitted or tuned on, and held-out sets written apart; none holds a test question.
TUNING = sorted(GOLD.parent.glob("wigan-*.jsonl"))


def rows(path=GOLD):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", [GOLD, *TUNING], ids=lambda p: p.name)
def test_every_evidence_quote_is_in_its_notice(notices, path):
    for r in rows(path):
        bodies = [notices[r["notice"]].body] if r.get("notice") else [n.body for n in notices.values()]
        for quote in r.get("evidence", []):
            assert any(quote in b for b in bodies), (r["id"], quote)


def test_gold_set_size_categories_and_split():
    data = rows()
    assert len({r["id"] for r in data}) == len(data) >= 120
    assert all(r["expect"] in EXPECT for r in data)
    counts = Counter(r["expect"] for r in data)
    assert counts["answer"] >= 70 and all(counts[e] >= 8 for e in EXPECT - {"answer"})
    assert all(r["evidence"] for r in data if r["expect"] in ("answer", "answer+offer"))
    dev = sum(r["split"] == "dev" for r in data) / len(data)
    assert 0.25 <= dev <= 0.35


def test_tuning_sets_hold_no_test_questions():
    test = {r["question"].strip().lower() for r in rows() if r["split"] == "test"}
    assert len(TUNING) >= 2
    for path in TUNING:
        data = rows(path)
        assert all(r.get("split", "dev") == "dev" and r["expect"] in EXPECT for r in data), path.name
        assert not test & {r["question"].strip().lower() for r in data}, path.name


def test_every_gold_id_is_unique_across_the_files():
    """Fitting tells apart the questions the adapter was fitted on by id (eval/train_router.py):
    an id reused in another file would give that file's question the wrong signals."""
    ids = Counter(r["id"] for path in [GOLD, *TUNING] for r in rows(path))
    assert not [i for i, n in ids.items() if n > 1]


@pytest.mark.parametrize("path", [GOLD, *TUNING], ids=lambda p: p.name)
def test_questions_that_offer_the_form_name_the_requests_they_fit(path):
    """The request types are DPORequest's (load_gold validates them); the form's pre-fill is scored against them."""
    items = load_gold(path)
    offering = [i for i in items if i.expect in ("handoff", "answer+offer")]
    assert offering and all(i.request_types for i in offering), [i.id for i in offering if not i.request_types]
    assert not [i.id for i in items if i.request_types and i.expect not in ("handoff", "answer+offer")]
