"""Which gallery and session store to build, and the factories that build them. The values
come from ``smilepay.config.Settings`` (``SMILEPAY_GALLERY*``, ``SMILEPAY_REDIS_URL``), the one
place that reads the environment and holds the defaults; ``bootstrap`` fills this in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from smilepay.errors import InvalidInput
from smilepay.ports.gallery import Gallery
from smilepay.ports.identity import KeyRing
from smilepay.ports.sessions import SessionStore

GALLERIES = ("faiss", "pgvector", "milvus")


@dataclass(frozen=True)
class GallerySettings:
    gallery: str  # faiss | pgvector | milvus; empty: pgvector on PostgreSQL, else faiss
    gallery_url: str  # milvus: e.g. http://127.0.0.1:19530
    gallery_cache_dir: str  # faiss snapshot folder; empty: <var_dir>/gallery
    gallery_nprobe: int  # faiss IVF lists scanned per query; 0: a quarter of them
    gallery_ivf_from: int  # faiss: exact below this many templates per shard
    gallery_ef_search: int  # pgvector / milvus HNSW search breadth
    gallery_ef_construction: int  # pgvector / milvus HNSW build breadth
    redis_url: str  # sessions in Redis when set, else in the SQL database


def chosen_gallery(name: str, engine: Engine) -> str:
    """The configured gallery by name, or the database's own (pgvector on PostgreSQL)."""
    chosen = name.strip().lower() or (
        "pgvector" if engine.dialect.name == "postgresql" else "faiss")
    if chosen not in GALLERIES:
        raise InvalidInput(f"expected SMILEPAY_GALLERY in {GALLERIES}, got {chosen!r}")
    return chosen


def build_gallery(settings: GallerySettings, engine: Engine, keys: KeyRing,
                  var_dir: Path) -> Gallery:
    name = chosen_gallery(settings.gallery, engine)
    if name == "pgvector":
        from smilepay.adapters.gallery.pgvector_gallery import PgvectorGallery

        return PgvectorGallery(engine, ef_search=settings.gallery_ef_search,
                               ef_construction=settings.gallery_ef_construction)
    if name == "milvus":
        from smilepay.adapters.gallery.milvus_gallery import MilvusGallery

        if not settings.gallery_url:
            raise InvalidInput("expected SMILEPAY_GALLERY_URL for the milvus gallery, got none")
        return MilvusGallery(settings.gallery_url, ef=settings.gallery_ef_search,
                             ef_construction=settings.gallery_ef_construction)
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
