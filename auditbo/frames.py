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


def read_frame(stmt, columns: list[str], *, text: tuple[str, ...] = (), ints: tuple[str, ...] = (),
               categories: tuple[str, ...] = ()) -> pd.DataFrame:
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
    with conn.connection.dbapi_connection.cursor() as cur, \
            cur.copy(f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for block in copy:
            buf.write(block)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({c: pd.Series(dtype=kind(c)) for c in columns})
    buf.seek(0)
    dtypes = {**{c: str for c in text}, **{c: "category" for c in categories}, **{c: "int64" for c in ints}}
    return pd.read_csv(buf, names=columns, header=None, dtype=dtypes, keep_default_na=False, na_values=[""],
                       true_values=["t"], false_values=["f"])
