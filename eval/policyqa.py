"""PolicyQA as a retrieval benchmark: do the top-k passages hold a gold answer span?

Each policy of a SQuAD-format file is ingested as one notice (its segments joined by blank
lines, in order) through the real ingest; each (policy, question) pair is asked restricted
to its policy, of our hybrid retriever and of the LangChain peer, in the same run. Our
question adapter and ranker are fitted on the file's own questions, a policy never on its
own (see ``run_ours``).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel
from tqdm import tqdm

from assistant.models import Notice
from eval.gold import GoldError

KS = (1, 3, 5)
FOLDS = 5
INNER_FOLDS = 3  # policy-grouped folds within a fold's training policies (adapter penalty, ranker signals)

DEFINITIONS = """\
- **pair**: one (policy, question text); questions repeat within a policy with different
  answers, so the gold of a pair is the set of all answer spans given for it.
- **hit@k**: share of pairs where at least one gold span is contained in the text of one of
  the top-k passages returned for the question, restricted to the question's policy. Text is
  compared lower-cased with runs of whitespace collapsed to one space. A span that crosses a
  passage boundary is not contained in any passage, so it cannot be a hit.
- **mean passage chars**: mean length in characters of every passage in the system's index
  (ours: the Chroma passage collection after ingest; peer: the splitter's chunks).
- **seconds**: that system's own wall time: building its index (embedding included) and
  answering every pair (query embedding included). The model is loaded before either clock
  starts. The total wall time of the run is given with the pair count.
- **ours**: `ingest.build.Indexer` + `HybridRetriever.run(top_k=5)` (no routing, guard or
  answer composition). Its question adapter is fitted on this file's own questions: each
  fifth of the policies is asked with an adapter fitted on the other policies' questions
  only, so no policy is scored by a model that saw its questions. The adapter's penalty
  is chosen for each fold by policy-grouped cross-validation within the other policies'
  questions (the penalty whose adapters best place an answer among the 3 passages closest
  to the adapted question). Its ranker is likewise fitted for each fold on the other
  policies' questions, on signals from adapters that had not seen their policy, its C
  chosen by policy-grouped cross-validation. Its seconds include those fits. **peer**:
  LangChain `RecursiveCharacterTextSplitter` 500/50, the same embedding model, Chroma
  similarity search, k = 5."""


class PolicyQAError(GoldError):
    """A PolicyQA file that cannot be read; ``python -m eval`` prints it as one line."""


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def slug(title: str, taken: set[str]) -> str:
    """A notice id from a policy title: 'mlb.mlb.com' -> 'mlb-mlb-com' (unique within the run)."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100] or "policy"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out


@dataclass
class Pair:
    notice_id: str
    question: str
    gold: list[str] = field(default_factory=list)  # answer texts, verbatim, de-duplicated
    spans: list[tuple[int, int]] = field(default_factory=list)  # their offsets in the notice body


def load_policyqa(path: Path, limit: int | None = None) -> tuple[list[Notice], list[Pair], int]:
    """(notices, pairs, raw question count) of the first ``limit`` policies."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except OSError as e:
        raise PolicyQAError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (ValueError, KeyError, TypeError) as e:
        raise PolicyQAError(f"{path}: not a SQuAD-format file ({e})") from None
    notices: list[Notice] = []
    pairs: dict[tuple[str, str], Pair] = {}
    questions = 0
    taken: set[str] = set()
    try:
        for policy in data[:limit] if limit is not None else data:
            nid = slug(str(policy["title"]), taken)
            offset, parts = 0, []
            for para in policy["paragraphs"]:
                context = para["context"]
                for qa in para["qas"]:
                    questions += 1
                    pair = pairs.setdefault((nid, qa["question"]), Pair(nid, qa["question"]))
                    for a in qa["answers"]:
                        span = (offset + a["answer_start"], offset + a["answer_start"] + len(a["text"]))
                        if a["text"].strip() and span not in pair.spans:
                            pair.spans.append(span)
                            if a["text"] not in pair.gold:
                                pair.gold.append(a["text"])
                parts.append(context)
                offset += len(context) + 2
            notices.append(Notice(id=nid, title=str(policy["title"]), body="\n\n".join(parts)))
    except (KeyError, TypeError) as e:
        raise PolicyQAError(f"{path}: not a SQuAD-format file (missing {e})") from None
    return notices, [p for p in pairs.values() if p.gold], questions


def first_hit(texts: list[str], gold: list[str]) -> int | None:
    """1-based rank of the first passage holding a gold span, or None."""
    wanted = [normalise(g) for g in gold]
    for rank, text in enumerate(texts, 1):
        t = normalise(text)
        if any(g in t for g in wanted):
            return rank
    return None


class SystemScore(BaseModel):
    name: str
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mean_passage_chars: float
    passages: int
    pairs: int
    seconds: float
    index_seconds: float
    adapter_penalties: list[float | None] = []  # ours: the question adapter's penalty chosen for each fold
    ranker_cs: list[float | None] = []  # ours: the ranker's C chosen for each fold (None: the council's ranker)

    def fold_choices(self) -> str:
        """What was chosen for each fold of policies, in words ('' for a system without folds)."""
        if not self.adapter_penalties:
            return ""
        shown = lambda values: ", ".join("the council's" if v is None else f"{v:g}" for v in values)  # noqa: E731
        return f"question adapter penalty {shown(self.adapter_penalties)}; ranker C {shown(self.ranker_cs)}"


class PolicyQAResult(BaseModel):
    dataset: str
    policies: int
    questions: int
    pairs: int
    ours: SystemScore
    peer: SystemScore
    seconds: float

    def table(self) -> str:
        o, p = self.ours, self.peer
        rows = [
            *[(f"hit@{k}", f"{getattr(o, f'hit_at_{k}'):.3f}", f"{getattr(p, f'hit_at_{k}'):.3f}") for k in KS],
            ("mean passage chars", f"{o.mean_passage_chars:.0f}", f"{p.mean_passage_chars:.0f}"),
            ("pairs", str(o.pairs), str(p.pairs)),
            ("seconds", f"{o.seconds:.1f}", f"{p.seconds:.1f}"),
        ]
        return "\n".join(["| metric | ours | peer |", "| --- | --- | --- |", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])


def score(name: str, ranks: list[int | None], lengths: list[int], seconds: float, index_seconds: float) -> SystemScore:
    n = max(1, len(ranks))
    hits = {k: round(sum(r is not None and r <= k for r in ranks) / n, 4) for k in KS}
    return SystemScore(
        name=name, hit_at_1=hits[1], hit_at_3=hits[3], hit_at_5=hits[5],
        mean_passage_chars=round(sum(lengths) / max(1, len(lengths)), 1), passages=len(lengths),
        pairs=len(ranks), seconds=round(seconds, 2), index_seconds=round(index_seconds, 2),
    )  # fmt: skip


def write_knowledge(notices: list[Notice], folder: Path) -> None:
    """One .txt per policy; front matter keeps the id and the website as the title."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in notices:
        meta = yaml.safe_dump({"id": n.id, "title": n.title}, allow_unicode=True, sort_keys=False)
        (folder / f"{n.id}.txt").write_text(f"---\n{meta}---\n{n.body}", encoding="utf-8")


def index_policies(notices: list[Notice], work: Path, embedder):  # noqa: ANN001, ANN201
    """The policies ingested into ``work`` (only what changed since the last run), and a warm retriever."""
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from ingest.build import Indexer

    settings = Settings(knowledge_dir=work / "knowledge", index_dir=work / "index", data_dir=work / "data",
                        chroma_host=None)  # fmt: skip
    write_knowledge(notices, settings.knowledge_dir)
    Indexer(settings, embedder=embedder, progress=False).run()
    retriever = Assistant(settings, embedder=embedder).retriever
    retriever.warm_up()
    return settings, retriever


def examples(retriever, pairs: list[Pair], vecs: np.ndarray) -> list:  # noqa: ANN001
    """Each pair as an adapter tuning example: its question's vector, its policy's passages, which hold a gold span."""
    from eval.train_adapter import scope_example

    docs = [normalise(d) for d in retriever.docs]
    return [scope_example(qvec, retriever, retriever.by_notice[pair.notice_id], docs, [normalise(g) for g in pair.gold])
            for pair, qvec in zip(pairs, vecs)]  # fmt: skip


def policy_folds(pairs: list[Pair], folds: int = FOLDS) -> dict[str, int]:
    """Fold of each policy (sorted ids, round robin): a policy's questions are held out together."""
    policies = sorted({p.notice_id for p in pairs})
    return {pid: k % min(folds, len(policies)) for k, pid in enumerate(policies)}


def dense_hit(adapter, example) -> bool:  # noqa: ANN001
    """Whether a passage holding the answer is among the 3 closest to the adapted question."""
    return bool(example.positive[np.argsort(-(example.passages @ adapter.apply(example.qvec)))[:3]].any())


def choose_penalty(ex: list, pairs: list[Pair], fits: dict | None = None) -> tuple[float | None, dict[float, float]]:
    """The penalty of ``PENALTIES`` whose adapters best put an answer among held-out policies' 3 closest passages.

    Policy-grouped cross-validation over ``pairs`` alone (``INNER_FOLDS`` folds), so the
    choice never sees a policy it is then scored on. The adapted cosine stands for the
    whole ranking: one fit and a product per question, where the ranker would mean
    asking every held-out question again for each penalty. None when fewer than two
    policies leave nothing to hold out. ``fits``, when given, receives each penalty's
    adapters by inner fold (``fold_ranker`` reuses the chosen one's).
    """
    from assistant.adapter import QueryAdapter
    from eval.train_adapter import EPOCHS, PENALTIES

    fold_of = policy_folds(pairs, INNER_FOLDS)
    if len(set(fold_of.values())) < 2:
        return None, {}
    scores = {}
    for penalty in PENALTIES:
        adapters = {fold: QueryAdapter.fit([e for e, p in zip(ex, pairs) if fold_of[p.notice_id] != fold], penalty, EPOCHS)
                    for fold in sorted(set(fold_of.values()))}  # fmt: skip
        hits = sum(dense_hit(adapters[fold_of[p.notice_id]], e) for e, p in zip(ex, pairs))
        scores[penalty] = hits / len(pairs)
        if fits is not None:
            fits[penalty] = adapters
    return max(scores, key=lambda k: (scores[k], k)), scores


def fold_ranker(retriever, pairs: list[Pair], vecs, adapters: dict):  # noqa: ANN001, ANN201
    """A ranker fitted on ``pairs``' candidates, each question's signals from ``adapters``' one for its inner fold.

    As ``python -m eval train-ranker`` does for the council: those adapters were fitted
    without the question's policy (``choose_penalty``), so the ranker does not trust the
    adapted cosine more than an unseen policy justifies; its regularisation is chosen by
    cross-validation grouped by policy.
    """
    from assistant.rank import Ranker
    from eval.train_ranker import C_GRID, Question, cross_validate, stack

    fold_of = policy_folds(pairs, INNER_FOLDS)
    keep = retriever.adapter
    questions = []
    for pair, qvec in zip(pairs, vecs):
        retriever.adapter = adapters[fold_of[pair.notice_id]]
        cands, x = retriever.candidates(pair.question, qvec, pair.notice_id)
        gold = [normalise(g) for g in pair.gold]
        hits = np.asarray([[any(g in normalise(c.text) for g in gold)] for c in cands], dtype=bool).reshape(len(cands), 1)
        questions.append(Question(x, hits, "policyqa", pair.notice_id))
    retriever.adapter = keep
    c = max(C_GRID, key=lambda c: (cross_validate(questions, c)["policyqa"][1], -c))
    return Ranker.fit(*stack(questions), c=c), c


def run_ours(notices: list[Notice], pairs: list[Pair], work: Path, embedder, progress: bool):  # noqa: ANN001, ANN201
    """Ours, with a question adapter and a ranker fitted on this file's questions, never the asked policy's.

    The adapter and the ranker are fitted per deployment, on its own tuning questions (the
    council's are fitted on its gold questions and are not used here, unless the file
    holds a single policy: nothing else to fit on). Each fold of policies is asked with
    an adapter and a ranker fitted on the other folds' questions only, the adapter's
    penalty chosen by cross-validation within those questions (``choose_penalty``; the
    council adapter's penalty when they come from a single policy) and the ranker
    fitted as ``fold_ranker`` says, so no policy is scored by a model, or a choice, that
    saw its questions.
    """
    from assistant.adapter import QueryAdapter, default_adapter
    from assistant.store import NoticeStore
    from eval.train_adapter import EPOCHS

    t0 = time.perf_counter()
    settings, retriever = index_policies(notices, work, embedder)
    index_seconds = time.perf_counter() - t0
    lengths = [len(d) for d in NoticeStore(settings).collections()[0].get(include=["documents"])["documents"]]
    shipped, shipped_ranker = default_adapter(), retriever.ranker
    fold_of = policy_folds(pairs)
    vecs = embedder.embed([p.question for p in pairs])
    ex = examples(retriever, pairs, vecs)
    ranks: list[int | None] = [None] * len(pairs)
    tops: list[list[list[int]]] = [[] for _ in pairs]
    penalties: list[float | None] = []
    ranker_cs: list[float | None] = []
    bar = tqdm(total=len(pairs), desc="ours", unit="q", disable=not progress)
    for fold in sorted(set(fold_of.values())):
        train = [k for k, p in enumerate(pairs) if fold_of[p.notice_id] != fold]
        fits: dict[float, dict] = {}
        chosen, _ = choose_penalty([ex[k] for k in train], [pairs[k] for k in train], fits)
        # Too few policies to choose, or to fit a ranker on: the council's penalty and ranker.
        penalty = shipped.penalty if chosen is None else chosen
        ranker, c = None, None
        if chosen is not None:
            ranker, c = fold_ranker(retriever, [pairs[k] for k in train], vecs[train], fits[chosen])
        penalties.append(penalty if train else None)
        ranker_cs.append(c)
        fitted = train and penalty is not None
        retriever.adapter = QueryAdapter.fit([ex[k] for k in train], penalty, EPOCHS) if fitted else shipped
        retriever.ranker = ranker or shipped_ranker
        for i, pair in enumerate(pairs):
            if fold_of[pair.notice_id] != fold:
                continue
            cands = retriever.run(pair.question, vecs[i], notice=pair.notice_id, top_k=max(KS))
            ranks[i] = first_hit([c.text for c in cands], pair.gold)
            tops[i] = [[c.start, c.end] for c in cands]
            bar.update()
    bar.close()
    retriever.ranker = shipped_ranker
    result = score("ours (hybrid retriever)", ranks, lengths, time.perf_counter() - t0, index_seconds)
    return result.model_copy(update={"adapter_penalties": penalties, "ranker_cs": ranker_cs}), ranks, tops


def run_peer(notices: list[Notice], pairs: list[Pair], work: Path, embedder, progress: bool):  # noqa: ANN001, ANN201
    from eval.baseline import Baseline

    t0 = time.perf_counter()
    peer = Baseline(notices, work / "peer", embedder=embedder, k=max(KS))
    index_seconds = time.perf_counter() - t0
    ranks, tops = [], []
    for pair in tqdm(pairs, desc="peer", unit="q", disable=not progress):
        hits = peer.search(pair.question, notice=pair.notice_id)
        ranks.append(first_hit([doc.page_content for doc, _ in hits], pair.gold))
        tops.append([[int(d.metadata.get("start_index", -1)), int(d.metadata.get("start_index", -1)) + len(d.page_content)]
                     for d, _ in hits])  # fmt: skip
    lengths = [len(d.page_content) for d in peer.chunks]
    return score("peer (LangChain 500/50, k=5)", ranks, lengths, time.perf_counter() - t0, index_seconds), ranks, tops


def plot_hits(result: PolicyQAResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen here
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(KS))
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, s) in enumerate((("ours", result.ours), ("peer", result.peer))):
        vals = [getattr(s, f"hit_at_{k}") for k in KS]
        bars = ax.bar(x + (i - 0.5) * 0.38, vals, 0.38, label=f"{label}: {s.mean_passage_chars:.0f} chars/passage")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(x, [f"hit@{k}" for k in KS])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"share of {result.pairs} (policy, question) pairs")
    ax.set_title(f"PolicyQA retrieval: {Path(result.dataset).name}, {result.policies} policies")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: PolicyQAResult, rows: list[dict[str, Any]], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    plot_hits(result, out / "policyqa_hits.png")
    with open(out / "policyqa_pairs.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    doc = [
        f"# PolicyQA retrieval: {Path(result.dataset).name}",
        "",
        f"{result.policies} policies, {result.questions} questions, **{result.pairs} (policy, question) pairs**; "
        f"total wall time {result.seconds:.1f} s.",
        "",
        result.table(),
        "",
        f"Of the seconds, building the index took {result.ours.index_seconds:.1f} s (ours) and "
        f"{result.peer.index_seconds:.1f} s (peer).",
        "",
        f"Chosen for each fold of policies (ours): {result.ours.fold_choices()}.",
        "",
        "![hit@k of both systems](policyqa_hits.png)",
        "",
        "## Definitions",
        "",
        DEFINITIONS,
        "",
        "Per-pair ranks and passage offsets (into the notice body) are in `policyqa_pairs.jsonl`.",
        "",
    ]
    path = out / "policyqa.md"
    path.write_text("\n".join(doc), encoding="utf-8")
    return path


