"""``SMILEPAY_GALLERY*`` and ``SMILEPAY_REDIS_URL``: which gallery and session store to build
(to be merged into ``smilepay.config.Settings``), and the factories that build them."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from smilepay.errors import InvalidInput
from smilepay.ports.gallery import Gallery
from smilepay.ports.identity import KeyRing
from smilepay.ports.sessions import SessionStore

GALLERIES = ("faiss", "pgvector", "milvus")


class GallerySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMILEPAY_", extra="ignore")

    gallery: str = ""  # faiss | pgvector | milvus; empty: pgvector on PostgreSQL, else faiss
    gallery_url: str = ""  # milvus: e.g. http://127.0.0.1:19530
    gallery_cache_dir: str = ""  # faiss snapshot folder; default <var_dir>/gallery
    gallery_nprobe: int = 0  # faiss IVF lists scanned per query; 0: 25% of them (performance.md)
    gallery_ivf_from: int = 50_000  # faiss: exact below this many templates per shard
    gallery_ef_search: int = 400  # pgvector / milvus HNSW breadth (recall@1 0.99 at 100k)
    redis_url: str = ""  # sessions in Redis when set, else in the SQL database


def chosen_gallery(settings: GallerySettings, engine: Engine) -> str:
    name = settings.gallery.strip().lower() or (
        "pgvector" if engine.dialect.name == "postgresql" else "faiss")
    if name not in GALLERIES:
        raise InvalidInput(f"expected SMILEPAY_GALLERY in {GALLERIES}, got {name!r}")
    return name


def build_gallery(settings: GallerySettings, engine: Engine, keys: KeyRing,
                  var_dir: Path) -> Gallery:
    name = chosen_gallery(settings, engine)
    if name == "pgvector":
        from smilepay.adapters.gallery.pgvector_gallery import PgvectorGallery

        return PgvectorGallery(engine, ef_search=settings.gallery_ef_search)
    if name == "milvus":
        from smilepay.adapters.gallery.milvus_gallery import MilvusGallery

        if not settings.gallery_url:
            raise InvalidInput("expected SMILEPAY_GALLERY_URL for the milvus gallery, got none")
        return MilvusGallery(settings.gallery_url, ef=settings.gallery_ef_search)
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery

    cache = Path(settings.gallery_cache_dir) if settings.gallery_cache_dir else var_dir / "gallery"
    return FaissGallery(engine, keys, cache_dir=cache, ivf_from=settings.gallery_ivf_from,
                        nprobe=settings.gallery_nprobe)


def build_sessions(settings: GallerySettings, engine: Engine) -> SessionStore:
    if settings.redis_url:
        from smilepay.adapters.sessions.redis_sessions import RedisSessionStore

        return RedisSessionStore(settings.redis_url)
    from smilepay.adapters.sessions.sql_sessions import SqlSessionStore

    return SqlSessionStore(engine)
