"""Grades from scores: cut points, a hysteresis band around last month's grade, the
sanction cap, and NR below the evidence threshold.

Hysteresis: a subject keeps last month's grade while its score stays within that grade's
band widened by ``hysteresis_points`` on either side (config), so that a score wobbling
around a cut point does not flip the grade back and forth every month. A grade that was
set by the sanction cap (last month's row is ``sanctioned``) or NR is not kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import GRADES, NR, RatingConfig, RatingError

KEYS = ["subject_id", "subject_type"]
_RANK = {g: i for i, g in enumerate(GRADES)}


def previous_grade_index(previous: pd.DataFrame | None, subjects: pd.DataFrame) -> np.ndarray:
    """Per subject (rows of ``subjects``): last month's grade as 0 = AAA ... 4 = C, or -1
    (no previous rating, NR, or a grade set by the sanction cap)."""
    out = np.full(len(subjects), -1, dtype=np.int64)
    if previous is None:
        return out
    if not isinstance(previous, pd.DataFrame):
        raise RatingError(f"previous ratings must be a pandas DataFrame, got {type(previous).__name__}")
    missing = [c for c in [*KEYS, "grade"] if c not in previous.columns]
    if missing:
        raise RatingError(f"previous ratings: missing column(s) {', '.join(missing)}")
    grade = previous["grade"].astype(str)
    unknown = sorted(set(grade) - set(GRADES) - {NR})
    if unknown:
        raise RatingError(
            f"previous ratings: unknown grade(s) {unknown} (expected {', '.join(GRADES)} or NR)"
        )
    rank = grade.map(_RANK).fillna(-1).to_numpy(np.int64)
    if "sanctioned" in previous.columns:
        rank = np.where(previous["sanctioned"].fillna(False).to_numpy(bool), -1, rank)
    ptype = previous["subject_type"].astype(str).to_numpy()
    pid = previous["subject_id"].astype(str).str.strip().to_numpy()
    stype = subjects["subject_type"].to_numpy()
    for t in np.unique(stype):  # one hash lookup of ids per subject type
        mine = np.flatnonzero(ptype == t)
        ids = pd.Index(pid[mine])
        if ids.has_duplicates:
            raise RatingError("previous ratings: a subject appears more than once")
        rows = np.flatnonzero(stype == t)
        pos = ids.get_indexer(subjects["subject_id"].to_numpy()[rows])
        out[rows[pos >= 0]] = rank[mine[pos[pos >= 0]]]
    return out


def assign(
    score: np.ndarray,
    rated: np.ndarray,
    sanctioned: np.ndarray,
    previous: np.ndarray,
    config: RatingConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Grades (object array, NR where not ``rated``) and whether each grade was held from
    last month by the hysteresis band (``previous`` from :func:`previous_grade_index`)."""
    cuts = np.array([config.cut_points[g] for g in GRADES[:-1]])
    gidx = np.searchsorted(-cuts, -score, side="right")  # 0 = AAA ... 4 = C
    # band of grade i: [cuts[i] - margin, cuts[i - 1] + margin), open at AAA's top and C's bottom
    lower = np.append(cuts, -np.inf) - config.hysteresis_points
    upper = np.insert(cuts, 0, np.inf) + config.hysteresis_points
    prev = np.maximum(previous, 0)
    keep = (previous >= 0) & rated & (score >= lower[prev]) & (score < upper[prev])
    held = keep & (prev != gidx)
    gidx = np.where(keep, prev, gidx)
    gidx = np.where(sanctioned, np.maximum(gidx, GRADES.index(config.sanction_cap)), gidx)
    grade = np.where(rated, np.asarray(GRADES, dtype=object)[gidx], NR)
    return grade, held & ~sanctioned & rated
