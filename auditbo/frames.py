"""Query results as pandas frames, without a Python object per row on PostgreSQL.

``read_frame(stmt, columns)`` runs a Core ``select`` in the session's transaction. On PostgreSQL
the rows come as ``COPY (…) TO STDOUT WITH (FORMAT csv)`` read by pandas' C parser (the technique
of bench/rating_b5.py and of the spot-check frame's reader): a million rows cost no million row
objects. Elsewhere (SQLite) the rows are fetched and the frame built column by column.

What differs between the two, the caller normalises (as :mod:`auditbo.ratings.events` does):
dates and timestamps come as text on PostgreSQL and as ``date`` / ``datetime`` objects elsewhere
(``pd.to_datetime`` takes both); booleans as ``True``/``False`` there and 0/1 elsewhere; a NULL
is NaN in a numeric column. Columns named in ``text`` are always strings (codes that look like
numbers stay codes), those in ``categories`` likewise but categorical (a few distinct values over
many rows: hashed once, no string per row), those in ``ints`` are int64 and never NULL.
"""

from __future__ import annotations

import io

import pandas as pd

from auditbo.extensions import db

LINES_PER_CHUNK = 1_000_000  # rows joined into one text by PostgreSQL (a text value holds at most 1 GB)


def read_frame(stmt, columns: list[str], *, text: tuple[str, ...] = (), ints: tuple[str, ...] = (),
               categories: tuple[str, ...] = (), unordered: bool = False) -> pd.DataFrame:
    """``unordered``: the rows in no particular order, which lets PostgreSQL join them into a few
    large CSV texts (one per million rows) instead of sending a message per row (the reader's cost
    at millions of narrow rows)."""
    conn = db.session.connection()

    def kind(c):
        return "int64" if c in ints else "category" if c in categories else object

    if conn.dialect.name != "postgresql":
        rows = conn.execute(stmt).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        return pd.DataFrame({c: pd.Series(v, dtype=kind(c)) for c, v in zip(columns, values, strict=True)})
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    processors = compiled._bind_processors
    params = {k: processors[k](v) if k in processors else v for k, v in compiled.construct_params().items()}
    buf = io.BytesIO()
    if unordered:
        _read_lines(conn, compiled.string, params, len(columns), buf)
    else:
        with conn.connection.dbapi_connection.cursor() as cur, \
                cur.copy(f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                buf.write(block)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({c: pd.Series(dtype=kind(c)) for c in columns})
    buf.seek(0)
    dtypes = {**{c: str for c in text}, **{c: "category" for c in categories}, **{c: "int64" for c in ints}}
    return pd.read_csv(buf, names=columns, header=None, dtype=dtypes, keep_default_na=False, na_values=[""],
                       true_values=["t", "true"], false_values=["f", "false"])


def _read_lines(conn, sql: str, params, n_columns: int, buf: io.BytesIO) -> None:
    """The rows of ``sql`` as CSV lines joined by PostgreSQL, a million rows per fetched value
    (each value quoted as CSV does; NULL is an empty field)."""
    names = [f"c{i}" for i in range(n_columns)]
    fields = ", ".join(f"coalesce('\"' || replace(s.{c}::text, '\"', '\"\"') || '\"', '')" for c in names)
    query = (f"SELECT string_agg(concat_ws(',', {fields}), E'\\n') FROM (SELECT *, row_number() OVER () AS rn "
             f"FROM ({sql}) AS q({', '.join(names)})) AS s GROUP BY rn / {LINES_PER_CHUNK}")
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.execute(query, params)
        for (chunk,) in cur:
            buf.write(chunk.encode())
            buf.write(b"\n")
