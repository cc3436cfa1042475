"""python -m eval: score the assistant (and the peer) on a gold set or on PolicyQA."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

EXAMPLES = """examples:
  python -m eval run --gold eval/gold/wigan.jsonl --split test
  python -m eval run --gold eval/gold/wigan.jsonl --baseline --out results.jsonl --report reports/wigan
  python -m eval score --gold eval/gold/wigan.jsonl results.jsonl     # score any system's results file
  python -m eval policyqa ../shared/benchmarks/policyqa/dev.json --report reports/policyqa
  python -m eval bench --json                                        # latency, cold start, HTTP, scale
  python -m eval agreement                                           # the gold labels against a blind second reader
  python -m eval train-ranker                                        # refit assistant/data/ranker.json and adapter.npz
  python -m eval train-router                                        # refit assistant/data/router.json
  python -m eval train-answerability                                 # refit assistant/data/answerability.json
  python -m eval train-request-types                                 # refit assistant/data/request_type.json
"""

DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "wigan.jsonl"
# Files the answerability check is fitted on besides the router's (``train-answerability``).
ANSWERABILITY_GOLD = ("general-train", "twins-train", "fresh", "fresh2", "routing3", "children", "requests3", "asking",
                      "why")  # fmt: skip
# Files the request types the form opens with are fitted on besides the router's (``train-request-types``):
# every labelled file the router or one of its checks is fitted on.
REQUEST_TYPE_GOLD = (*ANSWERABILITY_GOLD, "children-train", "requests", "requests2")


def print_summary(systems: dict[str, dict]) -> None:
    from eval.report import category_table, summary_table

    print(summary_table(systems))
    print()
    print(category_table(systems))


def cmd_run(args: argparse.Namespace) -> int:
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from eval.gold import load_gold
    from eval.metrics import score
    from eval.runner import assistant_asker, run, write_jsonl
    from ingest.parse import load_notices

    gold = load_gold(args.gold, args.split)
    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    if args.knowledge:
        settings = settings.replace(knowledge_dir=args.knowledge)
    bot = Assistant(settings)
    bot.warm_up()
    bodies = {nid: n.body for nid, n in bot.notices.items()}
    rows = run(gold, assistant_asker(bot), "assistant", progress=not args.quiet)
    systems = {"ours": score(rows, gold, bodies)}
    runs = {"ours": rows}
    if args.out:
        write_jsonl(rows, args.out)
    if args.baseline:
        from eval.baseline import Baseline

        with tempfile.TemporaryDirectory() as tmp:
            peer = Baseline(load_notices(settings.knowledge_dir), Path(tmp), embedder=bot.embedder)
            prow = run(gold, lambda q, n, earlier: peer.ask(" ".join([*earlier, q]), n), "peer", progress=not args.quiet)
        systems["peer"] = score(prow, gold, bodies)
        runs["peer"] = prow
        if args.out:
            write_jsonl(prow, args.out.with_name(args.out.stem + ".peer.jsonl"))
    print_summary(systems)
    from eval.agreement import reader_agreement, report_section, system_agreed

    reader = reader_agreement(args.gold, gold)
    if reader is not None:
        right, _ = system_agreed(reader, rows)
        print(f"\nA blind second reader chose the gold behaviour for {reader.agreed} of the {reader.questions}"
              f" questions it labelled ({reader.share:.3f}); ours for {right} ({right / reader.questions:.3f}).")
    if args.report:
        from eval.report import write_report

        title = f"{args.gold.name}" + (f" ({args.split})" if args.split else "")
        extra = report_section(reader, runs) if reader is not None else None
        path = write_report(args.report, title, systems, runs, extra)
        print(f"\nreport: {path}")
    if args.json:
        print(json.dumps(systems))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from assistant.settings import Settings
    from eval.gold import load_gold
    from eval.metrics import score
    from eval.runner import read_jsonl
    from ingest.parse import load_notices

    gold = load_gold(args.gold, args.split)
    bodies = {n.id: n.body for n in load_notices(args.knowledge or Settings().knowledge_dir)}
    print_summary({args.results.name: score(read_jsonl(args.results), gold, bodies)})
    return 0


def cmd_policyqa(args: argparse.Namespace) -> int:
    from eval.policyqa import run_policyqa

    result = run_policyqa(args.path, report=args.report, limit=args.limit, progress=not args.quiet)
    print(result.table())
    if result.ours.fold_choices():
        print(f"ours, per fold: {result.ours.fold_choices()}")
    if args.json:
        print(json.dumps(result.model_dump()))
    return 0


def cmd_train_ranker(args: argparse.Namespace) -> int:
    from assistant.adapter import WEIGHTS as ADAPTER_WEIGHTS
    from eval.train_ranker import train

    items = [i for _, group in gold_specs(args.gold) for i in group]
    adapter_out = args.out.with_name(ADAPTER_WEIGHTS.name)
    train(tuning_assistant(args), items, args.out, adapter_out, progress=not args.quiet)
    return 0


def tuning_assistant(args: argparse.Namespace):  # noqa: ANN201
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    bot = Assistant(Settings(**({"index_dir": args.index} if args.index else {})))
    bot.router.needs_models = False  # it computes features; the shipped weights may be for other ones
    return bot


def add_more_trainer(sub: argparse._SubParsersAction, name: str, what: str, kind: str,
                     fn: Callable[[argparse.Namespace], int], router_gold: list[str], more_names: tuple[str, ...],
                     out: Path) -> None:  # fmt: skip
    """A ``train-...`` command fitted on the router's questions and ``more_names``' files, each of those
    also scored by ``kind`` fitted without it."""
    more = [str(DEFAULT_GOLD.with_name(f"wigan-{k}.jsonl")) for k in more_names]
    p = sub.add_parser(name, help=f"fit {what} on labelled questions (never the test split)")
    p.add_argument("--gold", action="append", default=None, metavar="FILE[:SPLIT]",
                   help="the router's questions (default: the router's files)")  # fmt: skip
    p.add_argument("--more-gold", action="append", default=None, metavar="FILE[:SPLIT]",
                   help=f"more questions, each also scored with {kind} fitted without it (default: "
                   + ", ".join(Path(m).name for m in more) + ")")  # fmt: skip
    p.add_argument("--index", type=Path)
    p.add_argument("--out", type=Path, default=out, help=f"default: {out.relative_to(out.parents[2])}")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=fn, default_gold=router_gold, default_more_gold=more)


def gold_specs(specs: list[str]) -> list[tuple[str, list]]:
    """FILE[:SPLIT] arguments as (label, questions); the test split is refused."""
    from eval.gold import GoldError, load_gold

    out = []
    for spec in specs:
        path, _, split = str(spec).partition(":")
        if split == "test":
            raise GoldError("the test split is for reporting only, never for fitting")
        out.append((Path(path).name + (f":{split}" if split else ""), load_gold(Path(path), split or None)))
    return out


def cmd_train_router(args: argparse.Namespace) -> int:
    from eval.train_router import train

    train(tuning_assistant(args), gold_specs(args.gold), args.out, progress=not args.quiet,
          check_sources=gold_specs(args.check_gold), request_sources=gold_specs(args.request_gold))  # fmt: skip
    return 0


def cmd_train_request_types(args: argparse.Namespace) -> int:
    from eval.train_router import train_request_types

    more = gold_specs(args.more_gold)
    groups = gold_specs(args.gold) + more
    items, source = [i for _, g in groups for i in g], [name for name, g in groups for _ in g]
    train_request_types(tuning_assistant(args), items, source, args.out, [name for name, _ in more])
    return 0


def cmd_train_answerability(args: argparse.Namespace) -> int:
    from eval.train_router import train_answerability

    train_answerability(tuning_assistant(args), gold_specs(args.gold), gold_specs(args.more_gold), args.out,
                        progress=not args.quiet)  # fmt: skip
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from eval.agreement import agreements, details, table, to_json

    results = agreements(args.gold_dir, args.labels)
    print(table(results))
    if args.verbose:
        print(details(results))
    if args.json:
        print(to_json(results))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eval.bench import cli

    return cli(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="ask every gold question and score the answers", epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    r.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (default: eval/gold/wigan.jsonl)")
    r.add_argument("--split", help="only this split (dev or test)")
    r.add_argument("--index", type=Path, help="index folder (env ASSISTANT_INDEX_DIR)")
    r.add_argument("--knowledge", type=Path, help="notice folder (env ASSISTANT_KNOWLEDGE_DIR)")
    r.add_argument("--out", type=Path, help="write per-question results JSONL here")
    r.add_argument("--report", type=Path, help="write report.md and PNG plots into this folder")
    r.add_argument("--baseline", action="store_true", help="also run the LangChain peer, side by side")
    r.add_argument("--json", action="store_true", help="also print the metrics as one JSON line")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(fn=cmd_run)

    s = sub.add_parser("score", help="score a results JSONL written by any system")
    s.add_argument("results", type=Path)
    s.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    s.add_argument("--split")
    s.add_argument("--knowledge", type=Path)
    s.set_defaults(fn=cmd_score)

    p = sub.add_parser("policyqa", help="retrieval hit@k on a SQuAD-format privacy-policy QA file")
    p.add_argument("path", type=Path)
    p.add_argument("--report", type=Path)
    p.add_argument("--limit", type=int, help="only the first N policies")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_policyqa)

    from eval.agreement import SECOND_READER

    a = sub.add_parser("agreement", help="how far a blind second reader agrees with the gold behaviours")
    a.add_argument("--labels", type=Path, default=SECOND_READER, help="second reader's labels (default: %(default)s)")
    a.add_argument("--gold-dir", type=Path, default=DEFAULT_GOLD.parent, help="folder of the gold files they name")
    a.add_argument("-v", "--verbose", action="store_true", help="per behaviour, and every disagreement")
    a.add_argument("--json", action="store_true")
    a.set_defaults(fn=cmd_agreement)

    b = sub.add_parser("bench", help="speed, memory, HTTP load and the scale table (prints figures, --json too)")
    from eval.bench import add_arguments

    add_arguments(b)
    b.set_defaults(fn=cmd_bench)

    from assistant.rank import WEIGHTS as RANKER_WEIGHTS
    from assistant.request_type import WEIGHTS as REQUEST_TYPE_WEIGHTS
    from assistant.route_model import ANSWERABILITY_WEIGHTS
    from assistant.route_model import WEIGHTS as ROUTER_WEIGHTS

    tuning = [f"{DEFAULT_GOLD}:dev", str(DEFAULT_GOLD.with_name("wigan-tune.jsonl"))]
    # The ranker and the adapter learn from every question with evidence that is not held out:
    # those the router and its checks are fitted on too.
    fitted = [str(DEFAULT_GOLD.with_name(f"wigan-{k}.jsonl")) for k in ("routing", "children-train", "requests", "requests2")]
    router_gold = [*tuning, str(DEFAULT_GOLD.with_name("wigan-routing.jsonl"))]
    for name, what, fn, gold, out in (
        ("train-ranker", "the ranking weights", cmd_train_ranker, [*tuning, *fitted], RANKER_WEIGHTS),
        ("train-router", "the router", cmd_train_router, router_gold, ROUTER_WEIGHTS),
    ):  # fmt: skip
        t = sub.add_parser(name, help=f"fit {what} on labelled tuning questions (never the test split)")
        t.add_argument("--gold", action="append", default=None, metavar="FILE[:SPLIT]",
                       help="labelled questions (default: " + ", ".join(Path(g).name for g in gold) + ")")  # fmt: skip
        t.add_argument("--index", type=Path)
        t.add_argument("--out", type=Path, default=out, help=f"default: {out.relative_to(out.parents[2])}")
        t.add_argument("--quiet", action="store_true")
        t.set_defaults(fn=fn, default_gold=gold)
        if name == "train-router":
            children = DEFAULT_GOLD.with_name("wigan-children-train.jsonl")
            t.add_argument("--check-gold", action="append", default=None, metavar="FILE[:SPLIT]",
                           help=f"more questions for the signposting check only (default: {children.name})")
            requests = [DEFAULT_GOLD.with_name(f"wigan-requests{k}.jsonl") for k in ("", "2")]
            t.add_argument("--request-gold", action="append", default=None, metavar="FILE[:SPLIT]",
                           help="more questions for the request check only (default: "
                           + ", ".join(p.name for p in requests) + ")")  # fmt: skip
            t.set_defaults(default_check_gold=[str(children)], default_request_gold=[str(p) for p in requests])

    # The answerability check learns from the router's questions and from these, in residents' words;
    # wigan-routing2, wigan-fresh3 to wigan-fresh8, wigan-twins to wigan-twins4, wigan-retention, wigan-others
    # and the chats stay held out.
    add_more_trainer(sub, "train-answerability", "the answerability check", "a check", cmd_train_answerability,
                     router_gold, ANSWERABILITY_GOLD, ANSWERABILITY_WEIGHTS)  # fmt: skip
    # The request types: the router's questions and every other file fitted on, in residents' words.
    add_more_trainer(sub, "train-request-types", "the request types the DPO form opens with", "a model",
                     cmd_train_request_types, router_gold, REQUEST_TYPE_GOLD, REQUEST_TYPE_WEIGHTS)  # fmt: skip

    args = parser.parse_args(argv)
    if hasattr(args, "default_more_gold"):
        args.more_gold = args.more_gold or args.default_more_gold
    if hasattr(args, "default_gold"):
        args.gold = args.gold or args.default_gold
    if hasattr(args, "default_check_gold"):
        args.check_gold = args.check_gold or args.default_check_gold
        args.request_gold = args.request_gold or args.default_request_gold
    from eval.gold import GoldError

    try:
        return args.fn(args)
    except GoldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
