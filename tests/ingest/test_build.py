import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.store import NoticeStore
from ingest.build import Indexer
from tests.conftest import KNOWLEDGE, ROOT


def snapshot(settings: Settings) -> dict:
    pcol, ucol, ncol = NoticeStore(settings).collections()
    out = {}
    for name, col in (("passages", pcol), ("units", ucol), ("notices", ncol)):
        got = col.get(include=["metadatas", "documents"])
        out[name] = sorted(zip(got["ids"], [repr(sorted(m.items())) for m in got["metadatas"]], got["documents"]))
    return out


@pytest.fixture()
def scratch(tmp_path: Path) -> Settings:
    kdir = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kdir)
    return Settings(knowledge_dir=kdir, data_dir=tmp_path, index_dir=tmp_path / "index")


def test_first_ingest_embeds_every_passage(built_index):
    assert built_index.added == built_index.passages > 40
    assert built_index.embedded_texts > built_index.passages  # passages and their sentences


def test_reingest_re_embeds_nothing(settings, built_index):
    before = snapshot(settings)
    report = Indexer(settings, progress=False).run()
    assert (report.added, report.removed, report.embedded_texts) == (0, 0, 0)
    assert report.kept == built_index.passages
    assert snapshot(settings) == before
    assert Indexer(settings).is_current()


def test_changed_and_removed_notices_are_updated(scratch: Settings):
    Indexer(scratch, progress=False).run()
    f = scratch.knowledge_dir / "wigan-children-and-families.md"
    text = f.read_text(encoding="utf-8")
    old = "We will respond to all requests within one month."
    new = "We will respond to all requests within 20 working days."
    f.write_text(text.replace(old, new), encoding="utf-8")
    assert not Indexer(scratch).is_current()
    report = Indexer(scratch, progress=False).run()
    # Only the passages around the edit change (a longer sentence may move a merge boundary).
    assert 1 <= report.added <= 2 and 1 <= report.removed <= 2 and report.kept >= report.passages - 2
    assert 0 < report.embedded_texts <= 12  # those passages and their sentences, nothing else
    docs = snapshot(scratch)["passages"]
    assert any(new in d for _, _, d in docs) and not any(old in d for _, _, d in docs)

    (scratch.knowledge_dir / "wigan-local-authority-education-2017.md").unlink()
    report = Indexer(scratch, progress=False).run()
    assert report.notices == 1 and report.notices_removed == 1 and report.removed > 10
    snap = snapshot(scratch)
    assert [i for i, _, _ in snap["notices"]] == ["wigan-children-and-families"]
    assert all("wigan-local-authority-education-2017" not in m for _, m, _ in snap["units"])


def test_a_broken_notice_leaves_the_index_exactly_as_it_was(scratch: Settings):
    Indexer(scratch, progress=False).run()
    before = snapshot(scratch)
    (scratch.knowledge_dir / "wigan-children-and-families.md").write_text("changed text that must not land\n")
    (scratch.knowledge_dir / "zz-broken.md").write_bytes(b"\x00\x01binary")
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", "--knowledge", str(scratch.knowledge_dir), "--index", str(scratch.index_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "zz-broken.md" in lines[0] and "binary" in lines[0]
    assert "Traceback" not in proc.stderr
    assert snapshot(scratch) == before


def test_chroma_collections_have_no_embedding_function(settings, built_index):
    pcol, _, _ = NoticeStore(settings).collections()
    assert pcol.configuration["hnsw"]["space"] == "cosine"
    # Chroma cannot embed on its own: a text query has no default model to fall back to.
    with pytest.raises(ValueError, match="embedding function"):
        pcol.query(query_texts=["who do you share my data with"], n_results=1)


def test_passages_embedded_by_an_older_version_are_re_embedded_and_the_index_is_stale(scratch: Settings):
    Indexer(scratch, progress=False).run()
    pcol, _, ncol = NoticeStore(scratch).collections()
    first = pcol.get(limit=1, include=["metadatas"])
    pcol.update(ids=first["ids"], metadatas=[{**first["metadatas"][0], "embedded": "0"}])
    nid = ncol.get(limit=1, include=["metadatas"])
    ncol.update(ids=nid["ids"], metadatas=[{**nid["metadatas"][0], "fingerprint": "made-by-an-older-chunker"}])
    assert not Indexer(scratch).is_current()
    report = Indexer(scratch, progress=False).run()
    assert (report.reembedded, report.added, report.removed) == (1, 0, 0)
    assert report.embedded_texts >= 2  # the passage and its sentences
    assert Indexer(scratch).is_current()


def test_a_large_collection_is_read_in_pages(settings, built_index):
    from assistant.store import get_all

    pcol, _, _ = NoticeStore(settings).collections()
    paged = get_all(pcol, ["metadatas"], page=7)  # several pages, the last one partly filled
    whole = pcol.get(include=["metadatas"])
    assert sorted(paged["ids"]) == sorted(whole["ids"]) and len(paged["metadatas"]) == len(whole["ids"])


def test_sentences_are_read_once_and_a_repeated_sentence_keeps_one_vector(scratch: Settings):
    from assistant.retrieve import HybridRetriever

    src = scratch.knowledge_dir / "wigan-local-authority-education-2017.md"
    shutil.copy(src, scratch.knowledge_dir / "another-service.md")  # every sentence now twice
    Indexer(scratch, progress=False).run()
    store = NoticeStore(scratch)
    retriever = HybridRetriever(scratch, store)
    retriever.warm_up()
    _, ucol, _ = store.collections()
    got = ucol.get(include=["documents", "metadatas", "embeddings"])
    rows = zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
    stored = {uid: (doc, m["kind"], vec) for uid, doc, m, vec in rows}
    assert len(retriever.unit_prow) == len(stored)
    assert len(retriever.unit_vecs) < len(stored)  # the copy's sentences share the original's vectors
    for row, pid in enumerate(retriever.ids):  # each passage: its sentences in order, with their stored vectors
        c = retriever._candidate(row)
        want = [stored[f"{pid}:{k}"] for k in range(len(c.units))]
        assert [(u.text, u.kind) for u in c.units] == [(doc, kind) for doc, kind, _ in want]
        assert all(abs(float(a @ b) - 1.0) < 1e-5 for a, (_, _, b) in zip(c.unit_vecs, want))
        assert len(c.units) == retriever.metas[row]["n_units"]
