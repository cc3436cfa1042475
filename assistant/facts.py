"""Questions that ask for a kind of fact the passages quoted hold none of (routing.yaml ``asked_facts``).

Retrieval finds the passages nearest a question's topic; whether they hold what it asks for is
another matter. A question that asks for an amount, an email address, a phone number, a web
address, a registration number, a count or how long another organisation keeps what it is given
("how long does the DfE keep it?": the council's "as long as necessary" is about itself) is
answered only if the passages quoted hold one:
"We may make a small charge for this service" is on the topic of "how much is the charge?",
and does not answer it. The pipeline checks the quotes it would show, not every passage
retrieval found: the education notice's phone number, found for "what's the phone number for
the ICO?", is not quoted, and is not the ICO's.
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
    """``missing(question, texts)``: the fact the question asks for, when none of the texts holds one."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        spec = load("routing").get("asked_facts", {}) if spec is None else spec
        self.kinds = [AskedFact(name, str(d["what"]), Patterns(d["asks"]), Patterns(d["facts"])) for name, d in spec.items()]

    def missing(self, question: str, texts: Iterable[str]) -> AskedFact | None:
        texts = list(texts)
        for kind in self.kinds:
            if kind.asks.search(question) and not any(kind.facts.search(t) for t in texts):
                return kind
        return None
