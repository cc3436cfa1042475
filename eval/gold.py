"""The gold set: one question a line (JSONL), as in shared/DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.dpo_form import RequestType

Expect = Literal["answer", "answer+offer", "handoff", "unanswerable", "out_of_scope", "safeguarding"]
ANSWERABLE = ("answer", "answer+offer")


class GoldError(ValueError):
    """A gold file that cannot be read; says which line and why."""


class GoldItem(BaseModel):
    model_config = ConfigDict(extra="ignore")  # unknown fields in a gold line are ignored

    id: str
    question: str
    expect: Expect
    evidence: list[str] = []
    notice: str | None = None
    split: str | None = None
    # For a question that should offer the DPO form: the request types it fits, the most fitting
    # first (the form opens with the assistant's choice; any of these is right).
    request_types: list[RequestType] = []
    # For the last message of a conversation: the resident's earlier messages, oldest first
    # (the assistant's replies in between are not kept; the assistant only reads the resident's).
    history: list[str] = []


def load_gold(path: Path, split: str | None = None) -> list[GoldItem]:
    items: list[GoldItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise GoldError(f"{path}: cannot be read ({e.strerror or e})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(GoldItem.model_validate(json.loads(line)))
        except json.JSONDecodeError as e:
            raise GoldError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        except ValidationError as e:
            err = e.errors()[0]
            raise GoldError(f"{path}:{n}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    if split:
        items = [i for i in items if i.split == split]
    if not items:
        raise GoldError(f"{path}: no questions" + (f" in split '{split}'" if split else ""))
    return items
