"""Checker strictness: tell a strict or lenient checker apart from a bad or good subject.

For each checked criterion (e.g. "spot check found at least a minor finding") the outcome
y of a check is modelled additively, y = mu + subject effect + checker effect + noise, and
fitted by alternating shrunk means (backfitting), fully vectorised with ``np.bincount``.
The checker effect is how much more often than average this checker records the bad
outcome for the same subjects; subtracting it from the subject's bad count keeps a harsh
or a soft checker from moving the subject's rating.
"""

from __future__ import annotations

import numpy as np

from .config import EVENT_CODE

SUBJECT_PRIOR = 5.0


def fit_checker_effects(
    subject: np.ndarray,
    checker: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_subjects: int,
    n_checkers: int,
    *,
    prior: float = 20.0,
    iterations: int = 8,
) -> np.ndarray:
    """Checker effects (rate units, weighted mean 0) from checks y in {0, 1} with weights w.

    Each round works on the subjects present (renumbered 0.., usually far fewer than
    ``n_subjects``) and subtracts the other side's effects from the residuals' sums
    ``rs``, ``rc``, computed once. Sums over the rows are numpy's, not BLAS ``dot``: a
    threaded BLAS spins its threads on a busy machine for no gain at these sizes."""
    b = np.zeros(n_checkers)
    if n_checkers == 0 or w.sum() <= 0:
        return b
    mu = float((w * y).sum() / w.sum())
    present = np.bincount(subject, minlength=n_subjects) > 0
    s = (np.cumsum(present) - 1)[subject]
    m = int(present.sum())
    r = w * (y - mu)
    ws = np.bincount(s, weights=w, minlength=m)
    wc = np.bincount(checker, weights=w, minlength=n_checkers)
    rs = np.bincount(s, weights=r, minlength=m)
    rc = np.bincount(checker, weights=r, minlength=n_checkers)
    a = rs / (ws + SUBJECT_PRIOR)
    for i in range(iterations):
        if i:
            a = (rs - np.bincount(s, weights=w * b[checker], minlength=m)) / (ws + SUBJECT_PRIOR)
        b = (rc - np.bincount(checker, weights=w * a[s], minlength=n_checkers)) / (wc + prior)
        b -= np.dot(wc, b) / wc.sum()
    return b


def fit_joint(
    unit: np.ndarray,
    subject: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    checker_of_unit: np.ndarray,
    n_subjects: int,
    n_checkers: int,
    lam: np.ndarray,
    *,
    group_of: np.ndarray,
    checker_effects: np.ndarray | None = None,
    checker_prior: float = 20.0,
    iterations: int = 12,
    eb: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One additive model of the checks' outcomes over everyone named on them.

    Rows are (check, subject) pairs: a check ``unit`` with outcome ``y`` (1 bad, 0 clean),
    weight ``w`` (decay) and checker ``checker_of_unit[unit]`` is held against every
    subject named on it (assessment body, lead, members, consulting body, consultant).
    The outcome is modelled as y = mu + checker effect + the sum of the effects of the
    subjects named on the check, each subject's effect shrunk to 0 by a ridge penalty
    ``lam[group_of[subject]]`` (group: the subject's type), fitted by block Gauss-Seidel backfitting
    (one type at a time). So a consulting body is compared with what its cases' assessment
    bodies, staff and checkers lead one to expect, and vice versa.

    ``eb``: re-estimate each group's penalty as sigma^2 / tau^2 from the effects (an
    empirical-Bayes EM step per round; sigma^2 the outcomes' variance). ``checker_effects`` given:
    kept fixed (a month rated with another month's checkers).

    Returns (subject effects, their posterior variances, checker effects, penalties)."""
    lam = np.asarray(lam, dtype=np.float64).copy()
    e = np.zeros(n_subjects)
    var = np.zeros(n_subjects)
    c = np.zeros(n_checkers) if checker_effects is None else np.asarray(checker_effects, dtype=np.float64)
    if w.sum() <= 0:
        return e, var, c, lam
    n_units = int(unit.max()) + 1
    wu = np.zeros(n_units)
    yu = np.zeros(n_units)
    np.maximum.at(wu, unit, w)
    yu[unit] = y
    mu = float(np.dot(wu, yu) / wu.sum())
    sigma2 = max(float(np.dot(wu, (yu - mu) ** 2) / wu.sum()), 1e-6)  # mu (1 - mu) for 0/1
    ws = np.bincount(subject, weights=w, minlength=n_subjects)
    wc = np.bincount(checker_of_unit, weights=wu, minlength=n_checkers)
    group = group_of[subject]
    groups = np.unique(group)
    rows_of = {g: np.flatnonzero(group == g) for g in groups}
    total = np.zeros(n_units)
    for _ in range(iterations):
        total = np.bincount(unit, weights=e[subject], minlength=n_units)
        if checker_effects is None:
            c = np.bincount(checker_of_unit, weights=wu * (yu - mu - total), minlength=n_checkers) / (
                wc + checker_prior
            )
            c -= np.dot(wc, c) / max(wc.sum(), 1e-12)
        base = yu - mu - c[checker_of_unit]
        for g in groups:
            r = rows_of[g]
            s = subject[r]
            old = e[s]
            resid = base[unit[r]] - total[unit[r]] + old
            num = np.bincount(s, weights=w[r] * resid, minlength=n_subjects)
            den = ws + lam[g]
            mask = np.zeros(n_subjects, dtype=bool)
            mask[s] = True
            new = np.where(mask, num / den, e)
            total += np.bincount(unit[r], weights=new[s] - old, minlength=n_units)
            e = new
            if eb:
                m = mask
                v = sigma2 / den[m]
                tau2 = float(np.mean(e[m] ** 2 + v))
                lam[g] = float(np.clip(sigma2 / max(tau2, 1e-9), 1.0, 1e5))
    for g in groups:
        m = np.zeros(n_subjects, dtype=bool)
        m[subject[rows_of[g]]] = True
        var[m] = sigma2 / (ws[m] + lam[g])
    return e, var, c, lam


def checker_fit(codes, ev, criteria, cfg, stype, *, skip: bool):
    """Per checker: the decayed number of checks, and (unless ``skip``: the joint fit gave
    them) its strictness per checked criterion from the subjects of one type only, so that
    a case held against several subjects counts once: the assessment bodies (every check
    concerns one), or failing them the type with the most checked evidence."""
    nc = codes.n_checkers
    effects = np.zeros((nc, len(criteria)))
    sel = codes.checker[ev.rows] >= 0
    r, w = ev.rows[sel], ev.weights[sel]
    tw = np.bincount(stype[codes.subject[r]], weights=w, minlength=int(stype.max()) + 1)
    ref = stype[codes.subject[r]] == (0 if tw[0] > 0 else int(np.argmax(tw)))
    r, w = r[ref], w[ref]
    checks = np.bincount(codes.checker[r], weights=w, minlength=nc)
    for j, c in enumerate(criteria):
        if skip or not c.checked:
            continue
        bad = [EVENT_CODE[e] for e in c.bad]
        member = np.isin(codes.event[r], bad + [EVENT_CODE[e] for e in c.clean])
        rr = r[member]
        y = np.isin(codes.event[rr], bad).astype(np.float64)
        effects[:, j] = fit_checker_effects(
            codes.subject[rr], codes.checker[rr], y, w[member], codes.n_subjects, nc,
            prior=cfg.strictness_prior, iterations=cfg.strictness_iterations,
        )  # fmt: skip
    return checks, effects
