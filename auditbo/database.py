"""Declarative base, column helpers and portable types shared by every feature's models."""

from __future__ import annotations

import enum
import operator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from auditbo.clock import utcnow  # noqa: F401 - the columns' default; re-exported for the services

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored
    naive in UTC and given back their zone on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR + CHECK constraint, storing the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


# --- Alembic hooks (used by migrations/env.py and by the migration tests)
def alembic_render_item(type_, obj, autogen_context):
    """Write our portable types as plain SQLAlchemy types in migration scripts."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, sa.DateTime)
    return None  # Alembic's default comparison


COPY_MIN_ROWS = 50  # from this many rows on, PostgreSQL gets them by COPY


def bulk_insert(model, rows: list[dict], *, returning=None, batch: int = 5000) -> list:
    """Insert many rows (dicts with the same keys) bypassing the ORM's per-row bookkeeping.
    With ``returning`` (a column), its values come back in the order of ``rows``.

    On PostgreSQL, from ``COPY_MIN_ROWS`` rows on, the rows go by ``COPY`` (ids reserved from
    the table's sequence first when they are asked for); otherwise by Core executemany with
    "insertmanyvalues". Both apply the columns' Python-side defaults and bind processing.
    """
    from auditbo.extensions import db

    if not rows:
        return []
    if len(rows) >= COPY_MIN_ROWS and db.session.get_bind().dialect.name == "postgresql":
        return _copy_rows(db.session, model.__table__, rows, returning)
    table = model.__table__
    stmt = sa.insert(table)
    out: list = []
    if returning is not None:
        stmt = stmt.returning(table.c[returning.key], sort_by_parameter_order=True)
    for start in range(0, len(rows), batch):
        result = db.session.execute(stmt, rows[start:start + batch])
        if returning is not None:
            out += result.scalars().all()
    return out


def _copy_rows(session, table: sa.Table, rows: list[dict], returning) -> list:
    """PostgreSQL ``COPY … FROM STDIN`` of ``rows``; ids for ``returning`` from ``nextval``."""
    conn = session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    ids: list = []
    if returning is not None:
        key = returning.key
        seq = conn.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, key))).scalar_one()
        ids = list(conn.execute(sa.text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
                                {"seq": seq, "n": len(rows)}).scalars())
        if key not in keys:
            keys.append(key)
            rows = [{**row, key: i} for row, i in zip(rows, ids, strict=True)]
    defaults = {}  # columns left out of the rows that have a Python-side default (Core would apply it)
    for col in table.columns:
        if col.key not in keys and col.default is not None and not col.primary_key:
            defaults[col.key] = col.default
    columns = keys + list(defaults)
    names = ", ".join(dialect.identifier_preparer.quote(table.c[k].name) for k in columns)
    convert = _row_converter(table, keys, defaults, dialect)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(convert(row))
    return ids


def _row_converter(table: sa.Table, keys: list[str], defaults: dict, dialect):
    """``row dict -> list of values`` for COPY, each through its column's bind processing (what Core
    would send). A processor's answer is remembered per value for the plain values a batch repeats
    (enums, flags, the batch's timestamp); JSON and other unhashable values are processed each time."""
    get = operator.itemgetter(*keys) if len(keys) > 1 else (lambda row, k=keys[0]: (row[k],))
    work = []
    for i, k in enumerate(keys + list(defaults)):
        p = table.c[k].type.dialect_impl(dialect).bind_processor(dialect)
        if p is not None:
            work.append((i, p, None if isinstance(table.c[k].type, sa.JSON) else {}))
    extra = list(defaults.values())

    def convert(row: dict) -> list:
        values = list(get(row))
        for d in extra:
            values.append(d.arg(None) if d.is_callable else d.arg)
        for i, p, memo in work:
            v = values[i]
            if memo is None:
                values[i] = p(v)
                continue
            try:
                values[i] = memo[v]
            except KeyError:
                values[i] = memo[v] = p(v)
            except TypeError:  # unhashable
                values[i] = p(v)
        return values

    return convert


LIKE_ESCAPE = "\\"


def like_contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%`` and ``_`` taken literally (use with
    ``escape=LIKE_ESCAPE``)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"
