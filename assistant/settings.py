"""Every setting in one place: env vars with the ``ASSISTANT_`` prefix, or keyword overrides."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Offline by default: these must be set before sentence-transformers, transformers,
# chromadb or gradio are imported anywhere in the process.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Paths, server and retrieval knobs. ``Settings(index_dir=...)`` overrides one field."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    data_dir: Path = PROJECT_ROOT / "data"
    index_dir: Path | None = Field(default=None, description="defaults to <data_dir>/index")
    database_url: str | None = Field(default=None, description="defaults to SQLite in data_dir")

    host: str = "127.0.0.1"
    port: int = 7860
    concurrency: int = Field(default=4, ge=1, le=64, description="questions the web app answers at the same time")
    root_path: str = ""

    # Staff view: "name:password" pairs, comma-separated. No default: without it the staff view is off.
    staff_credentials: SecretStr | None = None
    childrens_services_contact: str = Field(
        default="Wigan Council children's services (the contact number is on the council's website)",
        description="shown on safeguarding replies: set it to the service's current phone number",
    )

    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "notices"

    # Chunking and retrieval knobs.
    max_passage_chars: int = Field(
        default=800, ge=100, description="longer paragraphs and lists are split, short ones merged up to this"
    )
    top_k: int = Field(default=5, ge=1, le=50, description="passages returned with an answer")
    dense_candidates: int = Field(default=20, ge=1, le=200)
    lexical_candidates: int = Field(default=20, ge=1, le=200)
    exact_scope_passages: int = Field(
        default=5000, ge=0, description="a question restricted to notices this small searches their sentences exactly"
    )
    min_relevance: float = Field(
        default=0.25, ge=0, le=1, description="best sentence cosine below this: unanswerable"
    )
    evidence_margin: float = Field(default=0.08, ge=0, description="quote sentences scoring this close to the best")
    evidence_overlap_weight: float = Field(default=0.5, ge=0)
    evidence_passage_weight: float = Field(default=0.5, ge=0)
    evidence_rank_penalty: float = Field(default=0.0, ge=0)
    evidence_second_margin: float = Field(default=0.05, ge=0, description="quote the other notice this close")
    evidence_passages: int = Field(default=3, ge=1, le=10, description="quote from at most this many passages")
    evidence_passage_margin: float = Field(
        default=3.0, ge=0, description="quote a further passage whose ranking score is this close to the first's"
    )
    evidence_passage_min_score: float = Field(
        default=1.0, description="quote a further passage the ranking scores at least this (a logit), however far behind"
    )
    evidence_item_overlap: float = Field(
        default=0.3, ge=0, le=1, description="quote a list item holding this share of the question's idf weight"
    )
    evidence_whole_paragraph_chars: int = Field(default=800, ge=0, description="paragraphs this short are quoted whole")
    evidence_whole_list_chars: int = Field(default=450, ge=0, description="lists this short (intro to last item) are quoted whole")
    evidence_adapted_weight: float = Field(
        default=0.3, ge=0, le=1,
        description="score a sentence or item by its cosine to this blend of the adapted question vector and the plain one",
    )
    safeguarding_probability: float = Field(
        default=0.3, ge=0, le=1, description="signpost emergency help when the router gives a child at risk this much"
    )
    safeguarding_handoff_probability: float = Field(
        default=0.2, ge=0, le=1,
        description="after emergency signposting, also offer the DPO form when the router gives a request to act"
        " this much",
    )
    request_offer_probability: float = Field(
        default=0.3, ge=0, le=1,
        description="offer the DPO form with an answer when the request check gives a request to act this much",
    )
    request_handoff_probability: float = Field(
        default=0.5, ge=0, le=1,
        description="hand to a person a message the router would answer, or took for off-topic while it mentions"
        " records, when the request check gives a request to act this much",
    )
    unanswerable_probability: float = Field(
        default=0.9, ge=0, le=1.01,
        description="tell a question the router would answer that the notices don't say when the answerability"
        " check gives that this much; above 1, never",
    )
    uncovered_topic_similarity: float = Field(
        default=0.8, ge=0, le=1.01,
        description="tell a question this close (cosine) to a topic the notices don't cover (routing.yaml's"
        " uncovered_topics) that the notices don't say; above 1, never",
    )
    follow_up_off_topic_similarity: float = Field(
        default=0.4, ge=0, le=1.01,
        description="a chat message this close (cosine) to one of routing.yaml's off-topic phrasings stays off-topic"
        " even when it leans on the message before ('and what's the weather like?'); above 1, never",
    )
    max_quotes: int = Field(default=6, ge=1, le=30)
    max_question_chars: int = Field(default=2000, ge=50)

    def replace(self, **changes: object) -> "Settings":
        """A validated copy with some fields changed (``model_copy`` would skip validation)."""
        return type(self)(**{**self.model_dump(), **changes})

    @property
    def staff_logins(self) -> dict[str, str]:
        """{name: password} from ``staff_credentials``; empty when the staff view is off."""
        if self.staff_credentials is None:
            return {}
        pairs = [p.strip() for p in self.staff_credentials.get_secret_value().split(",") if p.strip()]
        return dict(p.split(":", 1) for p in pairs if ":" in p and p.split(":", 1)[1])

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'requests.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
