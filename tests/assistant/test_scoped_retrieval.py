"""A question restricted to some notices is ranked and answered as if only they were indexed.

The other notices in the index (a council has hundreds) must not change what a scoped
question finds: its word statistics, the centre of its passages and its sentence search
are the scope's own.
"""

import shutil

import numpy as np
import pytest

from assistant.lexical import BM25, tokens
from assistant.pipeline import Assistant
from assistant.settings import Settings
from eval.gold import load_gold
from eval.synth import make_corpus
from ingest.build import Indexer
from tests.conftest import KNOWLEDGE, ROOT

A = [
    "We share personal data with the police and the NHS.",
    "You have the right to ask for a copy of your data.",
    "Records are kept until the child is 25.",
]
B = [f"Service {i}: we share data with the police, the police and the police." for i in range(40)]


def test_bm25_within_rows_ignores_the_other_rows():
    alone = BM25().build([f"a{i}" for i in range(len(A))], A)
    mixed = BM25().build([f"a{i}" for i in range(len(A))] + [f"b{i}" for i in range(len(B))], A + B)
    rows = np.arange(len(A))
    for q in ("share with the police", "copy of my data", "how long are records kept"):
        terms = tokens(q)
        want = alone.scores(terms)
        got = mixed.scores(terms, rows=rows)
        np.testing.assert_allclose(got[: len(A)], want, rtol=1e-5)
        assert not got[len(A) :].any()
        assert all(alone.idf(t) == pytest.approx(mixed.idf(t, rows)) for t in terms)
    # With the corpus's statistics, the many other police passages do change A's scores.
    assert not np.allclose(mixed.scores(tokens("share with the police"))[: len(A)], alone.scores(tokens("share with the police")))


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, built_index) -> Assistant:
    """The real notices among about 300 synthetic passages of other services."""
    tmp = tmp_path_factory.mktemp("crowded")
    kdir = tmp / "knowledge"
    make_corpus(kdir, 300, seed=5, knowledge=KNOWLEDGE)
    for p in KNOWLEDGE.glob("*.md"):
        shutil.copy(p, kdir / p.name)
    settings = Settings(knowledge_dir=kdir, data_dir=tmp, index_dir=tmp / "index")
    Indexer(settings, progress=False).run()
    bot = Assistant(settings)
    bot.warm_up()
    return bot


def test_scoped_question_is_answered_as_in_an_index_of_its_notices_alone(bot: Assistant, crowded: Assistant, notices):
    real = sorted(notices)
    gold = [g for g in load_gold(ROOT / "eval" / "gold" / "wigan.jsonl", "test") if g.expect == "answer"][:30]
    assert len(crowded.retriever.ids) > len(bot.retriever.ids) + 250
    for g in gold:
        scope = g.notice or real
        qvec = bot.embedder.embed_query(g.question)
        alone = bot.retriever.run(g.question, qvec, scope, top_k=5)
        among = crowded.retriever.run(g.question, qvec, scope, top_k=5)
        assert [c.passage_id for c in among] == [c.passage_id for c in alone], g.question
        np.testing.assert_allclose([c.score for c in among], [c.score for c in alone], atol=1e-3)
        # ... and so is answered alike: the same route, quotes and words.
        a, b = bot.ask(g.question, notice=scope), crowded.ask(g.question, notice=scope)
        assert (b.route, b.text, [c.quote for c in b.citations]) == (a.route, a.text, [c.quote for c in a.citations])


def test_a_service_counts_as_covered_when_a_notice_in_scope_mentions_it(bot: Assistant, crowded: Assistant, notices):
    q = "How long do you keep my housing application?"
    assert bot.retriever.uncovered_services(q) == ["housing"]
    # Among the synthetic notices, Housing has its own: covered, unless the question is
    # restricted to the real notices.
    assert crowded.retriever.uncovered_services(q) == []
    assert crowded.retriever.uncovered_services(q, sorted(notices)) == ["housing"]
    assert bot.retriever.uncovered_services("Do you share information with schools?") == []
