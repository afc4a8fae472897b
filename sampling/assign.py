"""assign: k inspectors per check, drawn at random, recusals excluded, load balanced.

For each check the eligible inspectors are those not recused from any party
of the check (its ``body_id``, ``consulting_body_id`` or ``enterprise_id``
appears with the inspector in the recusals; the look-back window is applied
by whoever builds that list), optionally not from the check's province, and
below their ``capacity`` (when given).  Checks are served most-constrained
first (fewest eligible inspectors, ties in a seeded random order); each takes
the ``k`` eligible inspectors with the lowest current load, ties broken by a
fresh seeded random key, so the draw is random *and* the load stays level
(max - min load ≤ 1 when nobody is recused).  Same inputs and seed: same
assignment.  A check left with fewer than ``k`` eligible inspectors is an
error naming the check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import SamplingError, as_frame, check_seed, numeric_column, require_columns

__all__ = ["assign_inspectors"]

PARTY_COLUMNS = ("body_id", "consulting_body_id", "enterprise_id")


def _text(values) -> np.ndarray:
    s = pd.Series(values)
    if pd.api.types.is_float_dtype(s) and s.notna().all() and np.all(np.mod(s.to_numpy(), 1) == 0):
        s = s.astype("int64")
    return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v)).to_numpy()


def assign_inspectors(
    checks: pd.DataFrame,
    inspectors: pd.DataFrame,
    *,
    per_check: int = 2,
    random_state: int,
    recusals: pd.DataFrame | None = None,
    exclude_same_province: bool = False,
) -> pd.DataFrame:
    """One row per assignment: ``check_id``, ``inspector_id`` (checks in their given order)."""
    checks = as_frame(checks, "checks")
    inspectors = as_frame(inspectors, "inspectors")
    require_columns(checks, ["check_id", "body_id"], "checks")
    require_columns(inspectors, ["inspector_id"], "inspectors")
    seed = check_seed(random_state)
    if isinstance(per_check, bool) or int(per_check) != per_check or per_check < 2:
        raise SamplingError(
            f"per_check must be an integer of at least 2 (two inspectors per check), got {per_check!r}"
        )
    k = int(per_check)
    check_ids = _text(checks["check_id"])
    if pd.Series(check_ids).duplicated().any():
        raise SamplingError(
            f"checks: check_id {pd.Series(check_ids)[pd.Series(check_ids).duplicated()].iloc[0]!r} repeats"
        )
    insp_ids = _text(inspectors["inspector_id"])
    if any(v is None for v in insp_ids) or pd.Series(insp_ids).duplicated().any():
        raise SamplingError("inspectors: inspector_id must be present and unique")
    order_insp = np.argsort(insp_ids.astype(str), kind="stable")
    insp_ids = insp_ids[order_insp]
    n_insp = len(insp_ids)
    position = {v: i for i, v in enumerate(insp_ids)}
    if "capacity" in inspectors.columns:
        capacity = numeric_column(inspectors, "capacity", "inspectors")[order_insp]
        capacity = np.where(np.isnan(capacity), np.inf, capacity)
        if np.any(capacity < 0):
            raise SamplingError("inspectors: capacity must not be negative")
    else:
        capacity = np.full(n_insp, np.inf)
    insp_prov = _text(inspectors["province"])[order_insp] if "province" in inspectors.columns else None
    if exclude_same_province and (insp_prov is None or "province" not in checks.columns):
        raise SamplingError("excluding the same province needs a province column in checks and inspectors")

    ties: dict[str, set] = {}
    if recusals is not None and len(recusals):
        require_columns(recusals, ["inspector_id", "party_id"], "recusals")
        for i, p in zip(_text(recusals["inspector_id"]), _text(recusals["party_id"]), strict=True):
            if i in position and p is not None:
                ties.setdefault(p, set()).add(position[i])

    n_checks = len(checks)
    eligible = np.ones((n_checks, n_insp), dtype=bool)
    parties = [c for c in PARTY_COLUMNS if c in checks.columns]
    party_values = {c: _text(checks[c]) for c in parties}
    for r in range(n_checks):
        for c in parties:
            v = party_values[c][r]
            if v is not None and v in ties:
                eligible[r, list(ties[v])] = False
    if exclude_same_province:
        check_prov = _text(checks["province"])
        eligible &= check_prov[:, None] != insp_prov[None, :]

    rng = np.random.default_rng(seed)
    counts = eligible.sum(axis=1)
    # most constrained first; ties in a seeded random order
    serve = np.lexsort((rng.random(n_checks), counts))
    load = np.zeros(n_insp)
    picked: list[np.ndarray] = [np.empty(0, dtype=int)] * n_checks
    for r in serve:
        ok = eligible[r] & (load < capacity)
        cand = np.flatnonzero(ok)
        if len(cand) < k:
            why = f"{n_insp - int(eligible[r].sum())} recused or excluded, {int((eligible[r] & ~ok).sum())} at capacity"
            raise SamplingError(
                f"check {check_ids[r]}: only {len(cand)} eligible inspector(s) for {k} required ({why})"
            )
        keys = np.lexsort((rng.random(len(cand)), load[cand]))
        chosen = cand[keys[:k]]
        load[chosen] += 1
        picked[r] = chosen
    rows_check = np.repeat(check_ids, k)
    rows_insp = np.concatenate([insp_ids[p] for p in picked])
    return pd.DataFrame({"check_id": rows_check, "inspector_id": rows_insp})
