"""python -m ingest: build or update the notice index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = """examples:
  python -m ingest                               # knowledge/ into data/index
  python -m ingest --knowledge my-notices --index /tmp/index
  ASSISTANT_CHROMA_HOST=127.0.0.1 python -m ingest   # into a `chroma run` server
  python -m ingest --check                       # exit 1 if the index is missing or stale
"""


def main(argv: list[str] | None = None) -> int:
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Read the notice files, split them into passages and update the index incrementally.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--knowledge", type=Path, help="folder of notices (env ASSISTANT_KNOWLEDGE_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (env ASSISTANT_INDEX_DIR)")
    parser.add_argument("--check", action="store_true", help="only say whether the index is up to date")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    overrides = {}
    if args.knowledge:
        overrides["knowledge_dir"] = args.knowledge
    if args.index:
        overrides["index_dir"] = args.index
    settings = Settings(**overrides)

    from assistant.store import StoreUnavailable
    from ingest.build import Indexer
    from ingest.parse import NoticeError

    indexer = Indexer(settings, progress=not args.quiet)
    try:
        if args.check:
            ok = indexer.is_current()
            print("index is up to date" if ok else "index is missing or stale: run `python -m ingest`")
            return 0 if ok else 1
        report = indexer.run()
    except NoticeError as e:
        print(f"error: {e} (the index was not changed)", file=sys.stderr)
        return 2
    except StoreUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    print(report.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
