"""The cold-start rule score, feature roles, and the per-unit reasons.

Feature columns
---------------
Any frame column is a candidate risk feature except the reserved ones
(``unit_id``, ``nonconforming``, ``decided_on``, ``inclusion_probability``,
``mandatory``, ``risk``, ``selected``, ``reasons``) and identities: a column
named ``id`` or ending in ``_id`` is an identifier, not a feature, and any
column whose name mentions ``inspector`` is refused outright (inspector
identity is never a risk feature, even when asked for by name).
Numeric and boolean columns are used as numbers; text and categorical columns
as categories (the most frequent 63 levels, the rest pooled).  The columns
in :data:`NUMERIC_FEATURES` must be numeric: text in them is an error.

The rule score (used when there is too little labelled history)
------------------------------------------------------------------
``risk = 1 / (1 + exp(-(logit(0.05) + Σ points)))`` with these points, each
read from its column when present (a missing column or value scores 0):

==========================  ==========================================  ======
column                      rule                                        points
==========================  ==========================================  ======
``grade_jump``              ≥ 2 levels above the previous grade         +1.0
``person_days_ratio``       below half the minimum (red flag)            +1.5
``person_days_ratio``       below the minimum (a justified reduction)    +0.7
``filing_delay_days``       filed more than 30 days after the decision   +0.5
``lead_workload_30d``       lead did ≥ 8 assessments in the prior 30 d   +0.5
``body_prior_nc``           the body's prior nonconformity rate r        +4 r
``lead_prior_nc``           the lead's prior nonconformity rate r        +4 r
``consulting_prior_nc``     the consulting body's prior rate r           +4 r
==========================  ==========================================  ======

The reasons of a unit are its (at most ``n_reasons``) rules with the most
points, e.g. ``"person-days under half the minimum; filed late"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import SamplingError, numeric_column

__all__ = ["NUMERIC_FEATURES", "RESERVED_COLUMNS", "feature_columns", "rule_score", "top_reasons"]

RESERVED_COLUMNS = frozenset(
    {
        "unit_id",
        "nonconforming",
        "decided_on",
        "inclusion_probability",
        "mandatory",
        "risk",
        "selected",
        "reasons",
    }
)
NUMERIC_FEATURES = (
    "grade_jump",
    "person_days_ratio",
    "decision_lag_days",
    "filing_delay_days",
    "team_size",
    "lead_workload_30d",
    "body_prior_nc",
    "lead_prior_nc",
    "consulting_prior_nc",
)
#: Monotone constraints the domain justifies (+1: more means riskier, -1: less means riskier).
DEFAULT_MONOTONE = {
    "grade_jump": 1,
    "person_days_ratio": -1,
    "filing_delay_days": 1,
    "lead_workload_30d": 1,
    "body_prior_nc": 1,
    "lead_prior_nc": 1,
    "consulting_prior_nc": 1,
}
BASE_LOGIT = float(np.log(0.05 / 0.95))


def _is_identity(column) -> bool:
    name = str(column).lower()
    return name == "id" or name.endswith("_id")


def _is_inspector(column) -> bool:
    return "inspector" in str(column).lower()


def feature_columns(frame: pd.DataFrame, features=None) -> list[str]:
    """The risk features of ``frame``: ``features`` if given (checked), else every usable column."""
    if features is not None:
        features = list(features)
        banned = [c for c in features if _is_inspector(c)]
        if banned:
            raise SamplingError(
                f"inspector identity is never a risk feature: drop {', '.join(map(str, banned))}"
            )
        reserved = [c for c in features if c in RESERVED_COLUMNS]
        if reserved:
            raise SamplingError(
                f"reserved column(s) cannot be risk features: {', '.join(map(str, reserved))}"
            )
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise SamplingError(f"feature column(s) missing: {', '.join(map(str, missing))}")
        return features
    return [
        c for c in frame.columns if c not in RESERVED_COLUMNS and not _is_identity(c) and not _is_inspector(c)
    ]


def split_types(frame: pd.DataFrame, features: list[str], what: str) -> tuple[list[str], list[str]]:
    """Split features into numeric and categorical columns (raising on text in a numeric feature)."""
    numeric, categorical = [], []
    for c in features:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            raise SamplingError(
                f"{what}: column '{c}' holds dates; give it as a number (e.g. days) or drop it"
            )
        if c in NUMERIC_FEATURES:
            numeric_column(frame, c, what)
            numeric.append(c)
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            numeric.append(c)
        else:
            categorical.append(c)
    return numeric, categorical


def _optional(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame.columns:
        return np.full(n, np.nan)
    return numeric_column(frame, column, "frame")


def top_reasons(
    strength: np.ndarray, codes: np.ndarray, texts: np.ndarray, n_reasons: int, minimum: float
) -> np.ndarray:
    """Per row, join the texts of the (at most ``n_reasons``) strongest entries above ``minimum``.

    ``strength`` is (rows, k) floats; ``codes`` (rows, k) or (k,) integer
    indices into ``texts``.  Strongest first, ties by column order.  Texts
    are built once per distinct combination, so a million rows cost little.
    """
    rows, k = strength.shape
    top = min(max(int(n_reasons), 0), k)
    if top == 0:
        return np.full(rows, "", dtype=object)
    s = np.array(strength, dtype=np.float64, order="C")  # a row-major copy, whatever the caller's layout
    s[~(s > minimum)] = -np.inf  # missing (NaN) is never above
    codes = np.broadcast_to(codes, (rows, k))
    idx = np.arange(rows)
    base = len(texts) + 1
    key = np.zeros(rows, dtype=np.int64)
    for _ in range(top):
        col = np.argmax(s, axis=1)  # the first of equal strengths: ties by column order
        ok = np.isfinite(s[idx, col])
        key = key * base + np.where(ok, codes[idx, col] + 1, 0)
        s[idx, col] = -np.inf
    keys, uniques = pd.factorize(key)
    out = []
    for u in uniques:
        parts = []
        while u:
            u, c = divmod(int(u), base)
            if c:
                parts.append(texts[c - 1])
        out.append("; ".join(reversed(parts)))
    return np.asarray(out, dtype=object)[keys]


def rule_score(frame: pd.DataFrame, *, n_reasons: int = 3) -> pd.DataFrame:
    """The documented rule score: a DataFrame (``risk``, ``reasons``) on ``frame``'s index."""
    n = len(frame)
    jump = _optional(frame, "grade_jump", n)
    pdr = _optional(frame, "person_days_ratio", n)
    late = _optional(frame, "filing_delay_days", n)
    load = _optional(frame, "lead_workload_30d", n)
    with np.errstate(invalid="ignore"):
        points = {
            "grade jump of 2 levels or more": np.where(jump >= 2, 1.0, 0.0),
            "person-days under half the minimum": np.where(pdr < 0.5, 1.5, 0.0),
            "person-days below the minimum": np.where((pdr >= 0.5) & (pdr < 1.0), 0.7, 0.0),
            "filed more than 30 days late": np.where(late > 30, 0.5, 0.0),
            "lead overloaded (8+ assessments in 30 days)": np.where(load >= 8, 0.5, 0.0),
        }
        for col, label in (
            ("body_prior_nc", "body's prior nonconformity"),
            ("lead_prior_nc", "lead's prior nonconformity"),
            ("consulting_prior_nc", "consulting body's prior nonconformity"),
        ):
            rate = np.clip(_optional(frame, col, n), 0.0, 1.0)
            points[label] = 4.0 * np.nan_to_num(rate, nan=0.0)
    labels = np.array(list(points), dtype=object)
    strength = np.column_stack(list(points.values()))
    logit = BASE_LOGIT + strength.sum(axis=1)
    risk = 1.0 / (1.0 + np.exp(-logit))
    # prior-rate points below 0.2 (a rate under 5 %) are not worth naming
    reasons = top_reasons(strength, np.arange(len(labels)), labels, n_reasons, minimum=0.19)
    return pd.DataFrame({"risk": risk, "reasons": reasons}, index=frame.index)
