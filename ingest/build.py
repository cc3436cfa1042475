"""Incremental, idempotent indexing: embed only passages that are new, delete the gone ones.

Every notice file is read and checked before anything is written, so a broken file leaves
the existing index exactly as it was. Notice records (with their content fingerprint) are
written last: if a run is cut off, the next one sees the mismatch and finishes the work.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from assistant.embedder import Embedder, shared_embedder
from assistant.models import Notice, Passage, Unit
from assistant.settings import Settings
from assistant.store import NoticeStore, get_all, notice_meta, passage_meta, unit_id, unit_meta
from ingest.chunk import CHUNKER_VERSION, chunk_notice
from ingest.parse import load_notices


# Bump when what is embedded changes: passages indexed under another version are re-embedded.
EMBED_VERSION = "3-14"  # units re-embedded with chunker 3
SHORT_UNIT_WORDS = 14


def unit_search_text(p: Passage, u: Unit) -> str:
    """What a sentence or item is embedded as: a short one with its section and list intro.

    "The police" alone is close to any question about the police; under "Who do we share
    personal data with?" and "we share data with ... the following" it answers one. A longer
    sentence says what it is about itself, and framing it only blurs it ("To secure key
    documents, photographs and memories for children within our care" under "The main
    purposes for processing your personal data are:" no longer looks like photographs).
    """
    if len(u.text.split()) > SHORT_UNIT_WORDS:
        return u.text
    intro = p.context or (p.units[0].text if p.units and p.units[0].kind == "intro" else "")
    frame = intro if u.kind == "item" and intro else ""
    return " ".join(x for x in (p.section + ":" if p.section else "", frame, u.text) if x)


class IngestReport(BaseModel):
    notices: int
    passages: int
    added: int
    kept: int
    removed: int
    updated: int
    reembedded: int = 0
    notices_removed: int
    embedded_texts: int
    seconds: float

    def line(self) -> str:
        return (
            f"{self.notices} notices, {self.passages} passages: added {self.added}, kept {self.kept}, "
            f"removed {self.removed}, metadata updated {self.updated}, re-embedded {self.reembedded}; "
            f"{self.embedded_texts} texts embedded in {self.seconds:.1f} s"
        )


def _batches(n: int, size: int):  # noqa: ANN202
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


class Indexer:
    """Builds or updates the Chroma index from a folder of notice files."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, progress: bool = True) -> None:
        self.settings = settings
        self.embedder = embedder or shared_embedder()
        self.progress = progress

    def passages_of(self, notices: list[Notice]) -> dict[str, Passage]:
        out: dict[str, Passage] = {}
        for n in notices:
            for p in chunk_notice(n, self.settings.max_passage_chars):
                out[p.id] = p
        return out

    def fingerprint(self, n: Notice) -> str:
        """The notice's content plus how it was cut: a new chunker or size limit re-indexes it."""
        return f"{n.fingerprint}:{CHUNKER_VERSION}:{EMBED_VERSION}:{self.settings.max_passage_chars}"

    def is_current(self, knowledge_dir: Path | None = None) -> bool:
        """True when the index holds exactly these notices, unchanged (no model needed)."""
        notices = load_notices(knowledge_dir or self.settings.knowledge_dir)
        store = NoticeStore(self.settings)
        try:
            _, _, notice_col = store.collections()
        except Exception:
            return False
        got = get_all(notice_col, ["metadatas"])
        have = {i: m.get("fingerprint") for i, m in zip(got["ids"], got["metadatas"])}
        return have == {n.id: self.fingerprint(n) for n in notices}

    def run(self, knowledge_dir: Path | None = None) -> IngestReport:
        t0 = time.perf_counter()
        notices = load_notices(knowledge_dir or self.settings.knowledge_dir)  # may raise NoticeError
        by_id = {n.id: n for n in notices}
        passages = self.passages_of(notices)

        store = NoticeStore(self.settings)
        pcol, ucol, ncol = store.collections(create=True)
        batch = store.max_batch()
        have = get_all(pcol, ["metadatas"], page=batch)
        existing = dict(zip(have["ids"], have["metadatas"]))

        def meta(p: Passage) -> dict:
            return passage_meta(p, by_id[p.notice_id].status) | {"embedded": EMBED_VERSION}

        new = [p for pid, p in passages.items() if existing.get(pid, {}).get("embedded") != EMBED_VERSION]
        gone = [pid for pid in existing if pid not in passages]
        renew = {p.id for p in new}
        changed = [p for pid, p in passages.items() if pid in existing and pid not in renew and existing[pid] != meta(p)]

        embedded = 0
        if new:
            # The notice title helps "the education notice says..." questions find their notice.
            texts = [f"{by_id[p.notice_id].title}\n{p.search_text}" for p in new]
            unit_rows = [(p, i, u) for p in new for i, u in enumerate(p.units)]
            all_texts = texts + [unit_search_text(p, u) for p, _, u in unit_rows]
            vecs = self._embed(all_texts, "embedding passages")
            embedded = len(set(all_texts))  # repeats are embedded once
            pvecs, uvecs = vecs[: len(texts)], vecs[len(texts) :]
            for s in _batches(len(new), batch):
                pcol.upsert(
                    ids=[p.id for p in new[s]],
                    embeddings=pvecs[s],
                    documents=[p.text for p in new[s]],
                    metadatas=[meta(p) for p in new[s]],
                )
            for s in _batches(len(unit_rows), batch):
                rows = unit_rows[s]
                ucol.upsert(
                    ids=[unit_id(p.id, i) for p, i, _ in rows],
                    embeddings=uvecs[s],
                    documents=[u.text for _, _, u in rows],
                    metadatas=[unit_meta(p, u) for p, _, u in rows],
                )
        for s in _batches(len(changed), batch):
            # Offsets or status moved, the text did not: no re-embedding.
            pcol.update(ids=[p.id for p in changed[s]],
                        metadatas=[meta(p) for p in changed[s]])  # fmt: skip
            rows = [(p, i, u) for p in changed[s] for i, u in enumerate(p.units)]
            ucol.update(ids=[unit_id(p.id, i) for p, i, _ in rows], metadatas=[unit_meta(p, u) for p, _, u in rows])
        for s in _batches(len(gone), batch):
            ids = gone[s]
            ucol.delete(ids=[unit_id(pid, i) for pid in ids for i in range(int(existing[pid].get("n_units", 0)))])
            pcol.delete(ids=ids)

        nhave = get_all(ncol, ["metadatas"], page=batch)
        old_notices = dict(zip(nhave["ids"], nhave["metadatas"]))
        stale = [n for n in notices if (old_notices.get(n.id) or {}).get("fingerprint") != self.fingerprint(n)]
        for n in stale:
            # A notice's vector: the mean of its passages' (lets a router or a UI find notices).
            got = get_all(pcol, ["embeddings"], where={"notice_id": n.id}, page=batch)
            mean = np.mean(np.asarray(got["embeddings"], dtype=np.float32), axis=0)
            mean /= np.linalg.norm(mean) or 1.0
            ncol.upsert(ids=[n.id], embeddings=[mean], documents=[n.body], metadatas=[notice_meta(n) | {"fingerprint": self.fingerprint(n)}])
        removed_notices = [nid for nid in old_notices if nid not in by_id]
        if removed_notices:
            ncol.delete(ids=removed_notices)

        return IngestReport(
            notices=len(notices),
            passages=len(passages),
            added=len(renew - existing.keys()),
            reembedded=len(renew & existing.keys()),
            kept=len(passages) - len(new),
            removed=len(gone),
            updated=len(changed),
            notices_removed=len(removed_notices),
            embedded_texts=embedded,
            seconds=time.perf_counter() - t0,
        )

    def _embed(self, texts: list[str], label: str) -> np.ndarray:
        """Vectors for ``texts``; a text that occurs several times is embedded once.

        Notices share boilerplate ("This is not an exhaustive list.", the rights sections):
        in a corpus of 10,000 passages a quarter of the sentences are repeats.
        """
        unique = list(dict.fromkeys(texts))
        if len(unique) == len(texts):
            return self._embed_unique(texts, label)
        vecs = self._embed_unique(unique, label)
        row = {t: i for i, t in enumerate(unique)}
        return vecs[[row[t] for t in texts]]

    def _embed_unique(self, texts: list[str], label: str) -> np.ndarray:
        if len(texts) < 512 or not self.progress:
            return self.embedder.embed(texts)
        out = []
        size = 256
        for s in tqdm(list(_batches(len(texts), size)), desc=label, unit="batch"):
            out.append(self.embedder.embed(texts[s]))
        return np.concatenate(out)
