"""SQL storage for the money core (SQLAlchemy 2 Core): SQLite (WAL) and PostgreSQL."""
