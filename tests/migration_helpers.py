"""Writing rows the way an older schema stored them, for tests that migrate a populated database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from db.types import UtcDateTime


def _type_of(value: Any) -> sa.types.TypeEngine[Any]:
    # Each value is bound with the type the models give such a column, so an old revision's
    # rows are stored exactly as the app of that time stored them.
    if isinstance(value, datetime):
        return UtcDateTime()
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.Integer()
    if isinstance(value, list | dict):
        return sa.JSON()
    return sa.String()


def insert_row(connection: sa.Connection, table: str, **values: Any) -> None:
    """INSERT one row into `table` (by name, whatever revision the database is at), each
    column typed from its value: datetime -> UtcDateTime, list/dict -> JSON, and so on."""
    columns = (sa.column(name, _type_of(value)) for name, value in values.items())
    connection.execute(sa.insert(sa.table(table, *columns)).values(**values))
