"""A Markdown report with PNG plots that a DPO can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen here
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eval import metrics as metrics_module  # noqa: E402

CATEGORIES = ["answer", "answer+offer", "handoff", "unanswerable", "out_of_scope", "safeguarding"]
ROWS = [
    ("recall@1", "Evidence recall@1"), ("recall@3", "Evidence recall@3"), ("recall@5", "Evidence recall@5"),
    ("cited_recall", "Cited evidence recall"), ("citation_precision", "Citation precision"),
    ("groundedness", "Groundedness"), ("behaviour_accuracy", "Behaviour accuracy"),
    ("wrong_refusal_rate", "Wrong-refusal rate"), ("request_type_accuracy", "Request type the form opens with"),
    ("form_offered", "Requests to act given the form"),
    ("latency_p50_ms", "Latency p50 (ms)"),
    ("latency_p95_ms", "Latency p95 (ms)"),
]  # fmt: skip


def fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else f"{v}"


def with_interval(v: Any, ci: list[float] | None) -> str:
    """0.893 (0.84-0.94): the figure and its 95% bootstrap interval, when it has one."""
    return fmt(v) if not ci or v is None else f"{fmt(v)} ({ci[0]:.2f}–{ci[1]:.2f})"


def summary_table(systems: dict[str, dict[str, Any]]) -> str:
    names = list(systems)
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for key, label in ROWS:
        cells = [with_interval(systems[n].get(key), systems[n].get("ci95", {}).get(key)) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("In brackets: the 95% interval from resampling the questions (see What the numbers mean).")
    return "\n".join(lines)


def category_table(systems: dict[str, dict[str, Any]]) -> str:
    names = list(systems)
    lines = ["| expected behaviour | questions | " + " | ".join(names) + " |", "| --- | --- |" + " --- |" * len(names)]
    first = systems[names[0]]
    for cat in CATEGORIES:
        if cat in first["behaviour"]:
            vals = " | ".join(with_interval(systems[n]["behaviour"].get(cat), systems[n].get("behaviour_ci95", {}).get(cat))
                              for n in names)  # fmt: skip
            lines.append(f"| {cat} | {first['behaviour_n'][cat]} | {vals} |")
    return "\n".join(lines)


def plot_categories(systems: dict[str, dict[str, Any]], path: Path) -> None:
    cats = [c for c in CATEGORIES if c in next(iter(systems.values()))["behaviour"]]
    x = np.arange(len(cats))
    width = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, (name, m) in enumerate(systems.items()):
        ax.bar(x + i * width, [m["behaviour"].get(c) or 0 for c in cats], width, label=name)
    ax.set_xticks(x + width * (len(systems) - 1) / 2, cats, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share behaving as expected")
    ax.set_title("Behaviour accuracy per expected behaviour")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    cats = [c for c in CATEGORIES if any(r["expect"] == c for r in rows)]
    did = list(CATEGORIES)  # an answer that offers the form counts as answer+offer, as in the metric
    m = np.zeros((len(cats), len(did)), dtype=int)
    for r in rows:
        actual = metrics_module.behaviour_of(r)
        if r["expect"] in cats and actual in did:
            m[cats.index(r["expect"]), did.index(actual)] += 1
    fig, ax = plt.subplots(figsize=(8.5, 5))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(did)), did, rotation=20)
    ax.set_yticks(range(len(cats)), cats)
    ax.set_xlabel("what the assistant did")
    ax.set_ylabel("what was expected")
    for i in range(len(cats)):
        for j in range(len(did)):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(runs: dict[str, list[dict[str, Any]]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, rows in runs.items():
        ax.hist([r["latency_ms"] for r in rows], bins=30, alpha=0.6, label=name)
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, gold_name: str, systems: dict[str, dict[str, Any]],
                 runs: dict[str, list[dict[str, Any]]], extra: list[str] | None = None) -> Path:  # fmt: skip
    """report.md and its plots in ``out``; ``extra`` lines go after the behaviour tables."""
    out.mkdir(parents=True, exist_ok=True)
    plot_categories(systems, out / "behaviour_by_category.png")
    first = next(iter(runs))
    plot_confusion(runs[first], out / "confusion.png", f"Expected vs actual behaviour ({first})")
    plot_latency(runs, out / "latency.png")
    doc = [
        f"# Evaluation report: {gold_name}",
        "",
        f"{next(iter(systems.values()))['questions']} questions.",
        "",
        "## Summary",
        "",
        summary_table(systems),
        "",
        "## Behaviour per expected category",
        "",
        category_table(systems),
        "",
        "![Behaviour accuracy per category](behaviour_by_category.png)",
        "",
        "![Confusion matrix](confusion.png)",
        "",
        "![Latency histogram](latency.png)",
        "",
        *([*extra, ""] if extra else []),
        "## What the numbers mean",
        "",
        (metrics_module.__doc__ or "").strip(),
        "",
        "## Questions not handled as expected",
        "",
    ]
    for r in runs[first]:
        ok = metrics_module.behaviour_ok(r["expect"], r)
        if not ok:
            doc.append(f"- `{r['id']}` expected **{r['expect']}**, got **{r['route']}**: {r['question']}")
    path = out / "report.md"
    path.write_text("\n".join(doc) + "\n", encoding="utf-8")
    return path
