"""Client-server mode: a real `chroma run` on loopback gives the same answers as the embedded index.

Also: the server going away gives residents a clear message, not a traceback; the
assistant answers again once the server is back; and `python -m ingest` against a dead
server exits non-zero with one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from eval.loopback import free_port
from tests.conftest import KNOWLEDGE, ROOT

CHROMA = Path(sys.executable).parent / "chroma"
GOLD = ROOT / "eval" / "gold" / "wigan.jsonl"

pytestmark = pytest.mark.skipif(not CHROMA.exists(), reason=f"no chroma CLI at {CHROMA}")


class ChromaServer:
    """One `chroma run` subprocess; start/stop keep the same data path and port."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.proc: subprocess.Popen | None = None
        self.log = path.parent / "chroma-server.log"

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer its heartbeat within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(root / "db", free_port())
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server_settings(server, settings):
    return settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": server.port})


@pytest.fixture(scope="module")
def server_bot(server_settings, bot):
    from assistant.pipeline import Assistant
    from ingest.build import Indexer

    report = Indexer(server_settings, embedder=bot.embedder, progress=False).run(KNOWLEDGE)
    assert report.added == report.passages > 0
    a = Assistant(server_settings, embedder=bot.embedder)
    a.warm_up()
    return a


def questions() -> list[tuple[str, str | None]]:
    """Two questions of every expected behaviour, one restricted to a notice."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked: dict[str, list[dict]] = {}
    for r in rows:
        if len(picked.setdefault(r["expect"], [])) < 2:
            picked[r["expect"]].append(r)
    out = [(r["question"], r.get("notice")) for rs in picked.values() for r in rs]
    restricted = next(r for r in rows if r.get("notice"))
    return out + [(restricted["question"], restricted["notice"])]


def same_answer(a, b) -> tuple:
    return (a.route, a.text, [c.model_dump() for c in a.citations]), (b.route, b.text, [c.model_dump() for c in b.citations])


def test_server_mode_answers_like_embedded_mode(bot, server_bot):
    qs = questions()
    assert len(qs) >= 10
    for q, notice in qs:
        embedded, served = same_answer(bot.ask(q, notice=notice), server_bot.ask(q, notice=notice))
        assert served == embedded, q
    assert server_bot.store.where.startswith("the Chroma server at 127.0.0.1:")


def test_ingest_through_the_server_is_idempotent(server_settings, server_bot):
    from ingest.build import Indexer

    report = Indexer(server_settings, embedder=server_bot.embedder, progress=False).run(KNOWLEDGE)
    assert report.added == 0 and report.removed == 0 and report.embedded_texts == 0
    assert Indexer(server_settings, progress=False).is_current(KNOWLEDGE)


def test_server_down_gives_a_clear_message(server, server_bot):
    """A warmed-up assistant whose server goes away: a message, not httpx.ConnectError."""
    from assistant.resources import reply

    server.stop()
    try:
        answers = [server_bot.ask(q) for q in ("How long do you keep my data?", "Who do you share my data with?")]
    finally:
        server.start()
    for answer in answers:
        assert answer.route == "unanswerable"
        assert answer.text == reply("store_down")
        assert not answer.citations


def test_fresh_assistant_with_server_down_gives_a_clear_message(server, server_settings, bot):
    from assistant.pipeline import Assistant
    from assistant.resources import reply

    server.stop()
    try:
        answer = Assistant(server_settings, embedder=bot.embedder).ask("How long do you keep my data?")
    finally:
        server.start()
    assert answer.route == "unanswerable" and answer.text == reply("store_down")


def test_answers_again_after_the_server_restarts(server, server_bot):
    q = "Who do you share my data with?"
    before = server_bot.ask(q)
    assert before.route == "answer"
    server.stop()
    try:
        server_bot.ask(q)  # what happens while it is down is the test above's business
    except Exception:  # noqa: BLE001
        pass
    server.start()
    after = server_bot.ask(q)
    assert same_answer(after, before)[0] == same_answer(after, before)[1]


def test_ingest_cli_against_a_dead_server_fails_in_one_line(tmp_path):
    env = {**os.environ, "ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(free_port()),
           "ASSISTANT_DATA_DIR": str(tmp_path), "ASSISTANT_KNOWLEDGE_DIR": str(KNOWLEDGE)}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "ingest", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot reach the Chroma server at 127.0.0.1:")
    assert "Traceback" not in done.stderr and not done.stdout.strip()
