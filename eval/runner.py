"""Ask every gold question through a system and write the results JSONL of DESIGN.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.gold import GoldItem

Asker = Callable[[str, str | None, list[str]], dict[str, Any]]


def chat_history(earlier: list[str]) -> list[dict[str, str]]:
    """A gold line's earlier messages as the chat passes them: each with a reply after it."""
    return [turn for m in earlier for turn in ({"role": "user", "content": m}, {"role": "assistant", "content": "…"})]


def assistant_asker(assistant) -> Asker:  # noqa: ANN001
    def ask(question: str, notice: str | None, earlier: list[str]) -> dict[str, Any]:
        return assistant.ask(question, history=chat_history(earlier), notice=notice).model_dump(mode="json")

    return ask


def result_row(item: GoldItem, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.question,
        "expect": item.expect,
        "route": answer["route"],
        "offers_handoff": answer.get("offers_handoff", False),
        "request_type": answer.get("request_type"),
        "text": answer["text"],
        "citations": answer.get("citations", []),
        "retrieved": [
            {k: r.get(k) for k in ("notice_id", "text", "start", "end", "score")} for r in answer.get("retrieved", [])
        ],
        "latency_ms": answer.get("latency_ms", 0.0),
    }


def run(gold: list[GoldItem], ask: Asker, label: str = "asking", progress: bool = True) -> list[dict[str, Any]]:
    rows = []
    for item in tqdm(gold, desc=label, unit="q", disable=not progress):
        rows.append(result_row(item, ask(item.question, item.notice, item.history)))
    return rows


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
