"""Input checks shared by every verb, and the canonical frame hash.

Every check raises :class:`SamplingError` with a one-line message that names
the problem (the CLI prints it as is).  Nothing here mutates its input.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

PACKAGE_VERSION = "0.1.0"

__all__ = [
    "PACKAGE_VERSION",
    "SamplingError",
    "as_frame",
    "binary_column",
    "check_seed",
    "frame_hash",
    "hash_in_order",
    "id_order",
    "numeric_column",
    "require_columns",
]


class SamplingError(ValueError):
    """Bad input for the sampling engine.  ``str(err)`` is one line naming the problem."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def as_frame(obj, what: str) -> pd.DataFrame:
    """Return ``obj`` if it is a non-empty DataFrame, else raise."""
    if not isinstance(obj, pd.DataFrame):
        raise SamplingError(f"{what} must be a pandas DataFrame, got {type(obj).__name__}")
    if len(obj) == 0:
        raise SamplingError(f"{what} is empty: it has no rows")
    return obj


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SamplingError(f"{what} lacks required column(s): {', '.join(map(str, missing))}")


def numeric_column(df: pd.DataFrame, column: str, what: str, *, allow_missing: bool = True) -> np.ndarray:
    """The column as float64; raise naming the first non-numeric value."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        coerced = pd.to_numeric(s, errors="coerce")
        bad = coerced.isna() & s.notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise SamplingError(
                f"{what}: column '{column}' must be numeric (row {pos + 1} holds {str(s.iloc[pos])!r})"
            )
        out = coerced.to_numpy(dtype="float64", na_value=np.nan)
    if not allow_missing and np.isnan(out).any():
        pos = int(np.flatnonzero(np.isnan(out))[0])
        raise SamplingError(f"{what}: column '{column}' has a missing value (row {pos + 1})")
    if np.isinf(out).any():
        pos = int(np.flatnonzero(np.isinf(out))[0])
        raise SamplingError(f"{what}: column '{column}' has an infinite value (row {pos + 1})")
    return out


def binary_column(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """The column as int8 0/1; raise on anything else (missing included)."""
    values = numeric_column(df, column, what, allow_missing=False)
    bad = (values != 0) & (values != 1)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise SamplingError(f"{what}: column '{column}' must be 0 or 1 (row {pos + 1} holds {values[pos]:g})")
    return values.astype(np.int8)


def check_seed(seed, name: str = "random_state") -> int:
    """A draw must be repeatable, so its seed is a non-negative integer (not None)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SamplingError(
            f"{name} must be a non-negative integer seed so the draw can be repeated, got {seed!r}"
        )
    return int(seed)


def id_order(df: pd.DataFrame, column: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Checked unit ids (present, unique) and the canonical order that sorts them.

    Ids count as text (123 stored as a number and "123" read from a CSV are the
    same unit); the canonical order sorts them numerically when every id is an
    integer, else as text.  Draws work in this order, so the sample depends on
    the frame's content, never on the order of its rows.  The ids come back as
    int64 when every id is an integer (their text is their decimal form, made
    only when needed: a million ids as Python strings cost a second), else as
    an object array of text.
    """
    require_columns(df, [column], what)
    ids = df[column]
    if ids.isna().any():
        pos = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise SamplingError(f"{what}: column '{column}' has a missing id (row {pos + 1})")
    if pd.api.types.is_bool_dtype(ids):
        key = None
    elif pd.api.types.is_integer_dtype(ids):
        key = ids.to_numpy(dtype="int64")
    else:
        num = pd.to_numeric(ids, errors="coerce") if not pd.api.types.is_float_dtype(ids) else ids
        arr = num.to_numpy(dtype="float64", na_value=np.nan)
        key = arr.astype("int64") if (np.isfinite(arr).all() and np.all(np.mod(arr, 1) == 0)) else None
    if key is not None:
        if np.all(key[1:] > key[:-1]):
            return key, np.arange(len(key))
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if len(dup):
            # the first row (in frame order) that repeats an earlier id
            pos = int(np.flatnonzero(pd.Series(key).duplicated().to_numpy())[0])
            raise SamplingError(f"{what}: column '{column}' repeats id {str(key[pos])!r} (row {pos + 1})")
        return key, order
    text = ids.astype(str).to_numpy(dtype=object)
    dup = pd.Series(text).duplicated().to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise SamplingError(f"{what}: column '{column}' repeats id {text[pos]!r} (row {pos + 1})")
    return text, np.argsort(np.asarray(text, dtype=str), kind="stable")


def frame_hash(frame: pd.DataFrame, id_column: str | None = "unit_id") -> str:
    """SHA-256 of a canonical byte serialization of ``frame`` sorted by ``id_column``.

    The recipe (version ``sampling-frame-v1``), so anyone can recompute it: rows
    sorted by unit id (numerically when all ids are integers, else as text);
    columns in name order; for each column its name, then either ``f`` and the
    values as little-endian float64 (numeric and boolean columns; NaN and -0.0
    canonicalised) or ``s`` and the text values (unit ids always count as
    text) as first-appearance dictionary + int64 codes (-1 for missing).
    Row order and integer-vs-float storage therefore do not change the hash;
    any changed value, row or column does.  With ``id_column=None`` (a
    training history without ids) rows are taken in their given order.
    """
    frame = as_frame(frame, "frame")
    if id_column is None:
        ids, order = None, np.arange(len(frame))
    else:
        ids, order = id_order(frame, id_column, "frame")
    return hash_in_order(frame, id_column, ids, order)


def hash_in_order(frame: pd.DataFrame, id_column: str | None, ids, order: np.ndarray) -> str:
    """:func:`frame_hash` with the ids and canonical order (:func:`id_order`) already computed."""
    h = hashlib.sha256(b"sampling-frame-v1\n")
    h.update(f"{len(frame)} rows\n".encode())
    for col in sorted(frame.columns, key=str):
        h.update(b"\x1e" + str(col).encode("utf-8") + b"\x1d")
        if id_column is not None and col == id_column:
            # unique and present: the dictionary is the ids in order, the codes 0..N-1
            sorted_ids = ids[order]
            texts = map(str, sorted_ids.tolist()) if sorted_ids.dtype.kind == "i" else sorted_ids.tolist()
            h.update(_text_block("\x1f".join(texts), np.arange(len(order))))
            continue
        values = frame[col]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            arr = values.to_numpy(dtype="float64", na_value=np.nan)[order] + 0.0
            arr[np.isnan(arr)] = np.nan
            h.update(b"f" + np.ascontiguousarray(arr, dtype="<f8").tobytes())
        else:
            values = values.iloc[order]
            if values.dtype == object:
                values = values.where(values.notna(), None)
            # first-appearance dictionary; a typed column (categorical, dates, pandas text) is
            # factorized as it is, which gives the same dictionary as its values as objects
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            h.update(_text_block("\x1f".join(str(u) for u in uniques), codes))
    return h.hexdigest()


def _text_block(dictionary: str, codes: np.ndarray) -> bytes:
    return b"s" + dictionary.encode("utf-8") + b"\x1d" + np.ascontiguousarray(codes, dtype="<i8").tobytes()
