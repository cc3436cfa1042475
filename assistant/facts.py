"""Questions that ask for a kind of fact the passages quoted hold none of (routing.yaml ``asked_facts``).

Retrieval finds the passages nearest a question's topic; whether they hold what it asks for is
another matter. A question that asks for an amount, an email address, a phone number, a web
address, a registration number, a count, how often something happens ("regularly reviewed" says
no frequency), whether the council tells you, or how long another organisation keeps what it is
given ("how long does the DfE keep it?": the council's "as long as necessary" is about itself) is
answered only if the passages quoted hold one:
"We may make a small charge for this service" is on the topic of "how much is the charge?",
and does not answer it. The pipeline checks the quotes it would show, not every passage
retrieval found: the education notice's phone number, found for "what's the phone number for
the ICO?", is not quoted, and is not the ICO's.

The other way round, a question asking for what the notices state in so many words (how long the
council keeps records: "as long as necessary") is answered when the quotes hold it, even if the
router took its wording ("how long does wigan keep my kids file?") for a question they don't answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assistant.resources import Patterns, load


@dataclass(frozen=True)
class AskedFact:
    name: str
    what: str  # how the reply names it: "an amount of money"
    asks: Patterns
    facts: Patterns


class AskedFacts:
    """``missing(question, texts)``: the fact the question asks for, when none of the texts holds one;
    ``stated(question, texts)``: the fact the notices state in so many words (routing.yaml ``stated_facts``),
    when the question asks for it and the texts hold it."""

    def __init__(self, spec: dict[str, Any] | None = None, stated: dict[str, Any] | None = None) -> None:
        data = load("routing")
        self.council = str(data.get("council_subject", ""))
        self.someone_else = str(data.get("someone_else", "")).replace("{council}", self.council)
        self.other = str(data.get("other_organisation", ""))
        self.kinds = self._kinds(data.get("asked_facts", {}) if spec is None else spec)
        self.stated_kinds = self._kinds(data.get("stated_facts", {}) if stated is None else stated)

    def _kinds(self, spec: dict[str, Any]) -> list[AskedFact]:
        """Each kind's patterns, with routing.yaml's ``council_subject``, ``someone_else`` and
        ``other_organisation`` where they say ``{council}``, ``{someone_else}`` and ``{other}``."""
        return [AskedFact(name, str(d["what"]), Patterns(self._named(p) for p in d["asks"]),
                          Patterns(d["facts"])) for name, d in spec.items()]  # fmt: skip

    def _named(self, pattern: str) -> str:
        return (pattern.replace("{someone_else}", self.someone_else).replace("{council}", self.council)
                .replace("{other}", self.other))

    def stated(self, question: str, texts: Iterable[str]) -> AskedFact | None:
        return next(iter(self.all_stated(question, texts)), None)

    def all_stated(self, question: str, texts: Iterable[str]) -> list[AskedFact]:
        """Every kind ``stated`` would give ("do you keep photos or videos of the kids?" asks for two)."""
        texts = list(texts)
        return [k for k in self.stated_kinds if k.asks.search(question) and any(k.facts.search(t) for t in texts)]

    def missing(self, question: str, texts: Iterable[str]) -> AskedFact | None:
        texts = list(texts)
        for kind in self.kinds:
            if kind.asks.search(question) and not any(kind.facts.search(t) for t in texts):
                return kind
        return None
