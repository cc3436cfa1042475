"""python -m eval bench: how fast, how heavy, and how it scales. A benchmark, not a test.

Measures, in one run on this machine: ask latency against the LangChain peer (same model,
same notices, questions interleaved so both see the same machine load), cold start of a
fresh process, ingest throughput, the served app's answers per second and peak memory
under concurrent HTTP clients, and ask latency, recall and index size on synthetic
corpora of 1,000 and 10,000 passages (100,000 with --large). Figures depend on the
machine and on whatever else it is running: compare runs made side by side.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import PROJECT_ROOT
from eval.loopback import free_port

EXAMPLES = """examples:
  python -m eval bench --quick            # latency vs the peer, cold start (x3), ingest only
  python -m eval bench --json             # everything but the 100,000-passage corpus
  python -m eval bench --large --clients 16 --seconds 60
"""
DEFAULT_GOLD = PROJECT_ROOT / "eval" / "gold" / "wigan.jsonl"
COLD_RUNS = 3
COLD = """import sys
from assistant.pipeline import Assistant
answer = Assistant().ask(sys.argv[1])
print("ANSWERED", answer.route, flush=True)
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 1) if xs else 0.0


def dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def child_env(index: Path, data: Path, knowledge: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return env | {"ASSISTANT_INDEX_DIR": str(index), "ASSISTANT_DATA_DIR": str(data),
                  "ASSISTANT_KNOWLEDGE_DIR": str(knowledge), "PYTHONUNBUFFERED": "1"} | extra  # fmt: skip


def release_chroma() -> None:
    """Drop cached embedded Chroma systems so a deleted index's files are really let go."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    gc.collect()


def latency_vs_peer(ours, peer, gold) -> dict[str, Any]:  # noqa: ANN001
    """Ours, peer, ours, peer...: both systems see the same moments of machine load."""
    ours.ask("What is this notice about?")
    peer.ask("What is this notice about?")
    getattr(ours.embedder, "_cache", {}).clear()  # no question starts pre-embedded
    mine, theirs = [], []
    for item in gold:
        t0 = time.perf_counter()
        ours.ask(item.question, notice=item.notice)
        mine.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        peer.ask(item.question, item.notice)
        theirs.append((time.perf_counter() - t0) * 1000)
    return {"questions": len(gold), "ask_p50_ms": pct(mine, 50), "ask_p95_ms": pct(mine, 95),
            "baseline_p50_ms": pct(theirs, 50), "baseline_p95_ms": pct(theirs, 95),
            "ratio_p50": round(pct(mine, 50) / max(pct(theirs, 50), 1e-9), 2)}  # fmt: skip


def cold_start(env: dict[str, str], timeout: float = 600) -> float:
    """Spawn to first answer: imports, model load, index open, one question."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", COLD, "Who do you share my data with?"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("ANSWERED"):
                return round(time.perf_counter() - t0, 2)
        raise RuntimeError(f"cold-start process exited with {proc.wait()} before answering")
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def http_client(url: str, questions: list[str], first: int, start_at: float, seconds: float) -> tuple[list[float], int, float]:
    """One load client in its own process: (latencies in ms, errors, its CPU seconds).

    A process each, not a thread each: eight gradio_client loops in one interpreter share one
    GIL, and the load generator, not the server, then sets the rate.
    """
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    lat: list[float] = []
    errors, n = 0, 0
    max_calls = int(seconds * 200) + 10  # bounded even if every call failed instantly
    time.sleep(max(0.0, start_at - time.time()))
    cpu0, stop_at = time.process_time(), start_at + seconds
    while time.time() < stop_at and n < max_calls:
        q = questions[(first + n) % len(questions)]
        n += 1
        t0 = time.perf_counter()
        try:
            res = client.submit(q, "", api_name="/ask").result(timeout=120)
            if not (isinstance(res, dict) and res.get("route")):
                raise ValueError(f"unexpected reply {str(res)[:80]}")
            lat.append((time.perf_counter() - t0) * 1000)
        except Exception:  # noqa: BLE001  (counted, not raised: this is load, not a test)
            errors += 1
            time.sleep(0.05)
    return lat, errors, time.process_time() - cpu0


def http_load(env: dict[str, str], questions: list[str], clients: int, seconds: float, logfile: Path) -> dict[str, Any]:
    """app.py in a subprocess on loopback, ``clients`` client processes asking /ask for ``seconds``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = env | {"ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(logfile, "wb") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}: {logfile.read_text()[-1500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("app.py did not serve within 300 s")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        first = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        first.submit(questions[0], "", api_name="/ask").result(timeout=600)  # the server loads its model here
        # Every client starts at the same moment, once all have connected.
        start_at = time.time() + 20
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=clients, mp_context=ctx) as pool:
            jobs = [pool.submit(http_client, url, questions, i * 7, start_at, seconds) for i in range(clients)]
            time.sleep(max(0.0, start_at - time.time()))
            server0 = proc_cpu_s(proc.pid)
            results = [j.result(timeout=seconds + 300) for j in jobs]
            server_cpu = proc_cpu_s(proc.pid) - server0
            elapsed = max(seconds, time.time() - start_at)  # the last answers finish after the bell
        every = [x for lat, _, _ in results for x in lat]
        client_cpu = sum(cpu for _, _, cpu in results)
        per_answer = lambda s: round(s * 1000 / max(1, len(every)), 1)  # noqa: E731
        return {"clients": clients, "seconds": round(elapsed, 1), "http_answers": len(every),
                "http_answers_per_s": round(len(every) / elapsed, 2), "http_p50_ms": pct(every, 50),
                "http_p95_ms": pct(every, 95), "http_errors": sum(e for _, e, _ in results),
                "peak_rss_mb": vm_hwm_mb(proc.pid),
                # Both ends share this machine's cores: the gradio_client load generator's CPU
                # per answer against the server's says which of them sets the rate.
                "http_client_cpu_ms_per_answer": per_answer(client_cpu),
                "http_server_cpu_ms_per_answer": per_answer(server_cpu)}  # fmt: skip
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def strict_rows(rows: list[dict[str, Any]], real: set[str]) -> list[dict[str, Any]]:
    """A synthetic copy of a real sentence does not count as finding it: blank it, keep its rank."""
    return [r | {"retrieved": [p if p["notice_id"] in real else p | {"text": ""} for p in r["retrieved"]]} for r in rows]


def scale_row(target: int, tmp: Path, embedder, gold, knowledge: Path, seed: int) -> dict[str, Any]:  # noqa: ANN001
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from eval.metrics import score
    from eval.runner import result_row
    from eval.synth import make_corpus
    from ingest.build import Indexer
    from ingest.chunk import chunk_notice
    from ingest.parse import load_notices

    real = load_notices(knowledge)
    corpus, index = tmp / f"corpus-{target}", tmp / f"index-{target}"
    make_corpus(corpus, max(0, target - sum(len(chunk_notice(n)) for n in real)), seed=seed, knowledge=knowledge)
    for n in real:
        shutil.copy(n.path, corpus / Path(n.path).name)  # type: ignore[arg-type]
    settings = Settings(knowledge_dir=corpus, data_dir=tmp / "data", index_dir=index)
    log(f"scale {target:,}: ingesting")
    rep = Indexer(settings, embedder=embedder, progress=sys.stderr.isatty()).run()
    bot = Assistant(settings, embedder=embedder)
    t0 = time.perf_counter()
    bot.warm_up()
    warm = time.perf_counter() - t0
    bot.ask("What is this notice about?")
    log(f"scale {target:,}: asking {len(gold)} questions, twice")
    getattr(embedder, "_cache", {}).clear()  # the first pass pays for embedding each question
    lat, rows = [], []
    for item in gold:
        t0 = time.perf_counter()
        answer = bot.ask(item.question, notice=item.notice)
        lat.append((time.perf_counter() - t0) * 1000)
        rows.append(result_row(item, answer.model_dump(mode="json")))
    cached = []  # the second finds every question vector cached: what is left grows with the corpus
    for item in gold:
        t0 = time.perf_counter()
        bot.ask(item.question, notice=item.notice)
        cached.append((time.perf_counter() - t0) * 1000)
    bodies = {n.id: n.body for n in real}
    strict = score(strict_rows(rows, set(bodies)), gold, bodies)["recall@3"]
    # The gold questions asked within the real notices only: what the growth of the corpus
    # does to retrieval itself (idf, the sentence index's filtered search), copies aside.
    real_ids = [n.id for n in real]
    scoped = [result_row(item, bot.ask(item.question, notice=item.notice or real_ids).model_dump(mode="json"))
              for item in gold]  # fmt: skip
    in_scope = score(scoped, gold, bodies)["recall@3"]
    loose = score(rows, gold, {nid: n.body for nid, n in bot.notices.items()})["recall@3"]
    log(f"scale {target:,}: re-ingesting, nothing changed")
    again = Indexer(settings, embedder=embedder, progress=False).run()
    row = {"target": target, "notices": rep.notices, "passages": rep.passages, "embedded_texts": rep.embedded_texts,
           "ingest_s": round(rep.seconds, 1), "index_mb": dir_mb(index), "warm_up_s": round(warm, 2),
           "ask_p50_ms": pct(lat, 50), "ask_p95_ms": pct(lat, 95), "ask_cached_query_p50_ms": pct(cached, 50),
           "ask_cached_query_p95_ms": pct(cached, 95), "recall@3": strict, "recall@3_any_copy": loose,
           "recall@3_real_scope": in_scope,
           "reingest_unchanged_s": round(again.seconds, 2)}  # fmt: skip
    return row


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.embedder import shared_embedder
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from eval.baseline import Baseline
    from eval.gold import load_gold
    from eval.metrics import score
    from eval.runner import assistant_asker, run
    from ingest.build import Indexer
    from ingest.parse import load_notices

    gold = load_gold(args.gold)
    knowledge = args.knowledge.resolve()
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2), "gold_questions": len(gold)}
    embedder = shared_embedder()
    t0 = time.perf_counter()
    embedder.warm_up()
    out["model_load_s"] = round(time.perf_counter() - t0, 2)
    import torch

    out["torch_threads"] = torch.get_num_threads()

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmpdir:
        tmp = Path(tmpdir)
        index, data = tmp / "index", tmp / "data"
        settings = Settings(knowledge_dir=knowledge, data_dir=data, index_dir=index)
        log("ingesting knowledge/ into a fresh index")
        rep = Indexer(settings, embedder=embedder, progress=False).run()
        out |= {"passages": rep.passages, "ingest_s": round(rep.seconds, 2),
                "ingest_passages_per_s": round(rep.passages / rep.seconds, 1),
                "ingest_texts_per_s": round(rep.embedded_texts / rep.seconds, 1)}  # fmt: skip

        log("latency: ours and the peer, interleaved")
        ours = Assistant(settings, embedder=embedder)
        ours.warm_up()
        peer = Baseline(load_notices(knowledge), tmp / "peer", embedder=embedder)
        out |= latency_vs_peer(ours, peer, gold)
        rows = run(gold, assistant_asker(ours), progress=False)
        out["recall@3"] = score(rows, gold, {nid: n.body for nid, n in ours.notices.items()})["recall@3"]
        del peer
        env = child_env(index, data, knowledge)
        log(f"cold start: fresh process to first answer, {COLD_RUNS} times")
        starts = sorted(cold_start(env) for _ in range(COLD_RUNS))
        # One spawn is at the mercy of the page cache and the host: the median, and the worst.
        out["cold_start_s"], out["cold_start_max_s"] = starts[len(starts) // 2], starts[-1]

        if not args.quick:
            log(f"HTTP: {args.clients} clients for {args.seconds:.0f} s against app.py")
            questions = [g.question for g in gold]
            try:
                out |= http_load(env, questions, args.clients, args.seconds, tmp / "app.log")
            except Exception as e:  # noqa: BLE001  (report it, keep the other figures)
                out["http_failed"] = f"{type(e).__name__}: {e}"
                log(f"HTTP load failed: {out['http_failed']}")
            targets = [1_000, 10_000] + ([100_000] if args.large else [])
            out["scale"] = []
            for target in targets:
                try:
                    out["scale"].append(scale_row(target, tmp, embedder, gold, knowledge, args.seed))
                except Exception as e:  # noqa: BLE001  (a corpus too big for the code is a finding, not a crash)
                    out["scale"].append({"target": target, "failed": f"{type(e).__name__}: {e}"})
                    log(f"scale {target:,} failed: {type(e).__name__}: {e}")
                finally:
                    release_chroma()
                    for d in (tmp / f"corpus-{target}", tmp / f"index-{target}"):
                        shutil.rmtree(d, ignore_errors=True)
        del ours
        release_chroma()
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    return out


def table(r: dict[str, Any]) -> str:
    def line(label: str, *keys: str, unit: str = "") -> str:
        vals = " / ".join(str(r.get(k, "-")) for k in keys)
        return f"  {label:<38} {vals}{unit}"

    lines = [
        f"benchmark ({r['cpus']} CPUs, torch threads {r.get('torch_threads')}, load average "
        f"{r.get('load_avg_1m')} → {r.get('load_avg_1m_end')}; {r['gold_questions']} gold questions, {r['passages']} passages)",
        line("model load", "model_load_s", unit=" s"),
        line("ingest knowledge/: s / passages/s / texts/s", "ingest_s", "ingest_passages_per_s", "ingest_texts_per_s"),
        line("ask p50 / p95 (ours)", "ask_p50_ms", "ask_p95_ms", unit=" ms"),
        line("peer similarity search p50 / p95", "baseline_p50_ms", "baseline_p95_ms", unit=" ms"),
        line("ratio p50 (ours / peer)", "ratio_p50"),
        line("evidence recall@3", "recall@3"),
        line(f"cold start, median / worst of {COLD_RUNS}", "cold_start_s", "cold_start_max_s", unit=" s"),
    ]
    if "http_answers_per_s" in r:
        lines += [
            line(f"HTTP {r['clients']} clients: answers/s", "http_answers_per_s"),
            line("HTTP p50 / p95", "http_p50_ms", "http_p95_ms", unit=" ms"),
            line("HTTP errors / answers", "http_errors", "http_answers"),
            line("CPU per answer: clients / server", "http_client_cpu_ms_per_answer", "http_server_cpu_ms_per_answer",
                 unit=" ms"),
            line("served app peak RSS (VmHWM)", "peak_rss_mb", unit=" MB"),
        ]
    elif "http_failed" in r:
        lines.append(f"  HTTP load failed: {r['http_failed']}")
    if r.get("scale"):
        cols = {"passages": "passages", "ingest_s": "ingest s", "index_mb": "index MB", "warm_up_s": "warm-up s",
                "ask_p50_ms": "ask p50", "ask_p95_ms": "ask p95", "ask_cached_query_p50_ms": "cached-q p50",
                "recall@3": "recall@3", "recall@3_any_copy": "r@3 any copy", "recall@3_real_scope": "r@3 scoped",
                "reingest_unchanged_s": "re-ingest s"}  # fmt: skip
        lines += ["", "  scale (synthetic notices + the real ones; ask in ms; recall@3 counts only the real notices'",
                  "  passages, 'any copy' also a synthetic notice's verbatim copy of the evidence, 'scoped' asks",
                  f"  within the real notices only: compare with {r.get('recall@3')} on the real notices alone)",
                  "  " + " ".join(f"{c:>12}" for c in cols.values())]  # fmt: skip
        for row in r["scale"]:
            if "failed" in row:
                lines.append(f"  {row['target']:>12,} failed: {row['failed']}")
            else:
                lines.append("  " + " ".join(f"{row.get(c, '-')!s:>12}" for c in cols))
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval bench", description=__doc__.splitlines()[0], epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Shared with the `bench` subcommand of `python -m eval`."""
    p.add_argument("--quick", action="store_true", help="skip the HTTP load and the scale corpora")
    p.add_argument("--large", action="store_true", help="also the 100,000-passage corpus (slow: hours of embedding)")
    p.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    p.add_argument("--seconds", type=float, default=20.0, help="HTTP load duration (default 20)")
    p.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="questions to time (default eval/gold/wigan.jsonl)")
    p.add_argument("--knowledge", type=Path, default=PROJECT_ROOT / "knowledge", help="the real notices")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpora")
    p.add_argument("--json", action="store_true", help="also print every figure as one JSON object, on the last line")


def cli(args: argparse.Namespace) -> int:
    from eval.gold import GoldError
    from ingest.parse import NoticeError

    if args.clients < 1 or args.seconds <= 0:
        print("error: --clients must be at least 1 and --seconds above 0", file=sys.stderr)
        return 2
    try:
        result = run_bench(args)
    except (GoldError, NoticeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(table(result))
    if args.json:
        print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
