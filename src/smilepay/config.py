"""Settings from ``SMILEPAY_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """The source checkout's root when running from one, else the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "smilepay").is_dir():
            return parent
    return Path.cwd()


class FaceSettings(BaseModel):
    """The ``SMILEPAY_FACE_*`` settings (``Settings.face()``): challenge ("random" or a fixed
    list like "smile"), phone policy, where secrets and the FAISS gallery cache live (default:
    ``var_dir``). The recognition strategy is ``Settings.face_strategy``."""

    challenge: str = "random"
    step_timeout_ms: int = 6000
    phone_policy: str = "last_four"
    secrets_file: str = ""
    index_dir: str = ""  # the FAISS gallery's snapshot folder (SMILEPAY_GALLERY_CACHE_DIR wins)
    exact_below: int = 0  # 0: unset; else overrides SMILEPAY_GALLERY_IVF_FROM (older name)
    false_match_target: float = 1e-6  # decision-level, face + last four digits (security.md)


class Settings(BaseSettings):
    """Everything configurable, with the embedded defaults ``make run`` uses."""

    model_config = SettingsConfigDict(env_prefix="SMILEPAY_", extra="ignore")

    model_dir: Path = Field(default_factory=lambda: project_root() / ".models")
    data_dir: Path = Field(default_factory=lambda: project_root().parent / "shared" / "data")
    var_dir: Path = Field(default_factory=lambda: project_root() / "var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    allow_noncommercial_models: bool = False
    # Face recognition strategy by name (empty = the measured default, see docs/accuracy.md).
    face_strategy: str = ""
    # How long a worker trusts a key it has checked (0 = check every call in the database);
    # another worker's revocation takes effect within this time (services.tenants.CallerCache).
    auth_cache_ms: int = Field(default=1000, ge=0, le=60_000)
    # a payment intent nobody paid is canceled this long after it was created
    unpaid_ttl_s: int = Field(default=600, ge=10, le=7 * 24 * 3600)
    # Money core: base64 of 32+ bytes; empty = a DEV-ONLY key with a warning (never in production).
    phone_key: str = Field(default="", repr=False)
    # Live mode: serve live keys (sk_live_/tk_live_). Refuses to start without its secrets
    # (bootstrap.check_live_secrets); off, live keys are refused (docs/security.md).
    live: bool = False
    # Webhook endpoints of TEST mode may be on this machine (a developer's local receiver);
    # never live ones, and never private, link-local or reserved addresses (webhook_targets).
    webhooks_allow_loopback: bool = False
    # SMTP notifier instead of the log notifier when a host is set.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "receipts@smilepay.invalid"
    # Face flows (SMILEPAY_FACE_*; see FaceSettings and the README's face settings table).
    face_challenge: str = "random"
    face_step_timeout_ms: int = 6000
    face_phone_policy: str = "last_four"
    face_secrets_file: str = ""
    face_index_dir: str = ""
    face_exact_below: int = Field(default=0, ge=0)
    face_false_match_target: float = 1e-6
    # The gallery (faiss | pgvector | milvus; empty: pgvector on PostgreSQL, else faiss) and its
    # tuning, and the session store (Redis when set, else the SQL database): adapters.gallery.
    gallery: str = ""
    gallery_url: str = ""
    gallery_cache_dir: str = ""
    # the measured defaults (docs/performance.md): FAISS IVF scans a quarter of its lists (0)
    # and pgvector/Milvus search 400 wide; both reached recall@1 >= 0.99 on the bench
    gallery_nprobe: int = Field(default=0, ge=0)
    gallery_ivf_from: int = Field(default=50_000, ge=1)
    gallery_ef_search: int = Field(default=400, ge=1, le=1000)  # pgvector's own limit
    # HNSW build breadth of a new pgvector index / Milvus collection (performance.md)
    gallery_ef_construction: int = Field(default=128, ge=8, le=1000)
    redis_url: str = Field(default="", repr=False)

    def face(self) -> FaceSettings:
        """The ``face_*`` settings without their prefix."""
        return FaceSettings(**{name: getattr(self, f"face_{name}")
                               for name in FaceSettings.model_fields})

    def resolved_database_url(self) -> str:
        """The configured database, or SQLite in ``var_dir`` (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'smilepay.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
