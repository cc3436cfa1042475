"""How far a second, blind reader agrees with the gold set's expected behaviours.

``eval/gold/second-reader.jsonl`` holds a second reader's label for every question of the
gold files. The reader (an AI helper in a separate session) saw only the two notices, the
route definitions of issue 4 and the questions, never the gold labels; its instructions, word
for word, are in ``eval/gold/second-reader-instructions.md``. Agreement says how clear
the labels are: a behaviour target above it would ask the assistant to copy one labeller,
and a router well below it is short of what a careful reader does with the same text.

Metrics:
- agreement: share of questions where both readers chose the same behaviour;
- Cohen's kappa: agreement corrected for chance, ``(p_o - p_e) / (1 - p_e)``, where ``p_e``
  is the agreement expected if each reader labelled at random with their own label shares.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from eval.gold import Expect, GoldError, GoldItem, load_gold

SECOND_READER = Path(__file__).resolve().parent / "gold" / "second-reader.jsonl"


class SecondLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gold: str  # the gold file's name, e.g. "wigan.jsonl"
    id: str
    expect: Expect
    confidence: Literal["high", "low"]
    why: str = ""


class Disagreement(BaseModel):
    id: str
    question: str
    gold: Expect
    second: Expect
    confidence: str
    why: str


class Agreement(BaseModel):
    gold: str
    questions: int
    agreed: int
    share: float
    kappa: float
    high_confidence: tuple[int, int]  # (agreed, questions) among the second reader's confident labels
    ids: list[str]  # the questions compared
    per_route: dict[str, tuple[int, int]]  # gold behaviour -> (agreed, questions)
    disagreements: list[Disagreement]


def load_second_reader(path: Path = SECOND_READER) -> list[SecondLabel]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(SecondLabel.model_validate_json(line))
        except ValidationError as e:
            err = e.errors()[0]
            raise GoldError(f"{path}:{n}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    return out


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two readers' labels for the same items (1.0 when both use one label alike)."""
    if len(a) != len(b) or not a:
        raise ValueError("two non-empty label lists of the same length are needed")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def agreement(gold: list[GoldItem], labels: list[SecondLabel], name: str) -> Agreement:
    """Agreement of ``labels`` with ``gold`` on the questions both hold (an unknown id is an error)."""
    by_id = {g.id: g for g in gold}
    unknown = [lab.id for lab in labels if lab.id not in by_id]
    if unknown:
        raise GoldError(f"{name}: the second reader labelled questions the gold file does not hold: {unknown[:5]}")
    pairs = [(by_id[lab.id], lab) for lab in labels]
    per: dict[str, list[int]] = {}
    for g, lab in pairs:
        cell = per.setdefault(g.expect, [0, 0])
        cell[0] += g.expect == lab.expect
        cell[1] += 1
    high = [(g, lab) for g, lab in pairs if lab.confidence == "high"]
    agreed = sum(g.expect == lab.expect for g, lab in pairs)
    return Agreement(
        gold=name, questions=len(pairs), agreed=agreed, share=round(agreed / len(pairs), 4),
        kappa=round(cohen_kappa([g.expect for g, _ in pairs], [lab.expect for _, lab in pairs]), 4),
        high_confidence=(sum(g.expect == lab.expect for g, lab in high), len(high)), ids=[g.id for g, _ in pairs],
        per_route={k: (v[0], v[1]) for k, v in sorted(per.items())},
        disagreements=[Disagreement(id=g.id, question=g.question, gold=g.expect, second=lab.expect,
                                    confidence=lab.confidence, why=lab.why)
                       for g, lab in pairs if g.expect != lab.expect],
    )  # fmt: skip


def agreements(gold_dir: Path, path: Path = SECOND_READER) -> list[Agreement]:
    """One ``Agreement`` per gold file the second reader labelled, and one over all of them."""
    labels = load_second_reader(path)
    out, gold_all, labels_all = [], [], []
    for name in dict.fromkeys(lab.gold for lab in labels):
        mine = [lab for lab in labels if lab.gold == name]
        gold = load_gold(gold_dir / name)
        out.append(agreement(gold, mine, name))
        # Ids are unique within a file only: key the pooled row by file as well.
        gold_all += [g.model_copy(update={"id": f"{name}:{g.id}"}) for g in gold]
        labels_all += [lab.model_copy(update={"id": f"{name}:{lab.id}"}) for lab in mine]
    if len(out) > 1:
        out.append(agreement(gold_all, labels_all, "all"))
    return out


def reader_agreement(gold_path: Path, gold: list[GoldItem], path: Path = SECOND_READER) -> Agreement | None:
    """The second reader's agreement on the questions of ``gold`` it labelled (None when it labelled none)."""
    if not Path(path).exists():
        return None
    ids = {g.id for g in gold}
    labels = [lab for lab in load_second_reader(path) if lab.gold == Path(gold_path).name and lab.id in ids]
    if not labels:
        return None
    labelled = {lab.id for lab in labels}
    return agreement([g for g in gold if g.id in labelled], labels, Path(gold_path).name)


def system_agreed(reader: Agreement, rows: list[dict]) -> tuple[int, int]:
    """(right, questions): a system's results rows on the questions the reader labelled."""
    from eval.metrics import behaviour_ok

    ids = set(reader.ids)
    mine = [r for r in rows if r["id"] in ids]
    return sum(behaviour_ok(r["expect"], r) for r in mine), len(mine)


def report_section(reader: Agreement, runs: dict[str, list[dict]]) -> list[str]:
    """Markdown lines for the eval report: the reader's agreement next to each system's, on the same questions."""
    lines = [
        "## How clear the expected behaviours are",
        "",
        f"A second reader labelled {reader.questions} of these questions again, blind"
        " (`eval/gold/second-reader.jsonl`): it had the notices and the route definitions, never the gold labels."
        " On those questions:",
        "",
        "| who | same behaviour as the gold set |",
        "| --- | --- |",
        f"| second reader | {reader.share:.3f} ({reader.agreed}; Cohen's kappa {reader.kappa:.3f}) |",
    ]
    for name, rows in runs.items():
        right, n = system_agreed(reader, rows)
        lines.append(f"| {name} | {right / max(1, n):.3f} ({right}) |")
    return lines


def table(results: list[Agreement]) -> str:
    lines = ["| gold file | questions | agreement | Cohen's kappa | confident labels agreeing |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in results:
        hi, n = r.high_confidence
        lines.append(f"| {r.gold} | {r.questions} | {r.share:.3f} ({r.agreed}) | {r.kappa:.3f} | {hi}/{n} |")
    return "\n".join(lines)


def details(results: list[Agreement]) -> str:
    lines = []
    for r in results:
        if r.gold == "all":
            continue
        lines.append(f"\n{r.gold}: " + ", ".join(f"{k} {a}/{n}" for k, (a, n) in r.per_route.items()))
        for d in r.disagreements:
            lines.append(f"  {d.id}: gold {d.gold}, second reader {d.second} ({d.confidence}): {d.question}"
                         + (f" — {d.why}" if d.why else ""))  # fmt: skip
    return "\n".join(lines)


def to_json(results: list[Agreement]) -> str:
    return json.dumps([r.model_dump() for r in results])
