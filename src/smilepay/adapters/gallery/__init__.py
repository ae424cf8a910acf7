"""Gallery adapters (the ``ports.gallery.Gallery`` port): FAISS in process with a SQL change log,
pgvector, Milvus; ``build_gallery`` picks one from ``GallerySettings`` (filled from
``Settings``)."""
