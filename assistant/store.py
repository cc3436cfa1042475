"""The Chroma side of the index: passages, their quotable units, and the notices.

Embedded ``PersistentClient`` at the index dir by default; ``HttpClient`` against a
``chroma run`` server when ``ASSISTANT_CHROMA_HOST`` is set. Every collection is created
without an embedding function: we always pass our own vectors, so Chroma can never fall
back to its downloaded default model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assistant.models import Notice, Passage, Unit
from assistant.settings import Settings


def _store_errors() -> tuple[type[BaseException], ...]:
    import httpx
    from chromadb.errors import ChromaError

    return (OSError, ConnectionError, httpx.HTTPError, ChromaError)


STORE_ERRORS = _store_errors()


class IndexMissing(RuntimeError):
    """No index has been built yet."""


class StoreUnavailable(RuntimeError):
    """The Chroma server cannot be reached."""


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    # Chroma metadata values must be str, int, float or bool.
    return {k: v for k, v in meta.items() if v is not None}


def notice_meta(n: Notice) -> dict[str, Any]:
    return _clean(n.model_dump(exclude={"body", "id"}) | {"fingerprint": n.fingerprint})


def passage_meta(p: Passage, status: str) -> dict[str, Any]:
    return {
        "notice_id": p.notice_id,
        "section": p.section,
        "start": p.start,
        "end": p.end,
        "kind": p.kind,
        "context": p.context,
        "n_units": len(p.units),
        "status": status,
    }


def unit_id(passage_id: str, i: int) -> str:
    return f"{passage_id}:{i}"


def split_unit_id(uid: str) -> tuple[str, int]:
    """(passage id, position) of a unit id made by ``unit_id``."""
    pid, i = uid.rsplit(":", 1)
    return pid, int(i)


def unit_meta(p: Passage, u: Unit) -> dict[str, Any]:
    return {"passage_id": p.id, "notice_id": p.notice_id, "start": u.start, "end": u.end, "kind": u.kind}


class NoticeStore:
    """Opens the three collections; holds no model and does no ranking."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = None

    @property
    def where(self) -> str:
        s = self.settings
        if s.chroma_host:
            return f"the Chroma server at {s.chroma_host}:{s.chroma_port}"
        return f"the index at {s.resolved_index_dir}"

    def client(self):  # noqa: ANN201
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            s = self.settings
            try:
                if s.chroma_host:
                    self._client = chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port, settings=chroma_settings)
                else:
                    s.resolved_index_dir.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(s.resolved_index_dir), settings=chroma_settings)
            except Exception as e:  # chromadb raises plain ValueError/ConnectionError here
                raise StoreUnavailable(f"cannot reach {self.where}: {e}") from None
        return self._client

    def names(self) -> tuple[str, str, str]:
        base = self.settings.collection
        return base, f"{base}-units", f"{base}-notices"

    def collections(self, create: bool = False):  # noqa: ANN201
        """(passages, units, notices); ``IndexMissing`` when not built and not asked to create."""
        client = self.client()
        config = {"hnsw": {"space": "cosine"}}
        try:
            if create:
                return tuple(
                    client.get_or_create_collection(name, embedding_function=None, configuration=config)
                    for name in self.names()
                )
            existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
        except Exception as e:
            raise StoreUnavailable(f"cannot reach {self.where}: {e}") from None
        if not all(name in existing for name in self.names()):
            raise IndexMissing(f"no index at {self.where}: build it with `python -m ingest`")
        return tuple(client.get_collection(name, embedding_function=None) for name in self.names())

    def max_batch(self) -> int:
        try:
            return int(self.client().get_max_batch_size())
        except Exception:
            return 1000


def pages(col, include: list[str], where: dict[str, Any] | None = None, page: int = 5000) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """A collection's rows, ``page`` at a time (one unpaged ``get`` of a large collection
    fails inside Chroma: "too many SQL variables")."""
    offset = 0
    while True:
        got = col.get(include=include, where=where, limit=page, offset=offset)
        yield got
        if len(got["ids"]) < page:
            return
        offset += page


def get_all(col, include: list[str], where: dict[str, Any] | None = None, page: int = 5000) -> dict[str, list]:  # noqa: ANN001
    """Every row of a collection, fetched ``page`` rows at a time."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    for got in pages(col, include, where, page):
        out["ids"] += list(got["ids"])
        for k in include:
            out[k] += list(got[k]) if got[k] is not None else []
    return out
