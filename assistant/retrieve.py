"""Hybrid retrieval: dense neighbours from Chroma fused with BM25, current notices first."""

from __future__ import annotations

import numpy as np

from assistant.glossary import Glossary, Speller
from assistant.lexical import BM25, tokens
from assistant.resources import load

GENERIC = frozenset(t for w in load("routing").get("generic_terms", []) for t in tokens(w))
from assistant.models import Notice, Retrieved, Unit
from assistant.settings import Settings
from assistant.store import STORE_ERRORS, NoticeStore, StoreUnavailable, unit_id


class Candidate(Retrieved):
    """A retrieved passage with what evidence selection needs."""

    kind: str = "paragraph"
    context: str = ""
    units: list[Unit] = []
    unit_vecs: list[list[float]] = []


class HybridRetriever:
    def __init__(self, settings: Settings, store: NoticeStore) -> None:
        self.settings = settings
        self.store = store
        self.bm25: BM25 | None = None
        self.notices: dict[str, Notice] = {}

    def warm_up(self) -> None:
        """Load notices and build the lexical index from the Chroma collections."""
        pcol, _, ncol = self.store.collections()
        self._pcol, self._ucol = pcol, _
        got = ncol.get(include=["documents", "metadatas"])
        self.notices = {
            nid: Notice(id=nid, body=doc, **{k: v for k, v in meta.items() if k in Notice.model_fields})
            for nid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }
        rows = pcol.get(include=["documents", "metadatas"])
        titles = {nid: n.title for nid, n in self.notices.items()}
        texts = [
            f"{titles.get(m['notice_id'], '')}\n{m.get('section', '')}\n{m.get('context', '')}\n{d}"
            for d, m in zip(rows["documents"], rows["metadatas"])
        ]
        self.bm25 = BM25().build(rows["ids"], texts, [m["notice_id"] for m in rows["metadatas"]])
        self.glossary = Glossary()
        self.speller = Speller(set(self.bm25.postings))

    def lexical_query(self, question: str) -> str:
        """The question, typos mended, plus the notices' words for the resident's words."""
        mended = [self.speller.near(t) or t for t in tokens(question)]
        return " ".join([question, *[m for m, t in zip(mended, tokens(question)) if m != t], self.glossary.expand(question)])

    def run(self, query: str, qvec: np.ndarray, notice: str | None = None, top_k: int | None = None) -> list[Candidate]:
        if self.bm25 is None:
            self.warm_up()
        try:
            return self._run(query, qvec, notice, top_k)
        except STORE_ERRORS as e:
            # A Chroma server that went away: say so; the next question tries again.
            raise StoreUnavailable(f"cannot reach {self.store.where}: {e}") from None

    def _run(self, query: str, qvec: np.ndarray, notice: str | None, top_k: int | None) -> list[Candidate]:
        s = self.settings
        k = top_k or s.top_k
        where = {"notice_id": notice} if notice else None
        n_dense = min(s.dense_candidates, max(1, len(self.bm25)))  # type: ignore[arg-type]
        dense = self._pcol.query(
            query_embeddings=[qvec], n_results=n_dense, where=where, include=["distances"]
        )
        dense_ids = dense["ids"][0]
        cos = {pid: 1.0 - d for pid, d in zip(dense_ids, dense["distances"][0])}
        lexical = self.bm25.search(self.lexical_query(query), s.lexical_candidates, group=notice)  # type: ignore[union-attr]
        # Sentence-level neighbours: a passage is as close as its closest sentence or item.
        n_units = min(s.dense_candidates * 3, max(1, len(self.bm25) * 3))  # type: ignore[arg-type]
        units = self._ucol.query(query_embeddings=[qvec], n_results=n_units, where=where, include=["distances", "metadatas"])
        unit_best: dict[str, float] = {}
        for m, d in zip(units["metadatas"][0], units["distances"][0]):
            unit_best[m["passage_id"]] = max(unit_best.get(m["passage_id"], -1.0), 1.0 - d)
        unit_rank = sorted(unit_best, key=lambda pid: -unit_best[pid])

        fused: dict[str, float] = {}
        for rank, pid in enumerate(dense_ids):
            fused[pid] = fused.get(pid, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        for rank, (pid, _) in enumerate(lexical):
            fused[pid] = fused.get(pid, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
        for rank, pid in enumerate(unit_rank):
            fused[pid] = fused.get(pid, 0.0) + s.unit_weight / (s.rrf_k + rank + 1)
        if not fused:
            return []
        ids = list(fused)
        rows = self._pcol.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        meta = {pid: (doc, m, e) for pid, doc, m, e in zip(rows["ids"], rows["documents"], rows["metadatas"], rows["embeddings"])}
        for pid in ids:
            _, m, e = meta[pid]
            cos.setdefault(pid, float(np.dot(np.asarray(e, dtype=np.float32), qvec)))
            if m.get("status") == "current":
                fused[pid] *= 1.0 + s.current_notice_bonus
        ranked = sorted(ids, key=lambda pid: -fused[pid])[:k]
        out = []
        for pid in ranked:
            doc, m, _ = meta[pid]
            out.append(
                Candidate(
                    passage_id=pid, notice_id=m["notice_id"], section=m["section"], text=doc,
                    start=m["start"], end=m["end"], score=round(fused[pid], 6), dense=round(cos[pid], 6),
                    kind=m["kind"], context=m.get("context", ""),
                )  # fmt: skip
            )
        self._attach_units(out, {pid: int(meta[pid][1].get("n_units", 0)) for pid in ranked})
        return out

    def _attach_units(self, cands: list[Candidate], counts: dict[str, int]) -> None:
        ids = [unit_id(c.passage_id, i) for c in cands for i in range(counts[c.passage_id])]
        got = self._ucol.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        by_passage: dict[str, list[tuple[int, Unit, list[float]]]] = {}
        for uid, doc, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
            pid, i = uid.rsplit(":", 1)
            unit = Unit(start=m["start"], end=m["end"], text=doc, kind=m["kind"])
            by_passage.setdefault(pid, []).append((int(i), unit, list(e)))
        for c in cands:
            rows = sorted(by_passage.get(c.passage_id, []), key=lambda r: r[0])
            c.units = [u for _, u, _ in rows]
            c.unit_vecs = [v for _, _, v in rows]

    def unknown_terms(self, question: str) -> list[str]:
        """Question words (4+ letters) that occur in no passage and are not common words."""
        bm25 = self.bm25
        assert bm25 is not None
        return [
            t for t in dict.fromkeys(tokens(question))
            if len(t) >= 4 and t not in GENERIC and t not in self.glossary.keys and self.speller.near(t) is None
        ]  # fmt: skip

    def list_pieces(self, cand: Candidate, have: list[Candidate]) -> list[Candidate]:
        """All pieces of the list ``cand`` belongs to (a long list is split at ingest)."""
        intro = cand.context or (cand.units[0].text if cand.units and cand.units[0].kind == "intro" else "")
        if not intro:
            return [cand]
        known = {c.passage_id: c for c in have}
        rows = self._pcol.get(
            where={"$and": [{"notice_id": cand.notice_id}, {"section": cand.section}]}, include=["documents", "metadatas"]
        )
        pieces: list[Candidate] = []
        for pid, doc, m in zip(rows["ids"], rows["documents"], rows["metadatas"]):
            first = m.get("context", "") == "" and doc.startswith(intro)
            if not (first or m.get("context") == intro):
                continue
            pieces.append(known.get(pid) or Candidate(
                passage_id=pid, notice_id=m["notice_id"], section=m["section"], text=doc, start=m["start"],
                end=m["end"], score=0.0, kind=m["kind"], context=m.get("context", ""),
            ))  # fmt: skip
        missing = [p for p in pieces if p.passage_id not in known]
        if missing:
            self._attach_units(missing, {p.passage_id: int(m.get("n_units", 0)) for p in missing
                                         for pid, m in zip(rows["ids"], rows["metadatas"]) if pid == p.passage_id})
        return sorted(pieces, key=lambda p: p.start)
