"""Hybrid retrieval: three first-stage searches, then a learned ranking of their union.

First stage: dense search over passages (exact, in memory), dense search over sentences
and list items (Chroma's HNSW index) and BM25 over passages with the notices' own words
added to the question. Every passage any of them found is described by a few signals
(``assistant.rank.FEATURES``) and ranked by a linear model fitted on the dev questions.

Warm-up reads the passages and their sentences once (paged; a vector that repeats is kept
once), so a question costs a few array operations plus one Chroma
query, whatever the number of notices.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from assistant.adapter import QueryAdapter, default_adapter
from assistant.glossary import Glossary, Speller
from assistant.lexical import BM25, holds_phrase, tokens
from assistant.models import Notice, Retrieved, Scope, Unit, scope_ids
from assistant.rank import FEATURES, Ranker, default_ranker
from assistant.resources import Patterns, load
from assistant.settings import Settings
from assistant.store import STORE_ERRORS, NoticeStore, StoreUnavailable, get_all, pages, split_unit_id

GENERIC = frozenset(t for w in load("routing").get("generic_terms", []) for t in tokens(w))
SERVICES = {str(s): tuple(tokens(str(s))) for s in load("routing").get("council_services", []) if tokens(str(s))}
# A service's name in a use that names no service ("just bin my records": routing.yaml).
NOT_SERVICES = Patterns(load("routing").get("council_service_words_otherwise", []))


class Candidate(Retrieved):
    """A retrieved passage with what evidence selection needs."""

    kind: str = "paragraph"
    context: str = ""
    units: list[Unit] = []
    unit_vecs: list[list[float]] = []


class HybridRetriever:
    def __init__(self, settings: Settings, store: NoticeStore, ranker: Ranker | None = None,
                 adapter: QueryAdapter | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.store = store
        self.ranker = ranker
        self.adapter = adapter
        self.bm25: BM25 | None = None
        self.notices: dict[str, Notice] = {}

    def warm_up(self) -> None:
        """Read notices and passages (paged) and build the lexical index."""
        pcol, ucol, ncol = self.store.collections()
        self._ucol = ucol
        got = get_all(ncol, ["documents", "metadatas"])
        self.notices = {
            nid: Notice(id=nid, body=doc, **{k: v for k, v in meta.items() if k in Notice.model_fields})
            for nid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }
        rows = get_all(pcol, ["documents", "metadatas", "embeddings"])
        self.ids: list[str] = rows["ids"]
        self.docs: list[str] = rows["documents"]
        self.metas: list[dict] = rows["metadatas"]
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        dim = len(rows["embeddings"][0]) if self.ids else 1
        self.vecs = np.asarray(rows["embeddings"], dtype=np.float32).reshape(len(self.ids), dim)
        # Each notice's passage rows, in order: one pass (a loop per notice over every row
        # took tens of seconds at 100,000 passages).
        rows_of: dict[str, list[int]] = {}
        for i, m in enumerate(self.metas):
            rows_of.setdefault(m["notice_id"], []).append(i)
        self.by_notice = {nid: np.asarray(r, dtype=np.int64) for nid, r in rows_of.items()}
        centre = self.vecs.mean(axis=0) if len(self.ids) else np.zeros(dim, dtype=np.float32)
        self.centrality = self.vecs @ (centre / (np.linalg.norm(centre) or 1.0))
        self._centres: dict[tuple[str, ...], np.ndarray] = {}
        self.current = np.asarray([m.get("status") == "current" for m in self.metas], dtype=np.float32)
        # The pieces of a long list split at ingest, found by their shared intro.
        self.list_of: dict[int, tuple[str, str, str]] = {}
        self.lists: dict[tuple[str, str, str], list[int]] = {}
        for i, (doc, m) in enumerate(zip(self.docs, self.metas)):
            if m.get("kind") == "list":
                intro = m.get("context") or doc.split("\n", 1)[0]
                key = (m["notice_id"], m["section"], intro)
                self.list_of[i] = key
                self.lists.setdefault(key, []).append(i)
        titles = {nid: n.title for nid, n in self.notices.items()}
        texts = [f"{titles.get(m['notice_id'], '')}\n{m.get('section', '')}\n{m.get('context', '')}\n{d}"
                 for d, m in zip(self.docs, self.metas)]  # fmt: skip
        self.bm25 = BM25().build(self.ids, texts)
        self.sections = BM25().build(self.ids, [m.get("section", "") for m in self.metas])
        self.glossary = Glossary()
        self.speller = Speller({t: len(rows) for t, (rows, _) in self.bm25.postings.items()})
        self._load_units(ucol)

    def _load_units(self, ucol) -> None:  # noqa: ANN001
        """Every passage's sentences and list items, in order, with one copy of each distinct vector.

        Read once, paged: asking Chroma for a question's ~300 sentence vectors took 29 ms a
        question at 100,000 passages (and hundreds for a few), more than the rest of ``ask``.
        (A sentence is embedded with its heading, so equal texts may have different vectors:
        vectors are shared when they are equal, not when their texts are.)
        """
        dim = self.vecs.shape[1]
        prow, kth, starts, ends, kinds, vrow = [], [], [], [], [], []
        seen: dict[bytes, int] = {}
        chunks = []
        for got in pages(ucol, ["metadatas", "embeddings"]):
            vecs = np.asarray(got["embeddings"] if got["ids"] else [], dtype=np.float32).reshape(-1, dim)
            fresh = []
            for j, (uid, m) in enumerate(zip(got["ids"], got["metadatas"])):
                pid, k = split_unit_id(uid)
                r = self.row.get(pid)
                if r is None or m["notice_id"] not in self.notices:
                    continue
                key = vecs[j].tobytes()
                v = seen.get(key)
                if v is None:
                    v = seen[key] = len(seen)
                    fresh.append(j)
                prow.append(r), kth.append(k), starts.append(m["start"]), ends.append(m["end"])
                kinds.append(m["kind"]), vrow.append(v)
            chunks.append(vecs[fresh])
        order = np.lexsort((np.asarray(kth, dtype=np.int64), np.asarray(prow, dtype=np.int64)))
        self.unit_prow = np.asarray(prow, dtype=np.int64)[order]
        self.unit_start = np.asarray(starts, dtype=np.int64)[order]
        self.unit_end = np.asarray(ends, dtype=np.int64)[order]
        self.unit_kind = [kinds[i] for i in order]
        self.unit_vrow = np.asarray(vrow, dtype=np.int64)[order]
        self.unit_vecs = np.concatenate(chunks) if chunks else np.zeros((0, dim), dtype=np.float32)
        self.unit_ptr = np.searchsorted(self.unit_prow, np.arange(len(self.ids) + 1))

    def lexical_query(self, question: str) -> str:
        """The question, typos mended, plus the notices' words for the resident's words."""
        mended = [self.speller.near(t) or t for t in tokens(question)]
        return " ".join([question, *[m for m, t in zip(mended, tokens(question)) if m != t], self.glossary.expand(question)])

    def run(self, query: str, qvec: np.ndarray, notice: Scope = None, top_k: int | None = None) -> list[Candidate]:
        if self.bm25 is None:
            self.warm_up()
        try:
            cands, x = self.candidates(query, qvec, notice)
        except STORE_ERRORS as e:
            # A Chroma server that went away: say so; the next question tries again.
            raise StoreUnavailable(f"cannot reach {self.store.where}: {e}") from None
        if not cands:
            return []
        self.ranker = self.ranker or default_ranker()
        scores = self.ranker.score(x)
        order = np.argsort(-scores, kind="stable")[: top_k or self.settings.top_k]
        out = []
        for i in order:
            c = cands[i]
            c.score = round(float(scores[i]), 6)
            out.append(c)
        return out

    def candidates(self, query: str, qvec: np.ndarray, notice: Scope = None) -> tuple[list[Candidate], np.ndarray]:
        """Every passage a first-stage search found (within ``notice``, one id or several), with its ``FEATURES`` row."""
        s = self.settings
        bm25 = self.bm25
        assert bm25 is not None
        ids = scope_ids(notice)
        if ids is not None and not all(n in self.by_notice for n in ids):
            return [], np.zeros((0, len(FEATURES)), dtype=np.float32)
        scope = self._rows(ids)
        qvec = np.asarray(qvec, dtype=np.float32)

        # 1. Dense over passages: exact, over the notice's rows or all of them.
        sims = self.vecs @ qvec if scope is None else self.vecs[scope] @ qvec
        n = len(sims)
        top = min(s.dense_candidates, n)
        local = np.argpartition(-sims, top - 1)[:top] if n > top else np.arange(n)
        local = local[np.argsort(-sims[local], kind="stable")]
        dense_rows = local if scope is None else scope[local]

        # 2. BM25 with typos mended and the notices' words added; within a scope, with the
        # scope's own word statistics (as if it were indexed alone).
        lex = bm25.scores(tokens(self.lexical_query(query)), rows=scope)
        hits = np.flatnonzero(lex)
        if len(hits) > s.lexical_candidates:
            hits = hits[np.argpartition(-lex[hits], s.lexical_candidates - 1)[: s.lexical_candidates]]
        lex_rows = hits[np.argsort(-lex[hits], kind="stable")]

        # 3. Dense over sentences and list items: Chroma's index, or exactly within a small scope
        # (a metadata-filtered search grows with the whole collection, not with the scope).
        n_units = max(1, min(s.dense_candidates * 3, 3 * len(self.ids)))
        if scope is not None and len(scope) <= s.exact_scope_passages:
            unit_rows = self._exact_unit_rows(scope, qvec, n_units)
        else:
            where = None if ids is None else {"notice_id": ids[0] if len(ids) == 1 else {"$in": list(ids)}}
            got = self._ucol.query(query_embeddings=[qvec], n_results=n_units, where=where, include=[])
            pids = (split_unit_id(uid)[0] for uid in got["ids"][0])
            unit_rows = list(dict.fromkeys(self.row[pid] for pid in pids if pid in self.row))

        rows = list(dict.fromkeys([*dense_rows.tolist(), *unit_rows, *lex_rows.tolist()]))
        idx = np.asarray(rows, dtype=np.int64)
        cands = [self._candidate(i) for i in rows]

        x = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        f = {name: j for j, name in enumerate(FEATURES)}
        avec = self.adapted(qvec)
        dense, adapted = self.vecs[idx] @ qvec, self.vecs[idx] @ avec
        unit1, unit2, aunit = (np.zeros(len(rows), dtype=np.float32) for _ in range(3))
        both = np.stack([qvec, avec], axis=1)  # one product per candidate for both question vectors
        for j, c in enumerate(cands):
            sims = np.asarray(c.unit_vecs, dtype=np.float32) @ both if len(c.unit_vecs) else np.zeros((1, 2), np.float32)
            us = np.sort(sims[:, 0])[::-1]
            unit1[j] = us[0]
            unit2[j] = us[1] if len(us) > 1 else us[0]
            aunit[j] = sims[:, 1].max()
            c.dense = round(float(dense[j]), 6)
        for name, v in (("dense", dense), ("unit", unit1), ("adapted", adapted), ("adapted_unit", aunit)):
            x[:, f[name]] = v
            x[:, f[f"{name}_rel"]] = v - v.max()
        x[:, f["unit2"]] = unit2
        best_lex = float(lex.max()) if len(lex) else 0.0
        x[:, f["bm25_rel"]] = lex[idx] / best_lex if best_lex > 0 else 0.0
        x[:, f["cover"]], x[:, f["section_cover"]] = self._cover(query, idx, scope)
        for name, ranked in (("rr_dense", dense_rows.tolist()), ("rr_unit", unit_rows), ("rr_bm25", lex_rows.tolist())):
            pos = {r: k for k, r in enumerate(ranked)}
            x[:, f[name]] = [1.0 / (pos[r] + 1) if r in pos else 0.0 for r in rows]
        notice_of = np.asarray([c.notice_id for c in cands])
        for nid in set(notice_of.tolist()):
            mask = notice_of == nid
            x[mask, f["unit_notice_rel"]] = unit1[mask] - unit1[mask].max()
            order = np.argsort(-unit1[mask], kind="stable")
            rr = np.zeros(mask.sum(), dtype=np.float32)
            rr[order] = 1.0 / (np.arange(len(order)) + 1)
            x[mask, f["rr_in_notice"]] = rr
        x[:, f["centrality"]] = self.centrality[idx] if scope is None else self._centrality(ids, scope, idx)
        x[:, f["current"]] = self.current[idx]
        x[:, f["is_list"]] = [c.kind == "list" for c in cands]
        x[:, f["log_chars"]] = [math.log(max(1, len(c.text))) for c in cands]
        return cands, x

    def _exact_unit_rows(self, scope: np.ndarray, qvec: np.ndarray, n_units: int) -> list[int]:
        """Rows of the passages holding the ``n_units`` sentences closest to the question, best first."""
        first, lens = self.unit_ptr[scope], self.unit_ptr[scope + 1] - self.unit_ptr[scope]
        if not lens.sum():
            return []
        idx = np.repeat(first - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())  # the scope's units
        sims = self.unit_vecs[self.unit_vrow[idx]] @ qvec
        top = np.argsort(-sims, kind="stable")[:n_units]
        return list(dict.fromkeys(self.unit_prow[idx[top]].tolist()))

    def _rows(self, ids: tuple[str, ...] | None) -> np.ndarray | None:
        """The passage rows of these notices, in order (None: every notice)."""
        if ids is None:
            return None
        return np.sort(np.concatenate([self.by_notice.get(n, np.zeros(0, dtype=np.int64)) for n in ids]))

    def idf(self, notice: Scope = None) -> Callable[[str], float]:
        """A word's idf in the corpus, or within ``notice``'s passages when it is given (as ranking uses it)."""
        bm25, scope = self.bm25, self._rows(scope_ids(notice))
        assert bm25 is not None
        return lambda term: bm25.idf(term, scope)

    def _centrality(self, ids: tuple[str, ...], scope: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Cosine of rows ``idx`` with the centre of the scope's passages (kept per scope)."""
        centre = self._centres.get(ids)
        if centre is None:
            if len(self._centres) >= 1024:
                self._centres.clear()
            centre = self.vecs[scope].mean(axis=0)
            centre = self._centres[ids] = centre / (np.linalg.norm(centre) or 1.0)
        return self.vecs[idx] @ centre

    def _cover(self, query: str, idx: np.ndarray, scope: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """idf-weighted share of the question's words (typos mended) in each passage and its heading.

        The idf is the corpus's, or the scope's when there is one.
        """
        bm25 = self.bm25
        assert bm25 is not None
        terms = list(dict.fromkeys(self.speller.near(t) or t for t in tokens(query)))
        terms = [t for t in terms if t in bm25.postings and t not in GENERIC]
        text = np.zeros(len(idx), dtype=np.float32)
        heading = np.zeros(len(idx), dtype=np.float32)
        idf = {t: bm25.idf(t, scope) for t in terms}
        total = sum(idf.values())
        if not total:
            return text, heading
        for t in terms:
            w = idf[t] / total
            text += w * bm25.has(t, idx)
            heading += w * self.sections.has(t, idx)
        return text, heading

    def _candidate(self, i: int) -> Candidate:
        """Passage row ``i`` with its sentences and their vectors."""
        m = self.metas[i]
        a, b = int(self.unit_ptr[i]), int(self.unit_ptr[i + 1])
        body = self.notices[m["notice_id"]].body
        units = [Unit.model_construct(start=st, end=en, text=body[st:en], kind=self.unit_kind[u])
                 for u, st, en in zip(range(a, b), self.unit_start[a:b].tolist(), self.unit_end[a:b].tolist())]  # fmt: skip
        c = Candidate(
            passage_id=self.ids[i], notice_id=m["notice_id"], section=m["section"], text=self.docs[i],
            start=m["start"], end=m["end"], score=0.0, kind=m["kind"], context=m.get("context", ""),
        )  # fmt: skip
        c.units, c.unit_vecs = units, self.unit_vecs[self.unit_vrow[a:b]]  # type: ignore[assignment]
        return c

    def unknown_terms(self, question: str) -> list[str]:
        """Question words (4+ letters) that occur in no passage and are not common words."""
        return [
            t for t in dict.fromkeys(tokens(question))
            if len(t) >= 4 and t not in GENERIC and t not in self.glossary.keys and self.speller.near(t) is None
        ]  # fmt: skip

    def uncovered_services(self, question: str, notice: Scope = None) -> list[str]:
        """Council services the question names (routing.yaml) that no passage in scope mentions."""
        bm25 = self.bm25
        assert bm25 is not None
        toks = tokens(NOT_SERVICES.remove(question))
        scope = self._rows(scope_ids(notice))
        rows = np.arange(len(self.ids)) if scope is None else scope
        out = []
        for name, phrase in SERVICES.items():
            if not holds_phrase(toks, phrase):
                continue
            held = np.ones(len(rows), dtype=bool)
            for t in phrase:
                held &= bm25.has(t, rows)
            if not any(holds_phrase(tokens(self.docs[r]), phrase) for r in rows[held].tolist()):
                out.append(name)
        return out

    def adapted(self, qvec: np.ndarray) -> np.ndarray:
        """The question's vector through the query adapter (assistant/adapter.py)."""
        self.adapter = self.adapter or default_adapter()
        return self.adapter.apply(qvec)

    def list_pieces(self, cand: Candidate, have: list[Candidate]) -> list[Candidate]:
        """All pieces of the list ``cand`` belongs to (a long list is split at ingest)."""
        key = self.list_of.get(self.row.get(cand.passage_id, -1))
        if key is None:
            return [cand]
        known = {c.passage_id: c for c in have}
        pieces = [known.get(self.ids[i]) or self._candidate(i) for i in self.lists[key]]
        return sorted(pieces, key=lambda p: p.start)
