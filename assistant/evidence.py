"""Evidence selection: the sentences and list items that answer the question.

Units were embedded at ingest, so this costs one dot product per unit of the few
retrieved passages. A list is quoted with the sentence that introduces it: whole when the
question asks for the list, or just the items that stand out ("...the police?").
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from assistant.lexical import tokens
from assistant.models import Unit
from assistant.retrieve import Candidate
from ingest.chunk import ENUMERATOR


# A sentence that leans on the one before it is quoted with it: one that opens with a word
# pointing back ("This is to support the provision of their education up to the age of 20",
# "This right transfers to the child...", "It was last updated...") or ends on one ("...may pass
# information to us to help us to do this"). Not "This notice..." (the notice itself), nor an
# "it" that points at nothing ("It is important that...").
LEANS_BACK = re.compile(
    r"""^(this|these|that|those|such)\b(?!\s+(local\s+authority\s+)?(privacy\s+)?notice\b)
      | ^(it|they)\b(?!\s+is\s+\w+\s+(that|for|to)\b)
      | ^(thus|therefore|however)\b
      | \b(this|that)\W*$""",
    re.I | re.X,
)

# List items lettered or numbered "(a)", "b)", "2." (the chunker keeps the mark in the unit's
# text) continue the item before them when that one ends without closing its sentence ("...to
# improve the well-being of children and young people in relation to" then "(a) physical and
# mental health..."): each is quoted with the other, as a sentence that leans on another is.
ENUMERATED = re.compile(rf"^{ENUMERATOR}\s")
OPEN_ENDED = re.compile(r"[^.!?;)]\s*$")

# A sentence that points ahead to a list without introducing it ("...please email or write to us
# at the following address.", the contact details coming after two more sentences) is quoted
# with that list: the first one after it in its section.
POINTS_AHEAD = re.compile(r"\bthe following\b[^:]*[.!]\s*$", re.I)


class Evidence(BaseModel):
    unit: Unit
    notice_id: str
    section: str
    passage_id: str
    score: float
    similarity: float
    overlap: float = 0.0  # share of the question's idf weight found in the unit


class Selection(BaseModel):
    quotes: list[Evidence]
    best_similarity: float = 0.0
    best_overlap: float = 0.0


class EvidenceSelector:
    def __init__(self, max_quotes: int = 6, margin: float = 0.08, list_cap: int = 20,
                 overlap_weight: float = 0.5, passage_weight: float = 0.5, rank_penalty: float = 0.0, second_margin: float = 0.05, whole_paragraph_chars: int = 450,
                 max_passages: int = 3, passage_margin: float = 1.0, passage_min_score: float = 1.0,
                 item_overlap: float = 0.3, whole_list_chars: int = 450, adapted_weight: float = 0.0) -> None:  # fmt: skip
        self.max_quotes = max_quotes
        self.adapted_weight = adapted_weight
        self.margin = margin
        self.list_cap = list_cap
        self.overlap_weight = overlap_weight
        self.passage_weight = passage_weight
        self.rank_penalty = rank_penalty
        self.second_margin = second_margin
        self.whole_paragraph_chars = whole_paragraph_chars
        self.max_passages = max_passages
        self.passage_margin = passage_margin
        self.passage_min_score = passage_min_score
        self.item_overlap = item_overlap
        self.whole_list_chars = whole_list_chars

    @staticmethod
    def overlap(weights: dict[str, float], text: str) -> float:
        """Share of the question's idf weight (``weights``: word -> idf) found in the text."""
        total = sum(weights.values())
        if not total:
            return 0.0
        have = set(tokens(text))
        return sum(w for t, w in weights.items() if t in have) / total

    def run(self, question: str, qvec: np.ndarray, cands: list[Candidate], idf: Callable[[str], float],
            pieces: dict[str, list[Candidate]] | None = None, expansion: str = "",
            adapted: np.ndarray | None = None) -> Selection:  # fmt: skip
        """Quotes for the question from ``cands``; ``idf`` weighs its words (within the question's scope).

        With ``adapted`` (the question's vector through the query adapter, assistant/adapter.py),
        units are scored by their cosine to a blend of the two vectors, ``adapted_weight`` of the
        adapted one: it has learnt that "other councils" are "Other local authorities". What the
        router reads (``best_similarity``, each quote's ``similarity``) stays the plain cosine.
        """
        weights = {t: idf(t) for t in set(tokens(question)) | set(tokens(expansion))}
        svec = qvec
        if adapted is not None and self.adapted_weight > 0:
            blend = (1 - self.adapted_weight) * qvec + self.adapted_weight * adapted
            svec = (blend / (np.linalg.norm(blend) or 1.0)).astype(np.float32)
        scored: list[Evidence] = []
        overlaps: list[float] = []
        for rank, c in enumerate(cands):
            if not c.units:
                continue
            vecs = np.asarray(c.unit_vecs, dtype=np.float32)
            for u, sim, ssim in zip(c.units, vecs @ qvec, vecs @ svec):
                ov = self.overlap(weights, u.text)
                overlaps.append(ov)
                score = float(ssim) + self.overlap_weight * ov + self.passage_weight * (c.dense or 0.0) - self.rank_penalty * rank
                scored.append(Evidence(unit=u, notice_id=c.notice_id, section=c.section, passage_id=c.passage_id,
                                       score=score, similarity=float(sim), overlap=ov))  # fmt: skip
        if not scored:
            return Selection(quotes=[])
        scored.sort(key=lambda e: -e.score)
        best = scored[0]
        sel = Selection(quotes=[], best_similarity=max(e.similarity for e in scored), best_overlap=max(overlaps))
        by_id = {c.passage_id: c for c in cands}
        # The best unit's passage first, then the ranking's first passage and those it scores
        # close behind: whichever of the two stages is right, its passage is quoted.
        top = cands[0].score
        chosen = [c for k, c in enumerate(cands[: self.max_passages])
                  if not k or c.score >= top - self.passage_margin or c.score >= self.passage_min_score]  # fmt: skip
        firsts = [best] + [e for c in chosen if (e := next((e for e in scored if e.passage_id == c.passage_id), None))]
        for k, own in enumerate(firsts):
            have = {(e.passage_id, e.unit.start) for e in sel.quotes}
            if k and own.passage_id in {e.passage_id for e in sel.quotes}:
                continue
            sel.quotes += [e for e in self._around(own, by_id, scored, pieces or {}, same_passage=bool(k))
                           if (e.passage_id, e.unit.start) not in have]  # fmt: skip
        # The other notice says much the same: quote it too (the older one is marked as such).
        other = next((e for e in scored if e.notice_id != best.notice_id), None)
        if other is not None and other.score >= best.score - self.second_margin:
            have = {(e.passage_id, e.unit.start) for e in sel.quotes}
            sel.quotes += [e for e in self._around(other, by_id, scored, pieces or {})
                           if (e.passage_id, e.unit.start) not in have]  # fmt: skip
        self._add_lists_pointed_at(sel, cands, scored, pieces or {})
        return sel

    def _add_lists_pointed_at(self, sel: Selection, cands: list[Candidate], scored: list[Evidence],
                              pieces: dict[str, list[Candidate]]) -> None:  # fmt: skip
        """The list each quoted sentence that POINTS_AHEAD refers to, when retrieval found it."""
        for e in list(sel.quotes):
            if e.unit.kind != "sentence" or not POINTS_AHEAD.search(e.unit.text):
                continue
            later = [c for c in cands if c.kind == "list" and c.notice_id == e.notice_id and c.section == e.section
                     and c.start >= e.unit.end]  # fmt: skip
            if not later:
                continue
            target = min(later, key=lambda c: c.start)
            first = next((x for x in scored if x.passage_id == target.passage_id), None)
            if first is None or target.passage_id in {q.passage_id for q in sel.quotes}:
                continue
            sel.quotes += self._from_list(first, target, scored, pieces)

    def _around(self, best: Evidence, by_id: dict[str, Candidate], scored: list[Evidence],
                pieces: dict[str, list[Candidate]], same_passage: bool = False) -> list[Evidence]:  # fmt: skip
        """What to quote around the best unit: its list, its short paragraph, or its sentences."""
        home = by_id[best.passage_id]
        if home.kind == "list":
            return self._from_list(best, home, scored, pieces)
        near = [e for e in scored if e.score >= best.score - self.margin and e.notice_id == best.notice_id
                and (not same_passage or e.passage_id == best.passage_id)][:3]  # fmt: skip
        by_unit = {(e.passage_id, e.unit.start): e for e in scored}
        if len(home.text) <= self.whole_paragraph_chars:
            # A short paragraph is quoted whole: its other sentences are the context of the best one.
            whole = [by_unit[(home.passage_id, u.start)] for u in home.units]
            near = whole + [e for e in near if e.passage_id != home.passage_id]
        # A unit close behind from a list is quoted as its list is (an address whole, not "Second Floor"
        # and "WN1 1AZ" on their own): by the first of its units to come close.
        lists: dict[str, Evidence] = {}
        for e in near:
            if e.passage_id != home.passage_id and by_id[e.passage_id].kind == "list":
                lists.setdefault(e.passage_id, e)
        out = self._with_neighbours([e for e in near if e.passage_id not in lists], by_id, by_unit)
        for pid, e in lists.items():
            have = {(x.passage_id, x.unit.start) for x in out}
            listed = self._from_list(e, by_id[pid], scored, pieces)
            out += [x for x in listed if (x.passage_id, x.unit.start) not in have]
        return out

    @staticmethod
    def _with_neighbours(near: list[Evidence], by_id: dict[str, Candidate],
                         by_unit: dict[tuple[str, int], Evidence]) -> list[Evidence]:  # fmt: skip
        """``near`` plus the sentences that lean on one of them, or that one leans on (LEANS_BACK)."""
        out: dict[tuple[str, int], Evidence] = {}
        for e in near:
            units = [u for u in by_id[e.passage_id].units if u.kind == "sentence"]
            i = next((k for k, u in enumerate(units) if u.start == e.unit.start), None)
            if i is None:
                out[(e.passage_id, e.unit.start)] = e
                continue
            lo, hi = i, i
            while lo > 0 and LEANS_BACK.search(units[lo].text):
                lo -= 1
            while hi + 1 < len(units) and LEANS_BACK.search(units[hi + 1].text):
                hi += 1
            for u in units[lo : hi + 1]:
                out.setdefault((e.passage_id, u.start), by_unit[(e.passage_id, u.start)])
        return list(out.values())

    def _from_list(self, best: Evidence, home: Candidate, scored: list[Evidence],
                   pieces: dict[str, list[Candidate]]) -> list[Evidence]:  # fmt: skip
        """The intro plus the whole list (all its ``pieces``: a long list is split at ingest), or plus
        the items that stand out from the rest."""
        by_unit = {(e.passage_id, e.unit.start): e for e in scored}
        members: list[Evidence] = []
        for c in pieces.get(home.passage_id, [home]):
            for u in c.units:
                e = by_unit.get((c.passage_id, u.start)) or Evidence(
                    unit=u, notice_id=c.notice_id, section=c.section, passage_id=c.passage_id, score=-1.0, similarity=0.0
                )
                members.append(e)
        intro = [e for e in members if e.unit.kind == "intro"]
        items = [e for e in members if e.unit.kind != "intro"]
        if not items:
            return [best]
        if members[-1].unit.end - members[0].unit.start <= self.whole_list_chars:
            # A short list (an address, a few categories) is quoted whole, as a short paragraph is.
            return intro + items
        item_scores = sorted((e.score for e in items if e.score > -1), reverse=True)
        if best.unit.kind != "intro" and len(item_scores) >= 3:
            median = float(np.median(item_scores))
            if best.score - median > 0.15:
                # Items close to the best, and items that name what the resident asked about.
                keep = [e for e in items if e.score >= best.score - 0.1 or e.overlap >= self.item_overlap][: self.max_quotes]
                return intro + self._with_continuations(keep, items)
        return intro + self._with_continuations(items[: self.list_cap], items)

    @staticmethod
    def _with_continuations(keep: list[Evidence], items: list[Evidence]) -> list[Evidence]:
        """``keep`` (in list order) with the lettered items that continue one of them, and the open-ended
        item that a kept lettered one continues (``ENUMERATED``)."""
        chosen = {id(e) for e in keep}
        runs: list[list[int]] = []  # an open-ended item and the lettered items that follow it
        for k, e in enumerate(items):
            if ENUMERATED.match(e.unit.text):
                if runs and runs[-1][-1] == k - 1:
                    runs[-1].append(k)
            elif OPEN_ENDED.search(e.unit.text):
                runs.append([k])
        for run in runs:
            if len(run) > 1 and any(id(items[k]) in chosen for k in run):
                chosen |= {id(items[k]) for k in run}
        return [e for e in items if id(e) in chosen]
