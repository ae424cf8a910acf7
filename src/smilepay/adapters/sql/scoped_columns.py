"""The columns every tenant-scoped table starts with, shared by the schema modules.

``ID`` is the type of every id column; ``scope_columns`` are ``tenant_id`` and ``livemode``
(no foreign key: the money schema's ``_scoped`` adds its own to ``tenants``); ``scoped_table``
is a table whose primary key is ``id`` followed by those two; ``in_scope`` is the ``WHERE``
on them. Column order is the one the migrations have always created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, MetaData, String, Table, and_
from sqlalchemy.sql.schema import SchemaItem

from smilepay.domain.tenants import Scope

ID = String(40)


def scope_columns() -> list[Column[object]]:
    return [Column("tenant_id", ID, nullable=False), Column("livemode", Boolean, nullable=False)]


def scoped_table(name: str, metadata: MetaData, *items: SchemaItem) -> Table:
    """``Table(name, metadata, id, tenant_id, livemode, *items)``."""
    return Table(name, metadata, Column("id", ID, primary_key=True), *scope_columns(), *items)


def in_scope(table: Any, scope: Scope) -> Any:
    """The rows of one tenant and mode."""
    return and_(table.c.tenant_id == scope.tenant_id, table.c.livemode == scope.livemode)