def run_policyqa(path: Path, report: Path | None = None, limit: int | None = None, progress: bool = True,
                 workdir: Path | None = None) -> PolicyQAResult:  # fmt: skip
    """Score both systems on ``path``; indexes go to ``workdir`` (default: a temp folder, removed after)."""
    from assistant.embedder import shared_embedder

    t0 = time.perf_counter()
    notices, pairs, questions = load_policyqa(Path(path), limit)
    if not pairs:
        raise PolicyQAError(f"{path}: no questions with answers" + (f" in the first {limit} policies" if limit else ""))
    embedder = shared_embedder()
    embedder.warm_up()  # loaded once, before either system's clock starts
    with tempfile.TemporaryDirectory(prefix="policyqa-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        ours, our_ranks, our_tops = run_ours(notices, pairs, work / "ours", embedder, progress)
        peer, peer_ranks, peer_tops = run_peer(notices, pairs, work / "peer", embedder, progress)
    result = PolicyQAResult(dataset=str(path), policies=len(notices), questions=questions, pairs=len(pairs),
                            ours=ours, peer=peer, seconds=0.0)  # fmt: skip
    if report is not None:
        rows = [
            {"notice_id": p.notice_id, "question": p.question, "gold": p.gold, "gold_spans": p.spans,
             "ours": {"rank": r1, "spans": t1}, "peer": {"rank": r2, "spans": t2}}
            for p, r1, t1, r2, t2 in zip(pairs, our_ranks, our_tops, peer_ranks, peer_tops)
        ]  # fmt: skip
        result.seconds = round(time.perf_counter() - t0, 2)
        write_report(result, rows, Path(report))
    result.seconds = round(time.perf_counter() - t0, 2)
    return result
