"""python -m assistant ask "QUESTION": one answer, as text or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = """examples:
  python -m assistant ask "Who do you share my data with?"
  python -m assistant ask "How long do you keep it?" --json
  python -m assistant ask "Do you share with the police?" --notice wigan-children-and-families
  ASSISTANT_INDEX_DIR=/tmp/index python -m assistant ask "What data do you collect?"
  python -m assistant requests list --status received
  python -m assistant requests export --out requests.csv
  python -m assistant requests update DPO-2026-000001 --status in_progress --staff "A. Officer"
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="Ask the privacy-notice assistant a question.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question", epilog=EXAMPLES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ask.add_argument("question")
    ask.add_argument("--index", type=Path, help="index folder (env ASSISTANT_INDEX_DIR)")
    ask.add_argument("--notice", help="answer from this notice only (its id)")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    from assistant.requests_cli import add_requests_parser, run_requests

    add_requests_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "requests":
        return run_requests(args)

    from assistant.pipeline import Assistant

    overrides = {"index_dir": args.index} if args.index else {}
    answer = Assistant(**overrides).ask(args.question, notice=args.notice)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        print(answer.text)
        for c in answer.citations:
            print(f"\n[{c.n}] {c.notice_title} — {c.section} (characters {c.start}-{c.end})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
