"""PolicyQA retrieval benchmark: real model, real Chroma, the first policies of the real dev split."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "policyqa" / "dev.json"

POLICIES = 3

pytestmark = pytest.mark.skipif(not DEV.is_file(), reason=f"PolicyQA dev split not found at {DEV}")


def distinct_pairs(limit: int) -> int:
    data = json.loads(DEV.read_text(encoding="utf-8"))["data"][:limit]
    return len({(p["title"], qa["question"]) for p in data for para in p["paragraphs"] for qa in para["qas"]})


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """On a busy 2-core machine two spinning OpenMP threads make each one-question embed ~8x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from eval.policyqa import run_policyqa

    tmp = tmp_path_factory.mktemp("policyqa")
    # Three policies: each is asked with an adapter and a ranker fitted on the other two.
    result = run_policyqa(DEV, report=tmp / "report", limit=POLICIES, progress=False, workdir=tmp / "work")
    return result, tmp


def test_counts(run):
    result, _ = run
    assert result.policies == POLICIES
    assert result.pairs == result.ours.pairs == result.peer.pairs == distinct_pairs(POLICIES)
    assert result.questions >= result.pairs
    assert result.ours.passages > 0 and result.peer.passages > 0
    assert result.ours.mean_passage_chars > 0 and result.peer.mean_passage_chars > 0
    assert result.seconds >= result.ours.seconds + result.peer.seconds > 0


def test_hits_are_shares_and_grow_with_k(run):
    result, _ = run
    for s in (result.ours, result.peer):
        assert 0.0 <= s.hit_at_1 <= s.hit_at_3 <= s.hit_at_5 <= 1.0
    # Ingesting one policy and asking its own questions must find something.
    assert result.ours.hit_at_5 > 0 and result.peer.hit_at_5 > 0


def test_each_fold_gets_its_own_adapter_penalty_and_ranker(run):
    from eval.train_adapter import PENALTIES
    from eval.train_ranker import C_GRID

    result, tmp = run
    assert len(result.ours.adapter_penalties) == len(result.ours.ranker_cs) == POLICIES
    assert set(result.ours.adapter_penalties) <= set(PENALTIES)
    assert set(result.ours.ranker_cs) <= set(C_GRID)  # none fell back to the council's ranker
    assert "ranker C" in (tmp / "report" / "policyqa.md").read_text(encoding="utf-8")


def test_table_and_json(run):
    result, _ = run
    table = result.table()
    for row in ("hit@1", "hit@3", "hit@5", "mean passage chars", "pairs", "seconds"):
        assert f"| {row} |" in table
    assert table.splitlines()[0] == "| metric | ours | peer |"
    assert json.loads(json.dumps(result.model_dump()))["pairs"] == result.pairs


def test_report_files(run):
    result, tmp = run
    md = tmp / "report" / "policyqa.md"
    png = tmp / "report" / "policyqa_hits.png"
    assert md.is_file() and png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text(encoding="utf-8")
    assert result.table() in text and f"{result.pairs} (policy, question) pairs" in text
    assert "hit@k" in text and "boundary" in text  # the definitions
    rows = [json.loads(line) for line in (tmp / "report" / "policyqa_pairs.jsonl").read_text().splitlines()]
    assert len(rows) == result.pairs


def test_notices_round_trip_through_ingest(tmp_path):
    """The .txt files the benchmark writes parse back to the same ids, titles and bodies."""
    from eval.policyqa import load_policyqa, write_knowledge
    from ingest.parse import load_notices

    notices, pairs, _ = load_policyqa(DEV, limit=2)
    write_knowledge(notices, tmp_path)
    loaded = {n.id: n for n in load_notices(tmp_path)}
    assert {(n.id, n.title, n.body) for n in notices} == {(n.id, n.title, n.body) for n in loaded.values()}
    for p in pairs:  # gold offsets point at the answer text in the joined body
        assert all(loaded[p.notice_id].body[s:e] in p.gold for s, e in p.spans)


def test_hit_is_normalised_containment():
    from eval.policyqa import first_hit

    passages = ["We share data with\n  our PARTNERS.", "Cookies are small files."]
    assert first_hit(passages, ["cookies are small"]) == 2
    assert first_hit(passages, ["with our partners"]) == 1
    assert first_hit(passages, ["partners. Cookies"]) is None  # crosses a passage boundary: not a hit


def test_cli_prints_json_last(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "eval", "policyqa", str(DEV), "--limit", "1", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last["policies"] == 1 and last["pairs"] == distinct_pairs(1)
    assert 0.0 <= last["ours"]["hit_at_1"] <= last["ours"]["hit_at_3"] <= last["ours"]["hit_at_5"] <= 1.0


def test_missing_file_is_one_line_error(tmp_path):
    from eval.__main__ import main

    assert main(["policyqa", str(tmp_path / "nope.json"), "--quiet"]) == 2


def test_policies_are_held_out_whole_in_at_most_five_folds():
    from eval.policyqa import Pair, policy_folds

    pairs = [Pair(f"policy-{k % 7}", f"question {k}") for k in range(40)]
    folds = policy_folds(pairs)
    assert sorted(folds) == [f"policy-{k}" for k in range(7)]  # one fold per policy, so all its questions
    assert set(folds.values()) == set(range(5))
    assert policy_folds(pairs[:2]) == {"policy-0": 0, "policy-1": 1}  # two policies: each held out once


def synthetic(distortion: float, policies: int = 6, seed: int = 0):
    """Questions that point at their answer passage, through a fixed distortion of strength ``distortion``."""
    import numpy as np

    from assistant.adapter import Example
    from eval.policyqa import Pair

    rng = np.random.default_rng(seed)
    dim = 16
    warp = np.eye(dim) + distortion * rng.normal(size=(dim, dim))
    ex, pairs = [], []
    for p in range(policies):
        passages = rng.normal(size=(12, dim))
        passages /= np.linalg.norm(passages, axis=1, keepdims=True)
        for k in range(12):
            q = np.linalg.solve(warp, passages[k]) + 0.05 * rng.normal(size=dim)
            ex.append(Example((q / np.linalg.norm(q)).astype(np.float32), passages.astype(np.float32), np.arange(12) == k))
            pairs.append(Pair(f"policy-{p}", f"question {p}-{k}"))
    return ex, pairs


def test_adapter_penalty_is_chosen_on_held_out_policies():
    from eval.policyqa import choose_penalty
    from eval.train_adapter import PENALTIES

    # Nothing to learn: every penalty finds every answer, and the strongest one is kept.
    penalty, scores = choose_penalty(*synthetic(0.0))
    assert set(scores) == set(PENALTIES) and min(scores.values()) == 1.0
    assert penalty == max(PENALTIES)
    # A systematic distortion of the questions: a weaker penalty learns it and is chosen.
    penalty, scores = choose_penalty(*synthetic(0.6))
    assert scores[penalty] > scores[max(PENALTIES)]
    assert penalty < max(PENALTIES)
    # One policy leaves nothing to hold out: no choice.
    ex, pairs = synthetic(0.6, policies=1)
    assert choose_penalty(ex, pairs) == (None, {})
