"""The peer: the pipeline most people build first, run on the same questions.

LangChain's RecursiveCharacterTextSplitter (500/50) over the same notice texts, the same
embedding model, a Chroma collection and similarity search top-3; every question is
"answered" with those three chunks. It never refuses and never hands off.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.embedder import Embedder, shared_embedder
from assistant.models import Notice


class SharedModelEmbeddings(Embeddings):
    """LangChain's Embeddings interface over our one loaded model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()  # no cache: the peer pays for its own query


class Baseline:
    name = "peer (LangChain 500/50, top-3)"

    def __init__(self, notices: list[Notice], persist_dir: Path, embedder: Embedder | None = None,
                 chunk_size: int = 500, chunk_overlap: int = 50, k: int = 3) -> None:  # fmt: skip
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.k = k
        self.notices = {n.id: n for n in notices}
        self.embeddings = SharedModelEmbeddings(embedder or shared_embedder())
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        docs = splitter.split_documents([Document(page_content=n.body, metadata={"notice_id": n.id}) for n in notices])
        self.chunks = docs
        self.db = Chroma(
            collection_name="baseline",
            embedding_function=self.embeddings,
            persist_directory=str(persist_dir),
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True, persist_directory=str(persist_dir)),
            collection_metadata={"hnsw:space": "cosine"},
        )
        for i in range(0, len(docs), 1000):
            self.db.add_documents(docs[i : i + 1000])

    @property
    def mean_chunk_chars(self) -> float:
        return sum(len(d.page_content) for d in self.chunks) / max(1, len(self.chunks))

    def search(self, question: str, notice: str | None = None) -> list[tuple[Document, float]]:
        flt = {"notice_id": notice} if notice else None
        return self.db.similarity_search_with_score(question, k=self.k, filter=flt)

    def ask(self, question: str, notice: str | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        hits = self.search(question, notice)
        latency = (time.perf_counter() - t0) * 1000
        citations, retrieved, lines = [], [], []
        for n, (doc, dist) in enumerate(hits, 1):
            nid = doc.metadata["notice_id"]
            start = int(doc.metadata.get("start_index", -1))
            notice_obj = self.notices[nid]
            citations.append({
                "n": n, "notice_id": nid, "notice_title": notice_obj.title, "version": notice_obj.version,
                "effective": notice_obj.effective, "section": "", "quote": doc.page_content,
                "start": start, "end": start + len(doc.page_content),
            })  # fmt: skip
            retrieved.append({"notice_id": nid, "text": doc.page_content, "start": start,
                              "end": start + len(doc.page_content), "score": round(1 - float(dist), 6)})  # fmt: skip
            lines.append(f"{doc.page_content} [{n}]")
        return {"route": "answer", "offers_handoff": False, "request_type": None, "text": "\n\n".join(lines),
                "citations": citations, "retrieved": retrieved, "latency_ms": round(latency, 2)}  # fmt: skip
