"""Per-subject columns of a rating's output built from the engine's tables: contributions and the
events that entered or left the window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import EVENTS, INDICATORS, NR


def contributions_column(out: pd.DataFrame) -> list:
    """Per row {indicator: points} (None for NR); base + sum == score."""
    vals = out[[f"contrib_{i}" for i in INDICATORS]].to_numpy()
    rated = out["grade"].to_numpy() != NR
    return [
        dict(zip(INDICATORS, map(float, v), strict=True)) if r else None
        for v, r in zip(vals, rated, strict=True)
    ]


def _event_dicts(table: np.ndarray) -> list:
    n = table.shape[0]
    out: list[dict] = [{} for _ in range(n)]
    rows, cols = np.nonzero(table)  # row-major: each row's entries are contiguous
    names = np.asarray(EVENTS, dtype=object)[cols].tolist()
    vals = table[rows, cols].tolist()
    bounds = np.searchsorted(rows, np.arange(n + 1)).tolist()
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        a, b = bounds[i], bounds[i + 1]
        out[i] = dict(zip(names[a:b], vals[a:b], strict=True))
    return out
