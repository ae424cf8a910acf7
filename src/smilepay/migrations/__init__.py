"""Alembic migrations of the relational store (run by ``smilepay db upgrade`` and at start-up)."""
