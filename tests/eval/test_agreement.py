"""The gold behaviours against a blind second reader (eval/agreement.py)."""

import json

import pytest

from eval.__main__ import main
from eval.agreement import SECOND_READER, agreement, agreements, cohen_kappa, load_second_reader
from eval.gold import GoldError, load_gold
from tests.conftest import ROOT

GOLD_DIR = ROOT / "eval" / "gold"
FILES = ["wigan.jsonl", "wigan-tune.jsonl", "wigan-routing.jsonl", "wigan-routing2.jsonl", "wigan-routing3.jsonl",
         "wigan-children.jsonl", "wigan-children-train.jsonl", "wigan-requests.jsonl",
         "wigan-requests2.jsonl", "wigan-requests3.jsonl", "wigan-asking.jsonl",
         "wigan-why.jsonl", "wigan-fresh.jsonl", "wigan-fresh2.jsonl",
         "wigan-general-train.jsonl", "wigan-fresh3.jsonl", "wigan-conversations.jsonl", "wigan-conversations2.jsonl",
         "wigan-fresh4.jsonl", "wigan-twins-train.jsonl", "wigan-twins.jsonl", "wigan-twins2.jsonl",
         "wigan-fresh5.jsonl", "wigan-fresh6.jsonl", "wigan-retention.jsonl", "wigan-others.jsonl",
         "wigan-twins3.jsonl", "wigan-fresh7.jsonl", "wigan-twins4.jsonl",
         "wigan-conversations3.jsonl", "wigan-fresh8.jsonl"]


def test_cohen_kappa_matches_a_worked_example():
    # 10 items; the readers agree on 7. p_o = 0.7; shares a: x 0.5, y 0.5; b: x 0.6, y 0.4;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
    a = list("xxxxxyyyyy")
    b = list("xxxxyxxyyy")
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(list("xx"), list("xx")) == 1.0  # one label, used alike
    with pytest.raises(ValueError):
        cohen_kappa([], [])


def test_the_second_reader_labelled_every_gold_question_once():
    labels = load_second_reader()
    assert {lab.gold for lab in labels} == set(FILES)
    for name in FILES:
        ids = [lab.id for lab in labels if lab.gold == name]
        assert len(ids) == len(set(ids))
        assert set(ids) == {g.id for g in load_gold(GOLD_DIR / name)}, name


def test_the_gold_behaviours_are_as_clear_as_a_blind_reader_finds_them():
    """A gold label edited away from what a careful reader would choose shows up here."""
    results = {r.gold: r for r in agreements(GOLD_DIR)}
    for name in FILES:
        assert results[name].kappa >= 0.95, (name, results[name].disagreements)
    hi, n = results["all"].high_confidence
    assert hi / n >= 0.99


def test_a_changed_gold_label_lowers_agreement_and_an_unknown_id_is_refused():
    gold = load_gold(GOLD_DIR / "wigan.jsonl")
    labels = [lab for lab in load_second_reader() if lab.gold == "wigan.jsonl"]
    before = agreement(gold, labels, "wigan.jsonl")
    flipped = [g.model_copy(update={"expect": "out_of_scope"}) if g.expect == "safeguarding" else g for g in gold]
    after = agreement(flipped, labels, "wigan.jsonl")
    assert after.agreed == before.agreed - before.per_route["safeguarding"][1]
    assert {d.id for d in after.disagreements} >= {g.id for g in gold if g.expect == "safeguarding"}
    with pytest.raises(GoldError, match="does not hold"):
        agreement(gold[:10], labels, "wigan.jsonl")


def test_a_broken_label_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "labels.jsonl"
    good = SECOND_READER.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(good + "\n" + json.dumps({"gold": "wigan.jsonl", "id": "q001", "expect": "maybe",
                                                "confidence": "high"}) + "\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(GoldError, match=r"labels.jsonl:2: expect"):
        load_second_reader(path)


def test_the_command_prints_the_table_and_the_disagreements(capsys):
    assert main(["agreement", "-v", "--json"]) == 0
    out = capsys.readouterr().out
    assert "| wigan.jsonl | 186 |" in out
    assert "Cohen's kappa" in out
    last = json.loads(out.strip().splitlines()[-1])
    assert [r["gold"] for r in last] == [*FILES, "all"]
    assert all(0.0 <= r["kappa"] <= 1.0 for r in last)


def test_the_report_puts_the_reader_next_to_each_system_on_the_same_questions(tmp_path):
    from eval.agreement import reader_agreement, report_section
    from eval.report import write_report

    gold_path = GOLD_DIR / "wigan.jsonl"
    assert reader_agreement(gold_path, load_gold(gold_path, "dev"), tmp_path / "none.jsonl") is None  # no labels
    reader = reader_agreement(gold_path, load_gold(gold_path, "test"))  # the questions of this run only
    test = load_gold(gold_path, "test")
    assert reader is not None and reader.questions == len(test) and set(reader.ids) == {g.id for g in test}
    # A system that answers everything plainly is right on exactly the test questions expecting a plain answer.
    rows = [{"id": g.id, "question": g.question, "expect": g.expect, "route": "answer", "offers_handoff": False,
             "citations": [], "retrieved": [], "latency_ms": 1.0} for g in load_gold(gold_path)]  # fmt: skip
    lines = report_section(reader, {"plain": rows})
    plain = sum(g.expect == "answer" for g in test)
    assert f"| plain | {plain / len(test):.3f} ({plain}) |" in lines
    assert f"| second reader | {reader.share:.3f} ({reader.agreed};" in "\n".join(lines)
    systems = {"plain": {"questions": len(rows), "behaviour": {}, "behaviour_n": {}}}
    report = write_report(tmp_path, "wigan.jsonl", systems, {"plain": rows}, lines).read_text(encoding="utf-8")
    assert "## How clear the expected behaviours are" in report
