"""Synthetic corpora: deterministic for a seed, parseable, sized, and clear of the real ids."""

from ingest.chunk import chunk_notice
from ingest.parse import load_notices

from eval.synth import make_corpus, main
from tests.conftest import KNOWLEDGE


def contents(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    n = make_corpus(a, 200, seed=3)
    assert n == make_corpus(b, 200, seed=3) and n >= 2
    assert contents(a) == contents(b)
    make_corpus(c, 200, seed=4)
    assert contents(a) != contents(c)


def test_files_parse_reach_the_target_and_keep_clear_of_real_ids(tmp_path, notices):
    n = make_corpus(tmp_path, 200, seed=0, knowledge=KNOWLEDGE)
    synth = load_notices(tmp_path)
    assert len(synth) == n
    assert not {s.id for s in synth} & set(notices)
    assert all(s.id.startswith("synth-") for s in synth)
    passages = sum(len(chunk_notice(s)) for s in synth)
    assert 200 <= passages < 200 + 80  # overshoots by at most one notice
    for s in synth:
        assert s.title and s.service and s.version and s.effective and s.status in ("current", "superseded")
        assert "Children and Families" not in s.body
    assert len({s.service for s in synth}) >= 3
    # Real notices alongside: still one folder of unique ids.
    for real in KNOWLEDGE.glob("*.md"):
        (tmp_path / real.name).write_bytes(real.read_bytes())
    assert len(load_notices(tmp_path)) == n + len(notices)


def test_rerun_replaces_earlier_synthetic_files(tmp_path):
    big = make_corpus(tmp_path, 300, seed=1)
    small = make_corpus(tmp_path, 60, seed=1)
    assert small < big and len(list(tmp_path.glob("*.md"))) == small


def test_cli(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--passages", "50", "--seed", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert list((tmp_path / "out").glob("synth-*.md"))
