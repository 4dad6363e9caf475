"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL (the database decides "once"),
and the row count of a conditional UPDATE (which decides it too).

Read-then-insert races (two requests both see no row, both insert, one fails); these helpers
let the unique key decide instead, in one statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result, Table, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.schema import ColumnDefault

# Ids per IN (...) list in batched reads: well under SQLite's limit on bound parameters in one
# statement (32,766 since SQLite 3.32; https://www.sqlite.org/limits.html, item 9).
IN_LIST_CHUNK = 5000

_T = TypeVar("_T")


def in_chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """`values` in slices of at most IN_LIST_CHUNK, one per IN (...) list (none when empty)."""
    for start in range(0, len(values), IN_LIST_CHUNK):
        yield values[start : start + IN_LIST_CHUNK]


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (each with the same keys) in one batch, in their order; nothing for none.

    SQLite: one executemany (sqlite3 binds in C). PostgreSQL: one COPY through psycopg, with
    the columns' bind processing (encryption, JSON, UTC times) and Python-side defaults
    applied as an INSERT would. Measured on the 2-core dev machine (2026-12-01, bench/rounds.py,
    a 5,000-member round start): COPY took the round's four batch inserts (5,000 seats, 5,000
    prompts shown, 5,000 outbox rows, 2,500 groups) from 0.36 s to 0.08 s of client and
    server time, where psycopg's executemany sends and the server executes one INSERT per row.
    The table's unique keys and foreign keys still apply: a duplicate raises IntegrityError.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table, rows)
    else:
        session.execute(insert(table), list(rows))


def _copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    session.flush()  # rows may refer to what the session holds (a round flushed for its id)
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaults: dict[str, ColumnDefault] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not isinstance(column.default, ColumnDefault) or column.default.is_clause_element:
            raise NotImplementedError(f"insert_rows cannot apply the default of {column.name}")
        defaults[column.name] = column.default
    names = given + list(defaults)
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    raw = connection.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver's
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in given] + [
                    # A callable default is wrapped by SQLAlchemy to take the execution
                    # context, which none of ours reads.
                    default.arg(None) if default.is_callable else default.arg
                    for default in defaults.values()
                ]
                copy.write_row(
                    [
                        process(value) if process is not None else value
                        for process, value in zip(processors, values, strict=True)
                    ]
                )
    except dbapi_error as error:
        # As SQLAlchemy raises for its own statements (IntegrityError for a duplicate key,
        # OperationalError for a lock or statement timeout), without the rows' values.
        raise DBAPIError.instance(
            statement, None, error, dbapi_error, hide_parameters=True, dialect=dialect
        ) from error


# Ids for new rows of a table, taken from its sequence in one round trip (PostgreSQL).
_PG_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"
)


def insert_rows_returning_ids(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert rows and return their new ids (the `id` column), in the order of `rows`.

    PostgreSQL: the ids are drawn from the table's sequence first (one query), then the rows
    go in as one COPY (insert_rows). A multi-row INSERT ... RETURNING of 2,500 groups
    cost psycopg more client CPU to convert (its thousands of placeholders) than the insert
    itself: 0.2 s of a 2.4 s round start (bench/rounds.py, 5,000 members, 2026-12-01).
    SQLite: INSERT ... RETURNING in parameter order (cheap there: sqlite3 binds in C).
    Raises IntegrityError on a duplicate unique key, like insert_rows.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted(session.scalars(_PG_NEXT_IDS, {"table": table.name, "count": len(rows)}).all())
        insert_rows(
            session, table, [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)]
        )
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)).all())


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts do not support {dialect}")


def upsert(
    session: Session,
    table: Table,
    values: Mapping[str, Any],
    *,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> int:
    """Insert one row, or update `update_columns` of the row with the same unique key (one
    statement: INSERT ... ON CONFLICT DO UPDATE); return the row's id.

    Raises NotImplementedError on a dialect other than SQLite or PostgreSQL.
    """
    statement = _insert(session, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={name: statement.excluded[name] for name in update_columns},
    ).returning(table.c.id)
    return int(session.execute(statement).scalar_one())


def insert_or_ignore(
    session: Session,
    table: Table,
    values: Mapping[str, Any],
    *,
    conflict_columns: Sequence[str],
) -> int | None:
    """Insert one row unless its unique key exists; return the new row's id, or None.

    `conflict_columns` names the unique key that decides (it must match a unique constraint).
    Raises NotImplementedError on a dialect other than SQLite or PostgreSQL.
    """
    statement = (
        _insert(session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its cursor's rowcount)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def lock_row(session: Session, table: Table, row_id: int) -> bool:
    """Hold one row's lock until the transaction ends: a no-op UPDATE of its id.

    On PostgreSQL another transaction's UPDATE (or SELECT ... FOR UPDATE) of the row waits for
    our commit; on SQLite the first write takes the database's write lock. What is read after
    it sees what the previous holder committed. Returns whether the row exists.
    """
    column = table.c.id
    return (
        affected_rows(session.execute(update(table).where(column == row_id).values(id=column))) == 1
    )
