"""The eval suite end to end (real model, real index) and its metrics on crafted results."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval.gold import GoldError, GoldItem, load_gold
from eval.metrics import behaviour_of, score, statements
from tests.conftest import ROOT

GOLD = ROOT / "eval" / "gold" / "wigan.jsonl"

# Floors that CI enforces on the held-out test split. The issue's targets are higher
# (recall@3 0.95, behaviour 0.95); these sit a question or two under today's levels, to catch
# regressions without failing when an index built afresh flips one question.
FLOORS = {"recall@3": 0.94, "cited_recall": 0.9, "groundedness": 1.0, "behaviour_accuracy": 0.92, "citation_precision": 0.49,
          "request_type_accuracy": 0.9}
# Per expected behaviour (issue targets: 0.95 each); 9-10 questions each on the test split.
ROUTE_FLOORS = {"answer": 0.91, "answer+offer": 0.8, "handoff": 0.8, "unanswerable": 0.66, "out_of_scope": 0.77,
                "safeguarding": 0.95}


def run_eval(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "eval", "run", "--quiet", "--json", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_test_split_meets_the_quality_floor(built_index, tmp_path):
    out = tmp_path / "results.jsonl"
    m = run_eval("--gold", str(GOLD), "--split", "test", "--out", str(out))["ours"]
    for key, floor in FLOORS.items():
        assert m[key] >= floor, (key, m[key], m)
    for route, floor in ROUTE_FLOORS.items():
        assert m["behaviour"][route] >= floor, (route, m["behaviour"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == m["questions"] == len(load_gold(GOLD, "test"))
    assert set(rows[0]) >= {"id", "question", "expect", "route", "offers_handoff", "text", "citations", "retrieved", "latency_ms"}


# Routing sets written apart by someone who saw neither the gold set nor the routing data; the
# router and its signposting and request checks are not fitted on them. The answerability check
# is fitted on all but wigan-routing2, -fresh3 to -fresh8, -twins, -twins2, -twins3, -twins4, -retention, -others
# and the chats (eval/__main__.py ANSWERABILITY_GOLD): on the others, these floors guard against
# regressions, and no longer measure routing on questions never fitted on. 20-56 questions per behaviour.
# (Their floors sit a question or two under today's levels; routing3 leans on the confusable pairs.)
HELD_OUT = {
    "wigan-routing2.jsonl": (0.9, {"answer": 0.9, "handoff": 0.88, "out_of_scope": 0.9, "safeguarding": 0.95}),
    "wigan-routing3.jsonl": (0.87, {"answer": 0.83, "handoff": 0.84, "out_of_scope": 0.87, "safeguarding": 0.95}),
    # Questions about children's data, most naming an age, beside children at risk in the same voice.
    "wigan-children.jsonl": (0.77, {"answer": 0.7, "handoff": 0.9, "safeguarding": 0.94}),
    # Requests to act in residents' words (wishes, stories, statements that a record is wrong)
    # beside questions about a right and ordinary questions in the same voice. (wigan-requests.jsonl
    # and wigan-requests2.jsonl, of the same kind, are fitted on by the request check.)
    "wigan-requests3.jsonl": (0.78, {"answer": 0.82, "answer+offer": 0.8, "handoff": 0.79}),
    # Questions about a right and requests to act opening with the same words ("can I...",
    # "could you...", "is it possible..."): only the meaning tells them apart. Written after the
    # asking_whether rule was chosen, to measure it.
    "wigan-asking.jsonl": (0.8, {"answer": 0.76, "answer+offer": 0.82, "handoff": 0.8}),
    # "Why" questions: why the council does something in general, beside why something was done
    # in one family's case or whether it was right. Written after the asking_why rule was chosen.
    "wigan-why.jsonl": (0.84, {"answer": 0.83, "handoff": 0.76, "out_of_scope": 0.87, "safeguarding": 0.95}),
    # General sets like the gold set (every section of both notices, all six behaviours), each
    # written before the rules of its session were chosen and not read until they were; fresh2
    # in more varied voices, and the hardest.
    "wigan-fresh.jsonl": (0.9, {"answer": 0.9, "answer+offer": 0.95, "handoff": 0.85, "out_of_scope": 0.93,
                                "safeguarding": 0.93}),
    "wigan-fresh2.jsonl": (0.82, {"answer": 0.75, "answer+offer": 0.89, "handoff": 0.85, "out_of_scope": 0.81,
                                  "safeguarding": 0.93}),
    # A third general set, written and labelled blind in a later session and run once at its
    # start and once at its end before any of its errors was read (0.833 both times).
    "wigan-fresh3.jsonl": (0.82, {"answer": 0.8, "answer+offer": 0.8, "handoff": 0.93, "out_of_scope": 0.92,
                                  "safeguarding": 0.93}),
    # Chats: the last message of two or three, read with the ones before ("how long for?" after a
    # question about photos). The first set was used to choose how a follow-up is placed
    # (Assistant._follow_up); the second was written apart and run once after (0.722 -> 0.789; 0.811 since).
    "wigan-conversations.jsonl": (0.78, {"answer": 0.77, "answer+offer": 0.58, "handoff": 0.78, "out_of_scope": 1.0,
                                         "safeguarding": 1.0}),
    "wigan-conversations2.jsonl": (0.79, {"answer": 0.88, "answer+offer": 0.5, "handoff": 0.85, "out_of_scope": 0.87,
                                          "safeguarding": 1.0}),
    # A third set of chats, written and labelled blind in a later session, after its first rules: run once
    # before any of its errors was read (0.795; 0.784 with the code of the session's start) and read since (0.843).
    "wigan-conversations3.jsonl": (0.82, {"answer": 0.84, "answer+offer": 0.75, "handoff": 0.93, "unanswerable": 0.6,
                                          "out_of_scope": 0.92, "safeguarding": 1.0}),
    # A fourth general set, and privacy questions the notices don't answer, each beside a twin on
    # the same topic that they do (the other half of the twins, wigan-twins-train, is fitted on by
    # the answerability check). Written and labelled blind in a later session; run at its start
    # (0.811 and 0.556) and once after the answerability check (0.828 and 0.574); fresh4 0.844 since,
    # with the two children at risk it missed then signposted.
    "wigan-fresh4.jsonl": (0.82, {"answer": 0.76, "answer+offer": 0.76, "handoff": 0.94, "unanswerable": 0.56,
                                  "out_of_scope": 0.88, "safeguarding": 0.93}),
    "wigan-twins.jsonl": (0.55, {"answer": 0.9, "answer+offer": 0.75, "unanswerable": 0.17}),
    # More of the twins, written after the answerability check was chosen: 0.564 without it, 0.614 with it.
    "wigan-twins2.jsonl": (0.6, {"answer": 0.9, "answer+offer": 0.72, "unanswerable": 0.36}),
    # A fifth and a sixth general set, written and labelled blind in a later session. fresh5 was run
    # once at its start (0.820) and its errors read: its two children at risk missed then are
    # signposted since, and two questions asking where to write are answered with the form (0.844).
    # fresh6 was run at its start and at its end, before any of its errors was read: 0.824 both times,
    # no route changed; since, a child at risk it missed is signposted and one more question asking
    # where to send a request is answered with the form (0.840).
    "wigan-fresh5.jsonl": (0.81, {"answer": 0.76, "answer+offer": 0.75, "handoff": 0.68, "unanswerable": 0.66,
                                  "out_of_scope": 0.92, "safeguarding": 0.93}),
    "wigan-fresh6.jsonl": (0.82, {"answer": 0.74, "answer+offer": 0.83, "handoff": 0.9, "unanswerable": 0.45,
                                  "out_of_scope": 0.83, "safeguarding": 0.93}),
    # One topic, how long records are kept and getting rid of them, in residents' words: what the
    # notices say (three sentences), what they don't (how long the DfE or the police keep data, an
    # exact number of years) and requests to delete or look up one's own file. Written and labelled
    # blind in a later session, run once before that session's retention words were chosen (0.786)
    # and read after. Since, six questions on how long another body keeps data are told the notices
    # don't say (0.871; asked_facts kept_elsewhere, chosen after reading them), and two on how long the
    # council keeps records are answered (0.900; stated_facts, chosen after reading them).
    "wigan-retention.jsonl": (0.84, {"answer": 0.76, "answer+offer": 0.66, "handoff": 0.83, "unanswerable": 0.89}),
    # The organisations the council shares with, and the council itself: what each keeps, for how long,
    # and what it does with the data. Written and labelled blind in a later session, after that session's
    # kept_elsewhere rule, and run once before any of its errors was read (0.691; without the rule 0.673).
    # Read after: 0.709 with stated_facts, which came of its ow007; 0.782 since kept_elsewhere hears deleting
    # and "they" after a named organisation, chosen after reading its errors.
    "wigan-others.jsonl": (0.75, {"answer": 0.7, "answer+offer": 0.66, "handoff": 0.88, "unanswerable": 0.56,
                                  "out_of_scope": 0.5, "safeguarding": 1.0}),
    # A third set of twins (183 questions: 109 the notices don't answer, 74 they do), written and labelled
    # blind in a later session after kept_elsewhere's deleting wordings were chosen, and run once (0.628) after
    # its "they" wordings, chosen after reading that rule's misses there. Fitting the answerability check
    # on it too lost more held-out questions than it gained (12 against 7), so it is held out.
    "wigan-twins3.jsonl": (0.6, {"answer": 0.9, "answer+offer": 0.9, "unanswerable": 0.38}),
    # A fourth set of twins (185: 102 the notices don't answer, 80 they do, 3 look-ups of one's own case
    # settled as hand-offs), written and labelled blind in a later session after its rules were chosen, and
    # run once before any of its errors was read (0.616; 0.595 with the session's asked_facts taken out).
    "wigan-twins4.jsonl": (0.58, {"answer": 0.88, "answer+offer": 0.64, "handoff": 0.6, "unanswerable": 0.38}),
    # A seventh general set (74 questions after 46 near-copies were left out), written and labelled blind at the
    # end of a later session, after that session's rules, and run once (0.865; 0.851 with them taken out). Read
    # after: a stranger photographing children is signposted and held_data answers fz051 (0.892).
    "wigan-fresh7.jsonl": (0.82, {"answer": 0.84, "answer+offer": 0.72, "handoff": 0.78, "unanswerable": 0.6,
                                  "out_of_scope": 0.71, "safeguarding": 0.9}),
    # An eighth general set (130 questions after 50 near-copies were left out), half of it on the practicalities
    # of using a right (by what means, who may ask for whom, a death, a move, turning 16 or 18), written and
    # labelled blind after that session's asked_facts kinds, and run once (0.831; the same with the kinds taken
    # out: none of its routes changed). Read after: a request after a sentence ("...next month. send all our
    # family's data over"), a relative's records asked for as next of kin, "get my kids info off the council"
    # read as a request, and "do i need to let u know if we move house??" answered by stated_facts (0.862).
    "wigan-fresh8.jsonl": (0.82, {"answer": 0.82, "answer+offer": 0.85, "handoff": 0.94, "unanswerable": 0.52,
                                  "out_of_scope": 0.75, "safeguarding": 0.9}),
}
# A request to act, or a child at risk, never gets a plain answer: none on the test split and
# the first three; one on wigan-requests3 ("The assessment says my partner lives with us. He
# doesn't and never has. That's just wrong.": a correction asked without a word of asking), and
# one on wigan-why, before the asking_why rule too ("he's told school he doesnt want his details
# passed on, so why is it still going out to the council"). Handed off since the words that make a
# message the request (handoff_patterns, read after these errors): wigan-why's "...why can't you just
# transfer all our records to their children's services? please do it" and wigan-fresh2's "only his
# name, address and date of birth are to be passed on from now on. Consider this me telling you.".
# Two children at risk on wigan-fresh4 got a plain answer in its clean runs; signposted since (read after them).
# One on wigan-retention: a grandmother asking whether the council still holds her grandchildren's
# Early Help records (a look-up of one family's file) is answered from the retention paragraph.
# One on wigan-fresh7: "tell me exactly what health info the CCG is keeping on my son" (a look-up) is answered.
# One on wigan-twins4: "which organisations has the DfE actually given my son's pupil data to? i want to know
# who has it" (a look-up of one's own case) is answered from the DfE's sharing paragraph.
DECIDED = {"wigan-requests3.jsonl": 1, "wigan-why.jsonl": 1, "wigan-retention.jsonl": 1, "wigan-fresh7.jsonl": 1,
           "wigan-twins4.jsonl": 1}
# Ordinary questions given the 999 signposting instead of an answer: at most (today 1, 2 and 1;
# 2, 4 and 6 before the signposting check).
FALSE_ALARMS = {"wigan-routing2.jsonl": 2, "wigan-routing3.jsonl": 3, "wigan-children.jsonl": 3, "wigan-requests3.jsonl": 2,
                "wigan-asking.jsonl": 1, "wigan-why.jsonl": 3, "wigan-fresh.jsonl": 2,
                "wigan-fresh2.jsonl": 5, "wigan-conversations.jsonl": 2, "wigan-conversations2.jsonl": 1,
                "wigan-fresh3.jsonl": 1, "wigan-fresh4.jsonl": 1, "wigan-twins.jsonl": 1, "wigan-twins2.jsonl": 2,
                "wigan-fresh5.jsonl": 3, "wigan-fresh6.jsonl": 2, "wigan-retention.jsonl": 0,
                "wigan-others.jsonl": 0, "wigan-twins3.jsonl": 0, "wigan-fresh7.jsonl": 0,
                "wigan-twins4.jsonl": 0, "wigan-conversations3.jsonl": 5, "wigan-fresh8.jsonl": 0}
# The request type the DPO form opens with, among the answers that offer it. Since the request-type
# model is fitted on every file the router or a check is fitted on (python -m eval train-request-types),
# those files guard against regressions only. On the held-out ones: fresh3 0.875 -> 0.958, fresh4
# 0.765 -> 0.971, twins2 0.600 -> 0.900, fresh5 0.824 -> 0.853, routing2 0.957 both times; the chats
# one question lower each (0.833 -> 0.792, 0.818 -> 0.773); fresh6, written before the refit and
# unread, 0.684 at the session's start and 0.842 at its end.
REQUEST_TYPE_FLOORS = {"wigan-routing2.jsonl": 0.93, "wigan-routing3.jsonl": 0.95, "wigan-children.jsonl": 0.93,
                       "wigan-requests3.jsonl": 0.95, "wigan-asking.jsonl": 0.93, "wigan-why.jsonl": 0.93,
                       "wigan-fresh.jsonl": 0.94, "wigan-fresh2.jsonl": 0.95, "wigan-conversations.jsonl": 0.75,
                       "wigan-conversations2.jsonl": 0.72, "wigan-fresh3.jsonl": 0.9, "wigan-fresh4.jsonl": 0.9,
                       "wigan-twins.jsonl": 0.5, "wigan-twins2.jsonl": 0.8, "wigan-fresh5.jsonl": 0.8,
                       "wigan-fresh6.jsonl": 0.78, "wigan-retention.jsonl": 0.53,
                       "wigan-others.jsonl": 0.83, "wigan-twins3.jsonl": 0.85, "wigan-fresh7.jsonl": 0.9,
                       "wigan-twins4.jsonl": 0.85, "wigan-conversations3.jsonl": 0.69,
                       "wigan-fresh8.jsonl": 0.9}
# Requests to act given the DPO form, whatever the route (today 1.0 on the first three; 47 of 49
# on wigan-requests3, 40 before the request check).
FORM_FLOORS = {"wigan-routing2.jsonl": 1.0, "wigan-routing3.jsonl": 1.0, "wigan-children.jsonl": 1.0,
               "wigan-requests3.jsonl": 0.93, "wigan-asking.jsonl": 0.94, "wigan-why.jsonl": 0.9,
               "wigan-fresh.jsonl": 0.95, "wigan-fresh2.jsonl": 0.9, "wigan-conversations.jsonl": 0.92,
               "wigan-conversations2.jsonl": 0.92, "wigan-fresh3.jsonl": 0.95, "wigan-fresh4.jsonl": 0.94,
               "wigan-fresh5.jsonl": 0.94, "wigan-fresh6.jsonl": 0.95, "wigan-retention.jsonl": 0.88,
               "wigan-others.jsonl": 0.88, "wigan-fresh7.jsonl": 0.92, "wigan-twins4.jsonl": 0.6,
               "wigan-conversations3.jsonl": 0.93, "wigan-fresh8.jsonl": 0.94}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_routing_holds_on_questions_written_apart(built_index, tmp_path, name):
    out = tmp_path / "results.jsonl"
    m = run_eval("--gold", str(GOLD.with_name(name)), "--out", str(out))["ours"]
    overall, floors = HELD_OUT[name]
    assert m["behaviour_accuracy"] >= overall and m["groundedness"] == 1.0, m
    for route, floor in floors.items():
        assert m["behaviour"][route] >= floor, (route, m["behaviour"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    decided = [r["question"] for r in rows if r["expect"] in ("handoff", "safeguarding") and behaviour_of(r) == "answer"]
    assert len(decided) <= DECIDED.get(name, 0), decided
    if name in FORM_FLOORS:  # the twins hold no request to act
        assert m["form_offered"] >= FORM_FLOORS[name], m  # nor is a request to act left without the form
    alarms = [r["question"] for r in rows if r["route"] == "safeguarding" and r["expect"] != "safeguarding"]
    assert len(alarms) <= FALSE_ALARMS[name], alarms
    assert m["request_type_accuracy"] >= REQUEST_TYPE_FLOORS[name], m


def test_a_gold_line_with_history_is_asked_as_the_last_message_of_a_chat(bot):
    from eval.runner import assistant_asker, run

    item = GoldItem(id="c1", question="how long for?", expect="answer", history=["Do you keep photos of kids in care?"])
    chat, alone = run([item, item.model_copy(update={"history": []})], assistant_asker(bot), progress=False)
    assert chat["route"] == "answer" and alone["route"] != "answer"
    lines = GOLD.with_name("wigan-conversations2.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(1 <= len(json.loads(line)["history"]) <= 2 for line in lines)


def test_report_shows_ours_and_the_peer_side_by_side(built_index, tmp_path):
    result = run_eval("--gold", str(GOLD), "--split", "dev", "--baseline", "--report", str(tmp_path))
    assert set(result) == {"ours", "peer"}
    assert result["peer"]["behaviour"]["handoff"] == 0.0  # the peer never hands off
    report = (tmp_path / "report.md").read_text()
    assert "| metric | ours | peer |" in report and "Evidence recall@3" in report
    for png in ("behaviour_by_category.png", "confusion.png", "latency.png"):
        data = (tmp_path / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_broken_gold_line_is_reported_with_its_number(tmp_path: Path):
    f = tmp_path / "gold.jsonl"
    f.write_text('{"id": "a", "question": "q", "expect": "answer", "extra": 1}\n{"id": "b", "question": \n')
    with pytest.raises(GoldError, match=r"gold.jsonl:2: not valid JSON"):
        load_gold(f)
    f.write_text('{"id": "a", "question": "q", "expect": "answer", "extra": 1}\n')
    assert load_gold(f)[0].id == "a"  # unknown fields are ignored
    proc = subprocess.run([sys.executable, "-m", "eval", "score", str(f), "--gold", str(tmp_path / "missing.jsonl")],
                          capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


BODY = "Intro line.\nWe share data with the following:\n- The police\n- Schools\nWe keep data for as long as necessary.\n"


def row(text, citations, retrieved=(), route="answer", offers=False):  # noqa: ANN001, ANN201
    return {"id": "q1", "question": "q", "expect": "answer", "route": route, "offers_handoff": offers, "text": text,
            "citations": citations, "retrieved": list(retrieved), "latency_ms": 5.0}  # fmt: skip


def cite(quote: str, body: str = BODY, start: int | None = None) -> dict:
    s = body.find(quote) if start is None else start
    return {"n": 1, "notice_id": "n", "notice_title": "N", "section": "S", "quote": quote, "start": s, "end": s + len(quote)}


def test_groundedness_fails_a_statement_whose_quote_is_not_verbatim():
    gold = [GoldItem(id="q1", question="q", expect="answer", evidence=["The police"])]
    good = row("> The police [1]", [cite("The police")], [{"text": "- The police", "notice_id": "n"}])
    assert score([good], gold, {"n": BODY})["groundedness"] == 1.0
    forged = row("> The police and the army [1]", [cite("The police and the army", start=0)])
    m = score([forged], gold, {"n": BODY})
    assert m["groundedness"] == 0.0 and m["citation_precision"] == 0.0


def test_recall_and_citation_precision_definitions():
    gold = [GoldItem(id="q1", question="q", expect="answer", evidence=["The police", "Schools"])]
    retrieved = [{"text": "We keep data for as long as necessary.", "notice_id": "n"}, {"text": "- The police\n- Schools", "notice_id": "n"}]
    intro = cite("We share data with the following:")
    police = cite("The police")
    m = score([row("> We share data with the following: [1]\n> - The police [2]", [intro, police], retrieved)], gold, {"n": BODY})
    assert m["recall@1"] == 0.0 and m["recall@3"] == 1.0
    assert m["cited_recall"] == 0.5  # "Schools" was not cited
    assert m["citation_precision"] == 1.0  # the intro sentence of the list holding a gold quote counts


def test_request_type_accuracy_counts_the_answers_that_offer_the_form():
    gold = [GoldItem(id=f"q{i}", question="q", expect="handoff", request_types=["erasure", "rectification"]) for i in range(3)]
    gold.append(GoldItem(id="q3", question="q", expect="answer"))  # no request types: not counted
    rows = [row("x", [], route="handoff", offers=True) | {"id": "q0", "request_type": "rectification"},
            row("x", [], route="handoff", offers=True) | {"id": "q1", "request_type": "subject_access"},
            row("x", [], route="out_of_scope") | {"id": "q2", "request_type": None},  # no form offered
            row("x", [], route="handoff", offers=True) | {"id": "q3", "request_type": "erasure"}]  # fmt: skip
    m = score(rows, gold, {"n": BODY})
    assert m["request_type_accuracy"] == 0.5
    # Requests to act given the form, whatever the route: q2 got a pointer elsewhere and no form.
    assert m["form_offered"] == round(2 / 3, 4)
    with pytest.raises(ValueError):
        GoldItem(id="q", question="q", expect="handoff", request_types=["delete_everything"])


def test_framing_lines_are_not_statements_but_other_text_is():
    text = ("From the **Notice** (version 1, May 2020), section “S”:\n\n> The police [1]\n\n"
            "If you want the council to act on this, you can contact the Data Protection Officer with the form.\n"
            "We never share anything.")  # fmt: skip
    assert statements(text) == ["The police", "We never share anything."]


def test_intervals_resample_questions_and_narrow_with_more_of_them():
    def rows(n_right: int, n: int) -> tuple[list[dict], list[GoldItem]]:
        gold = [GoldItem(id=f"q{i}", question="q", expect="unanswerable") for i in range(n)]
        out = [row("", [], route="unanswerable" if i < n_right else "answer") | {"id": f"q{i}"} for i in range(n)]
        return out, gold

    small = score(*rows(6, 9), {"n": BODY})
    large = score(*rows(60, 90), {"n": BODY})
    for m in (small, large):
        lo, hi = m["ci95"]["behaviour_accuracy"]
        assert lo < m["behaviour_accuracy"] < hi
        assert m["behaviour_ci95"]["unanswerable"] == m["ci95"]["behaviour_accuracy"]
    width = lambda m: m["ci95"]["behaviour_accuracy"][1] - m["ci95"]["behaviour_accuracy"][0]  # noqa: E731
    assert width(small) > 0.4 and width(large) < 0.25  # 9 questions say little; 90 say more
    perfect = score(*rows(9, 9), {"n": BODY})
    assert perfect["ci95"]["behaviour_accuracy"] == [1.0, 1.0]
    assert perfect["ci95"]["recall@3"] is None  # no answerable question: no figure, no interval
