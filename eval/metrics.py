"""Metrics computed from a results file alone (plus the notice texts, to check quotes).

Definitions (also printed in the report):

- evidence recall@k: for each answerable question, the share of its gold evidence quotes
  that lie inside one of the top-k retrieved passages (text normalised: case, spaces,
  curly quotes); averaged over questions.
- cited evidence recall: the same share, for the quotes inside one of the answer's citations.
- citation precision: share of citations (answerable questions) that are precise. A
  citation is precise when its span overlaps a gold quote, or it is the sentence that
  introduces the list holding a gold quote (same section, ends in ':' or ';'): a bare list
  item such as "The police" means nothing without "we share data with ... the following".
- groundedness: share of answer statements that are verbatim in (or, token by token after
  normalisation, contained in) the quote of a valid citation: ALCE's citation recall with a
  lexical judge. Statements are the answer's sentences except framing lines that only name
  a source; a citation whose quote is not notice[start:end] is invalid, so its statements fail.
- behaviour accuracy: route matches `expect` (answer+offer also needs offers_handoff);
  per category and overall. Wrong-refusal rate: answerable questions not answered.
- request-type accuracy: for questions whose gold line lists `request_types` (the DPO
  requests it fits), among the answers that offer the form, the share whose `request_type`
  (what the form opens with) is one of them.
- requests given the form: among the requests to act (`expect` handoff), the share whose
  answer offers the DPO form, whatever its route: a request that gets only a quote, a
  pointer elsewhere or the signposting alone is lost.
- latency p50/p95 of `latency_ms`.
- 95% interval: how much a figure could move with other questions of the same kind. The
  questions are resampled with replacement 2,000 times (each keeps all its citations and
  statements) and the figure recomputed; the interval holds the middle 95% of the results
  (percentile bootstrap, fixed seed). With 9 questions in a category, one question is 0.11.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from eval.gold import ANSWERABLE, GoldItem

def _framing() -> list[re.Pattern[str]]:
    """Lines of the assistant's own templates (assistant/data/replies.yaml): no notice content."""
    from assistant.resources import load

    out = []
    for template in load("replies").values():
        for line in str(template).splitlines():
            if line.strip():
                pattern = re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(line.strip()))
                out.append(re.compile(rf"^\*?{pattern}\*?$"))
    return out


FRAMING = _framing()
CITE_MARK = re.compile(r"\s*\[\d+\]")
MD_ESCAPE = re.compile(r"\\([\\`*_\[\]#|])")


LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022\uf0b7]|\(?[a-z0-9]{1,3}[.)])\s+")


def norm(text: str) -> str:
    """Case, spacing, curly quotes and a leading list marker ("(b) ", "- ") do not count."""
    text = LIST_MARKER.sub("", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.lower().split())


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", norm(text))


def contains_tokens(haystack: str, needle: str) -> bool:
    """Needle's tokens appear in the haystack as one contiguous run."""
    h, n = tokens(haystack), tokens(needle)
    if not n:
        return True
    return any(h[i : i + len(n)] == n for i in range(len(h) - len(n) + 1))


