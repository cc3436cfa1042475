"""``Assistant``: question in, ``Answer`` out. Wires the stages; holds no logic of its own."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.compose import compose
from assistant.embedder import Embedder, shared_embedder
from assistant.evidence import Evidence, EvidenceSelector, Selection
from assistant.facts import AskedFacts
from assistant.lexical import tokens
from assistant.guard import Checked, check
from assistant.models import Answer, Retrieved, Scope, scope_ids
from assistant.resources import reply
from assistant.retrieve import Candidate, HybridRetriever
from assistant.route import Decision, Router
from assistant.route_model import features
from assistant.settings import Settings, get_settings
from assistant.store import STORE_ERRORS, IndexMissing, NoticeStore, StoreUnavailable

log = logging.getLogger(__name__)


def user_turns(history: Sequence[Any]) -> list[str]:
    """The resident's earlier questions, from Gradio messages or (user, bot) pairs."""
    out = []
    for turn in history or ():
        if isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                out.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
    return out


def joined(before: str, q: str) -> str:
    """A follow-up read with the message it leans on."""
    return f"{before} {q}"


class Assistant:
    """``Assistant(index_dir=...)`` overrides settings; the model loads once, on first use."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None, **overrides: Any) -> None:
        base = settings or get_settings()
        self.settings = base.replace(**overrides) if overrides else base
        self.embedder = embedder or shared_embedder()
        self.store = NoticeStore(self.settings)
        s = self.settings
        self.router = Router(self.embedder, safeguarding_probability=s.safeguarding_probability,
                             safeguarding_handoff_probability=s.safeguarding_handoff_probability,
                             request_offer_probability=s.request_offer_probability,
                             request_handoff_probability=s.request_handoff_probability,
                             unanswerable_probability=s.unanswerable_probability,
                             uncovered_topic_similarity=s.uncovered_topic_similarity,
                             follow_up_off_topic_similarity=s.follow_up_off_topic_similarity,
                             cache_dir=s.data_dir / "cache")  # fmt: skip
        self.retriever = HybridRetriever(self.settings, self.store)
        self.facts = AskedFacts()
        self.selector = EvidenceSelector(
            max_quotes=s.max_quotes, margin=s.evidence_margin, overlap_weight=s.evidence_overlap_weight,
            passage_weight=s.evidence_passage_weight, rank_penalty=s.evidence_rank_penalty,
            second_margin=s.evidence_second_margin, whole_paragraph_chars=s.evidence_whole_paragraph_chars,
            max_passages=s.evidence_passages, passage_margin=s.evidence_passage_margin,
            passage_min_score=s.evidence_passage_min_score, item_overlap=s.evidence_item_overlap,
            whole_list_chars=s.evidence_whole_list_chars, adapted_weight=s.evidence_adapted_weight,
        )  # fmt: skip
        self._ready = False
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self.embedder.warm_up()
                self.router.warm_up()
                self.retriever.warm_up()
                self._ready = True

    @property
    def notices(self):  # noqa: ANN201
        self.warm_up()
        return self.retriever.notices

    def ask(self, question: str, history: Sequence[Any] = (), notice: Scope = None) -> Answer:
        """``notice`` restricts retrieval to one notice id, or to several."""
        t0 = time.perf_counter()
        checked = check(question, self.settings.max_question_chars)
        answer = self._ask(checked, history, notice)
        if checked.personal:
            # Personal details belong in the form, never in the chat: point to it.
            answer.offers_handoff = True
            answer.request_type = answer.request_type or "other_question"
        answer.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        answer.notice = notice if notice is None or isinstance(notice, str) else list(scope_ids(notice) or ())
        return answer

    def _ask(self, checked: Checked, history: Sequence[Any], notice: Scope) -> Answer:
        if checked.refusal:
            return Answer(route="out_of_scope", text=checked.refusal)
        try:
            self.warm_up()
        except IndexMissing:
            return Answer(route="unanswerable", text=reply("no_index"))
        except StoreUnavailable:
            log.warning("notice index unavailable")
            return Answer(route="unanswerable", text=reply("store_down"))
        unknown = [n for n in scope_ids(notice) or () if n not in self.retriever.notices]
        if unknown:
            return Answer(route="unanswerable", text=f"There is no notice with the id “{unknown[0]}”.")

        earlier = user_turns(history)
        q = checked.question if earlier else self.router.with_subject(checked.question)
        qvec = self.embedder.embed_query(q)
        if self.router.injection(q):
            return Answer(route="out_of_scope", text=self._with_note(reply("out_of_scope"), checked.note))
        if self.router.about_itself(q):
            return Answer(route="out_of_scope", text=self._with_note(reply("about_assistant"), checked.note))

        # A follow-up ("what about the police?") leans on the message before it: both are read together.
        before = earlier[-1] if earlier and self.router.is_follow_up(q) else None
        together = None if before is None else joined(before, q)
        tvec = None if together is None else self.embedder.embed_query(together)
        try:
            cands, sel = self._find(q, qvec, notice, together, tvec)
        except (StoreUnavailable, *STORE_ERRORS):
            return Answer(route="unanswerable", text=reply("store_down"))
        retrieved = [Retrieved(**c.model_dump(include=set(Retrieved.model_fields))) for c in cands]
        decision = self.router.decide(q, qvec, self.evidence_signals(q, cands, sel, notice))
        asked = q  # what the asked-fact check reads
        if before is not None:
            decision, sel, asked = self._follow_up(before, q, qvec, together, tvec, decision, cands, sel, notice)

        stating = None
        if decision.route == "out_of_scope" and not self.router.asks_to_act(q):
            stating = self._stating(asked, q, qvec, sel, cands, notice)
        if stating is not None:
            # What the notices state in so many words, in words the router took for another subject ("do i need
            # to let u know if we move house?? just moved from pemberton to hindley"): answered from them.
            decision = decision.model_copy(update={"route": "answer", "offers_handoff": False, "request_type": None})
            sel = stating
        if decision.route == "out_of_scope":
            return Answer(route="out_of_scope", text=self._with_note(reply("out_of_scope"), checked.note))
        if decision.route == "safeguarding":
            # Emergency signposting first; a request to act that came with it goes to the form, after it.
            text = reply("safeguarding", contact=self.settings.childrens_services_contact)
            if decision.offers_handoff:
                text += "\n\n" + reply("safeguarding_handoff")
            return Answer(route="safeguarding", text=text, offers_handoff=decision.offers_handoff,
                          request_type=decision.request_type)  # fmt: skip
        found = self._found(sel) or stating is not None
        held = self._held_data(q, qvec, cands, sel, notice) if decision.route == "handoff" else None
        if held is not None:
            decision = decision.model_copy(update={"route": "answer", "offers_handoff": False, "request_type": None})
            sel, found = held, True
        quoted, citations = compose(sel.quotes, self.retriever.notices) if found else ("", [])
        # A question asking for a kind of fact (an amount, an email address) that the quotes don't hold:
        # the reply says which, also when the route already says the notices don't answer it, and when the
        # router handed it off but its words ask for that fact, not for the council to act ("will you let me
        # know before you tell the police?"): the form is offered all the same.
        asks_fact = decision.route in ("answer", "unanswerable") or (decision.route == "handoff"
                                                                     and not self.router.asks_to_act(q))
        missing = self.facts.missing(asked, [quoted]) if asks_fact and found else None
        if decision.route == "handoff" and not missing:
            parts = [reply("handoff")] + ([reply("handoff_cited"), quoted] if found else [])
            return Answer(route="handoff", text=self._with_note("\n\n".join(parts), checked.note), citations=citations,
                          retrieved=retrieved, offers_handoff=True, request_type=decision.request_type)  # fmt: skip
        # What the quotes state in so many words that the question asks for (how long the council keeps records;
        # telling it when one's details change: routing.yaml ``stated_facts``) is answered from the quotes that
        # state it, and only those: the rest of what evidence selection chose is as likely to be beside the point.
        # Also when the router took the question for one the notices don't answer, with the form when its words
        # name a right ("...and can I have it deleted?").
        if stating is None and decision.route in ("answer", "unanswerable") and not missing:
            stating = self._stating(asked, q, qvec, sel, cands, notice)
        if stating is not None:
            if decision.route == "unanswerable":
                right = self.router.about_a_right(q)
                decision = decision.model_copy(update={"route": "answer", "offers_handoff": right,
                                                       "request_type": self.router.request_type(q, qvec) if right
                                                       else None})  # fmt: skip
            sel, found = stating, True
            quoted, citations = compose(sel.quotes, self.retriever.notices)
        if decision.route == "unanswerable" or not found or missing:
            text = reply("unanswerable_fact", what=missing.what) if missing else reply("unanswerable")
            return Answer(route="unanswerable", text=self._with_note(text, checked.note),
                          retrieved=retrieved, offers_handoff=True, request_type="other_question")  # fmt: skip
        text = quoted + (f"\n\n{reply('offer')}" if decision.offers_handoff else "")
        return Answer(route="answer", text=self._with_note(text, checked.note), citations=citations, retrieved=retrieved,
                      offers_handoff=decision.offers_handoff, request_type=decision.request_type)  # fmt: skip

    def _follow_up(self, before: str, q: str, qvec: np.ndarray, together: str, tvec: np.ndarray,
                   decision: Decision, cands: list[Candidate], sel: Selection,
                   notice: Scope) -> tuple[Decision, Selection, str]:  # fmt: skip
        """The route, evidence and asked-fact text of a message that leans on the one ``before``.

        "how long for?" after "do you keep photos of children in care?", "why" after "does the
        council share anything with colleges?": alone they read as off-topic or as something the
        notices don't say. When the message before was answered from the notices, the follow-up is
        answered the same way (with the form if that one offered it, or if its own words name a
        right: "can I opt him out of that?"), its quotes chosen for the two messages together, and
        the asked-fact check reads both ("how much is it?" after "there's a charge"). Not when it
        names a council service no notice covers ("and how do I pay my council tax?"). A follow-up
        whose words ask the council to act ("can you chase it up for me?") goes to a person, with
        the form: alone it could be about anything, after a question about the notices it is
        about one's records, and so it is after a privacy question the notices don't answer or a
        request ("can you chase it up for me?" after "I asked for a copy of my file two months
        ago" or "the notice says you reply within a month"). A follow-up the
        router answers but that alone finds nothing close enough to quote ("can I opt out of
        that?") is quoted for the two together. One that reads like the off-topic phrasings ("and what's
        the weather like?": ``Router.like_off_topic``) is about something else, and stays off-topic.
        """
        if decision.route == "answer" and not self._found(sel):
            return decision, self._select(together, tvec, cands, notice), together
        if decision.route not in ("unanswerable", "out_of_scope") or self.retriever.uncovered_services(q, notice):
            return decision, sel, q
        if decision.route == "out_of_scope" and self.router.like_off_topic(qvec):
            return decision, sel, q  # about something else ("and what's the weather like?"), not about the answer
        bvec = self.embedder.embed_query(before)
        bcands, bsel = self._find(before, bvec, notice)
        previous = self.router.decide(before, bvec, self.evidence_signals(before, bcands, bsel, notice))
        acts = self.router.asks_to_act(q)
        if previous.route != "answer" and not (acts and previous.route in ("unanswerable", "handoff")):
            return decision, sel, q
        if acts:
            previous = previous.model_copy(update={"route": "handoff", "offers_handoff": True,
                                                   "request_type": self.router.request_type(q, qvec)})  # fmt: skip
        elif not previous.offers_handoff and self.router.about_a_right(q):
            previous = previous.model_copy(update={"offers_handoff": True, "request_type": self.router.request_type(q, qvec)})
        return previous, self._select(together, tvec, cands, notice), together

    def _stating(self, asked: str, q: str, qvec: np.ndarray, sel: Selection, cands: list[Candidate],
                 notice: Scope) -> Selection | None:  # fmt: skip
        """The quotes that state in so many words what the question asks for (routing.yaml ``stated_facts``: how
        long the council keeps records, telling it when one's details change), and only those; ``None`` when the
        question asks for none of these, when no passage retrieval found states it, or when a rule says the
        notices don't cover it: a council service they never mention, or a topic they don't cover.

        The sentences evidence selection chose that state it, or else those of any passage retrieval found: the
        rest of what was chosen is as likely to be beside the point (the sharing lists and the rights paragraph
        were quoted with "Please keep us informed if your personal data changes." for "do I need to tell you
        when we move house?").
        """
        texts = [e.unit.text for e in sel.quotes] + [u.text for c in cands for u in c.units]
        kinds = self.facts.all_stated(asked, texts)
        if not kinds or self.retriever.uncovered_services(q, notice) or self.router.near_uncovered_topic(qvec):
            return None
        quotes = []
        for kind in kinds:  # "do you keep photos or videos of the kids?": both lines of the list
            quotes += [e for e in sel.quotes if kind.facts.search(e.unit.text)] or [
                Evidence(unit=u, notice_id=c.notice_id, section=c.section, passage_id=c.passage_id, score=c.score,
                         similarity=0.0)
                for c in cands for u in c.units if kind.facts.search(u.text)]  # fmt: skip
        unique: dict[tuple[str, int], Evidence] = {}
        for e in quotes:  # a sentence two kinds hold is quoted once
            unique.setdefault((e.passage_id, e.unit.start), e)
        return sel.model_copy(update={"quotes": list(unique.values())})

    def _held_data(self, q: str, qvec: np.ndarray, cands: list[Candidate], sel: Selection,
                   notice: Scope) -> Selection | None:  # fmt: skip
        """The evidence for a question asking whether a kind of data is held ("have you got my son's NHS
        number?"), without asking the council to act, when retrieval's best passage or quote comes from a list
        of data the notices say is collected: a question about the notices, not a look-up of one's own file
        (routing.yaml ``held_data``). Quoted from those lists only ("NHS" is on the sharing list too)."""
        if not (cands and self.router.asks_what_is_held(q) and not self.router.asks_to_act(q)):
            return None
        sections = self.router.held_sections  # read once the router is warmed up
        if cands[0].section not in sections and not (sel.quotes and sel.quotes[0].section in sections):
            return None
        held = self._select(q, qvec, [c for c in cands if c.section in sections], notice)
        return held if self._found(held) else None

    def _found(self, sel: Selection) -> bool:
        """Whether evidence selection found anything close enough to quote (``min_relevance``)."""
        return bool(sel.quotes) and sel.best_similarity >= self.settings.min_relevance

    def _find(self, q: str, qvec: np.ndarray, notice: Scope, together: str | None = None,
              tvec: np.ndarray | None = None) -> tuple[list[Candidate], Selection]:  # fmt: skip
        """Retrieval and evidence selection for the question; a follow-up is retrieved ``together``
        with the message before it (``tvec`` its vector), and its evidence chosen for its own words."""
        if together is None or tvec is None:
            together, tvec = q, qvec
        cands = self.retriever.run(together, tvec, notice=notice)
        return cands, self._select(q, qvec, cands, notice)

    def _select(self, text: str, vec: np.ndarray, cands: list[Candidate], notice: Scope) -> Selection:
        """Evidence for ``text`` (the question, or a follow-up with the message before) among ``cands``."""
        pieces = {c.passage_id: self.retriever.list_pieces(c, cands) for c in cands if c.kind == "list"}
        return self.selector.run(text, vec, cands, self.retriever.idf(notice), pieces, self.retriever.lexical_query(text),
                                 self.retriever.adapted(vec))  # fmt: skip

    def routing_features(self, question: str, notice: Scope = None) -> np.ndarray:
        """The router's input for a question, as ``ask`` computes it (to fit the router)."""
        self.warm_up()
        q = self.router.with_subject(check(question, self.settings.max_question_chars).question)
        qvec = self.embedder.embed_query(q)
        cands, sel = self._find(q, qvec, notice)
        return features(self.router.signals(q, qvec), self.evidence_signals(q, cands, sel, notice), qvec)

    def evidence_signals(self, question: str, cands: list[Candidate], sel: Selection, notice: Scope = None) -> dict[str, float]:
        """What retrieval found, for the router (route_model.EVIDENCE_SIGNALS)."""
        words = tokens(question)
        unknown = self.retriever.unknown_terms(question)
        return {
            "top_score": cands[0].score if cands else -10.0,
            "second_score": cands[1].score if len(cands) > 1 else -10.0,
            "best_similarity": sel.best_similarity,
            "best_overlap": sel.best_overlap,
            "unknown_terms": float(len(unknown)),
            "unknown_share": len(unknown) / max(1, len(words)),
            "other_service": float(bool(self.retriever.uncovered_services(question, notice))),
            "log_words": math.log1p(len(words)),
            "question_mark": float("?" in question),
        }

    @staticmethod
    def _with_note(text: str, note: str | None) -> str:
        return f"{text}\n\n{note}" if note else text


__all__ = ["Assistant", "Candidate"]