def statements(text: str) -> list[str]:
    """Answer sentences that state notice content (framing lines excluded)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        line = re.sub(r"^>\s?", "", line).strip()
        line = re.sub(r"^[-*]\s+", "", line)
        line = CITE_MARK.sub("", line)
        line = MD_ESCAPE.sub(r"\1", line).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        if not line or any(f.match(line) for f in FRAMING):
            continue
        out.append(line)
    return out


def valid_citation(c: dict[str, Any], bodies: dict[str, str]) -> bool:
    body = bodies.get(c.get("notice_id", ""))
    return body is not None and body[c["start"] : c["end"]] == c.get("quote")


def span_of(quote: str, body: str) -> tuple[int, int] | None:
    i = body.find(quote)
    return (i, i + len(quote)) if i >= 0 else None


def percentile(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) if xs else 0.0


def behaviour_of(row: dict[str, Any]) -> str:
    """What a result row did: its route, or answer+offer for an answer that offers the form."""
    return "answer+offer" if row["route"] == "answer" and row.get("offers_handoff") else row["route"]


def behaviour_ok(expect: str, row: dict[str, Any]) -> bool:
    return behaviour_of(row) == expect


BOOTSTRAP = 2000


def bootstrap_intervals(per_question: dict[str, list[list[float]]], n_questions: int,
                        resamples: int = BOOTSTRAP, seed: int = 0) -> dict[str, list[float] | None]:  # fmt: skip
    """95% percentile-bootstrap interval of each metric, resampling questions.

    ``per_question[metric][q]`` holds question q's values for that metric (none, one, or
    several: a question's citations or statements); the metric is the mean of all values.
    """
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_questions, np.full(n_questions, 1.0 / n_questions), size=resamples) if n_questions else None
    out: dict[str, list[float] | None] = {}
    for name, values in per_question.items():
        sums = np.asarray([sum(v) for v in values], dtype=float)
        sizes = np.asarray([len(v) for v in values], dtype=float)
        if counts is None or not sizes.sum():
            out[name] = None
            continue
        num, den = counts @ sums, counts @ sizes
        est = num[den > 0] / den[den > 0]
        out[name] = [round(float(np.percentile(est, 2.5)), 4), round(float(np.percentile(est, 97.5)), 4)]
    return out


def row_values(row: dict[str, Any], g: GoldItem, bodies: dict[str, str], ks: tuple[int, ...]) -> dict[str, list[float]]:
    """One result row's values of each metric (a metric is the mean of all rows' values)."""
    out: dict[str, list[float]] = {"behaviour_accuracy": [float(behaviour_ok(g.expect, row))]}
    if g.expect == "handoff":
        out["form_offered"] = [float(bool(row.get("offers_handoff")))]
    if g.request_types and row.get("offers_handoff"):
        out["request_type_accuracy"] = [float(row.get("request_type") in g.request_types)]
    citations = row.get("citations", [])
    valid = [c for c in citations if valid_citation(c, bodies)]
    out["groundedness"] = [
        float(any(norm(s) in norm(c["quote"]) or contains_tokens(c["quote"], s) for c in valid))
        for s in (statements(row.get("text", "")) if citations else [])
    ]
    if g.expect not in ANSWERABLE or not g.evidence:
        return out
    out["wrong_refusal_rate"] = [float(row["route"] not in ("answer", "handoff"))]
    ev = [norm(e) for e in g.evidence]
    passages = [norm(p["text"]) for p in row.get("retrieved", [])]
    for k in ks:
        out[f"recall@{k}"] = [sum(any(e in p for p in passages[:k]) for e in ev) / len(ev)]
    quotes = [norm(c["quote"]) for c in valid]
    out["cited_recall"] = [sum(any(e in q for q in quotes) for e in ev) / len(ev)]
    spans = [(nid, sp) for e in g.evidence for nid, b in bodies.items() if (sp := span_of(e, b))]
    sections = {c["section"] for c in valid if any(nid == c["notice_id"] and c["start"] < sp[1] and sp[0] < c["end"] for nid, sp in spans)}
    out["citation_precision"] = []
    for c in citations:
        overlaps = any(nid == c["notice_id"] and c["start"] < sp[1] and sp[0] < c["end"] for nid, sp in spans)
        intro = c["section"] in sections and c["quote"].rstrip().endswith((":", ";"))
        out["citation_precision"].append(float(valid_citation(c, bodies) and (overlaps or intro)))
    return out


def score(results: list[dict[str, Any]], gold: list[GoldItem], bodies: dict[str, str],
          ks: tuple[int, ...] = (1, 3, 5)) -> dict[str, Any]:  # fmt: skip
    by_id = {g.id: g for g in gold}
    names = [*(f"recall@{k}" for k in ks), "cited_recall", "citation_precision", "groundedness",
             "behaviour_accuracy", "wrong_refusal_rate", "request_type_accuracy", "form_offered"]  # fmt: skip
    per_q: dict[str, list[list[float]]] = {n: [] for n in names}  # each metric's values, question by question
    expects, latencies = [], []
    for row in results:
        g = by_id.get(row["id"])
        if g is None:
            continue
        expects.append(g.expect)
        latencies.append(float(row.get("latency_ms", 0.0)))
        values = row_values(row, g, bodies, ks)
        for n in names:
            per_q[n].append(values.get(n, []))
    # Behaviour within each expected category: the other questions hold no value for it.
    per_category = {cat: [v if e == cat else [] for v, e in zip(per_q["behaviour_accuracy"], expects)]
                    for cat in sorted(set(expects))}  # fmt: skip

    def mean(per_question: list[list[float]]) -> float | None:
        xs = [x for v in per_question for x in v]
        return round(float(np.mean(xs)), 4) if xs else None

    return {
        "questions": len(expects),
        **{n: mean(per_q[n]) for n in names},
        "statements": sum(len(v) for v in per_q["groundedness"]),
        "behaviour": {cat: mean(v) for cat, v in per_category.items()},
        "behaviour_n": {cat: expects.count(cat) for cat in per_category},
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "ci95": bootstrap_intervals(per_q, len(expects)),
        "behaviour_ci95": bootstrap_intervals(per_category, len(expects)),
    }
