"""The joint fit of the checks: where events carry case_id, one additive model per checked
criterion over everyone named on a check (assessment body, lead, members, consulting body,
consultant) and its checker (rating/strictness.py ``fit_joint``), and (``joint_unchecked``)
one per unchecked criterion (complaints) over everyone named on a case's event.

A subject's marginal bad rate mixes its own effect with its cases' other parties': a
consulting body that works with weak assessment bodies in a strict checker's region looks
bad on its own rates. In the joint fit each subject's effect is what its checks did beyond
what the other parties on them and the checker explain, shrunk to 0 by a ridge penalty per
subject type: the type's empirical-Bayes prior strength (plus 1) for the criterion, pooled
over the jointly fitted criteria the type has bad outcomes in (geometric mean).
The bodies' jointly fitted criteria are then the type's average plus the body's joint
effect plus (``joint_body_staff``) its staff's effects on its cases; an assessor's level
(the ``person_body_share`` part of its rating) is its bodies' joint effects, and a
consultant's (``joint_person_own``) too, its own deviation then being its own joint
effect. Counts (auditbo's aggregated input) carry no case_id: they are rated without it,
as before.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .config import EVENT_CODE, SUBJECT_TYPES
from .events import PERSON_BODY, EventCounts
from .evidence import N_EVENTS, Evidence
from .shrinkage import fit_beta_prior
from .strictness import fit_joint

N_TYPES = len(SUBJECT_TYPES)
_CASE_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def case_codes(codes: EventCounts) -> np.ndarray | None:
    """Per row: a code of its case_id (-1: none), or None without case ids (remembered per
    encoded events)."""
    if codes.case is None:
        return None
    if codes not in _CASE_MEMO:
        case, _ = pd.factorize(pd.Series(codes.case, dtype=object), use_na_sentinel=True)
        _CASE_MEMO[codes] = case.astype(np.int64) if (case >= 0).any() else None
    return _CASE_MEMO[codes]


_ROWS_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FIT_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_rows(codes: EventCounts, ev: Evidence, case: np.ndarray, c):
    """(unit, subject, y, w, checker of unit) of criterion ``c``'s checked rows that name a
    case: one unit per check (case, checker, month), held against everyone on it
    (remembered per evidence and criterion: a fit and its rating share them)."""
    memo = _ROWS_MEMO.setdefault(ev, {})
    if c.name not in memo:
        memo[c.name] = _check_rows(codes, ev, case, c)
    return memo[c.name]


def _check_rows(codes: EventCounts, ev: Evidence, case: np.ndarray, c):
    r, w = ev.rows, ev.weights
    events = [EVENT_CODE[e] for e in (*c.bad, *c.clean)]
    sel = (case[r] >= 0) & np.isin(codes.event[r], events) & (w > 0)
    if c.checked:
        sel &= codes.checker[r] >= 0
    if not sel.any():
        return None
    r, w = r[sel], w[sel]
    month = codes.month[r].astype(np.int64)
    span = int(month.max() - month.min()) + 1
    # a unit: one check (case, checker, month); an unchecked criterion's (complaints): one
    # event of a case in a month (case, event, month), with no checker (all of code 0)
    by = codes.checker[r] if c.checked else codes.event[r].astype(np.int64)
    key = (case[r] * (max(codes.n_checkers, N_EVENTS) + 1) + by) * span + (month - month.min())
    _, first, unit = np.unique(key, return_index=True, return_inverse=True)
    y = np.isin(codes.event[r], [EVENT_CODE[e] for e in c.bad]).astype(np.float64)
    chk = codes.checker[r][first] if c.checked else np.zeros(len(first), dtype=np.int64)
    return unit.ravel(), codes.subject[r], y, w, chk


def _joint(c, cfg) -> bool:
    """Whether criterion ``c`` is fitted jointly: the checked ones, and the unchecked ones
    whose indicator ``joint_unchecked`` names (complaints)."""
    return c.checked or c.indicator in cfg.joint_unchecked


def fit_penalties(codes: EventCounts, ev: Evidence, criteria, cfg, correct_strictness: bool):
    """Per type and criterion the ridge penalties, and per checker and criterion its
    strictness from the joint fit (None, None without case ids or checkers)."""
    case = case_codes(codes) if cfg.joint_fit else None
    nc = codes.n_checkers
    if case is None or not nc:
        return None, None
    stype = codes.subject_type_codes()
    lam = np.zeros((N_TYPES, len(criteria)))
    effects = np.zeros((nc, len(criteria)))
    checked, unchecked = [], []
    has = np.zeros((N_TYPES, len(criteria)), dtype=bool)  # type has bad outcomes there
    fit = dict(checker_prior=cfg.strictness_prior, iterations=cfg.joint_iterations, group_of=stype)
    fixed = None if correct_strictness else np.zeros(nc)
    for j, c in enumerate(criteria):
        rows = check_rows(codes, ev, case, c) if _joint(c, cfg) else None
        if rows is None:
            continue
        (checked if c.checked else unchecked).append(j)
        has[:, j] = bad_types(rows, stype)
        bad = [EVENT_CODE[e] for e in c.bad]
        x = ev.decayed[:, bad].sum(axis=1)
        n = x + ev.decayed[:, [EVENT_CODE[e] for e in c.clean]].sum(axis=1)
        a0, b0 = fit_beta_prior(
            x, n, stype, N_TYPES, min_strength=cfg.min_prior_strength, max_strength=cfg.max_prior_strength
        )
        lam[:, j] = a0 + b0 + 1.0
        if cfg.joint_eb:
            lam[:, j] = fit_joint(*rows, codes.n_subjects, nc, lam[:, j], checker_effects=fixed, **fit)[3]
    if not checked:
        return None, None
    # one penalty per type, the geometric mean over the jointly fitted criteria it has bad
    # outcomes in (without any, a criterion's estimate says nothing of the spread): a sparse
    # criterion's own estimate wobbles month to month (complaints most), and a type's
    # criteria move together; a marginal estimate also counts the other parties' spread as
    # the type's (a consultancy's complaints are mostly its partners')
    fitted = [*checked, *unchecked]
    k = has[:, fitted].sum(axis=1)
    logs = np.where(has[:, fitted], np.log(np.maximum(lam[:, fitted], 1e-9)), 0.0)
    pooled = np.exp(logs.sum(axis=1) / np.maximum(k, 1))
    lam[:, fitted] = np.where(k[:, None] > 0, pooled[:, None], lam[:, fitted])
    for j in fitted:
        c = criteria[j]
        rows = check_rows(codes, ev, case, c)
        if c.checked:
            e, v, effects[:, j], _ = fit_joint(
                *rows, codes.n_subjects, nc, lam[:, j], checker_effects=fixed, eb=False, **fit
            )
        else:
            e, v, _, _ = fit_joint(
                *rows, codes.n_subjects, 1, lam[:, j], checker_effects=np.zeros(1), eb=False, **fit
            )
        # the rating of this evidence with these penalties is this fit: remembered for it
        _FIT_MEMO.setdefault(ev, {})[(c.name, correct_strictness)] = (e, v, lam[:, j].copy())
    return lam, effects


def bad_types(rows, stype: np.ndarray) -> np.ndarray:
    """Per subject type: whether any of its rows in a joint fit's ``rows`` is a bad
    outcome, i.e. whether the criterion applies to the type at all (complaints never name
    a consultant)."""
    out = np.zeros(N_TYPES, dtype=bool)
    out[np.unique(stype[rows[1][rows[2] > 0]])] = True
    return out


def joint_effects(
    codes: EventCounts, ev: Evidence, criteria, lam, strictness, iterations: int, with_staff=()
):
    """Per subject and jointly fitted criterion: its joint effect on the bad rate (NaN where
    it has no case there), the effect's posterior variance, for the bodies of a type in
    ``with_staff`` their staff's part (staff_effects; 0 elsewhere), and per type whether
    the criterion applies to it (bad_types; True where not fitted jointly); None without
    case ids. A type a criterion does not apply to stays in its fit (a consultant's clean
    checks are its consultancy's too, and its term keeps them apart) but takes nothing
    from it (override)."""
    case = case_codes(codes)
    if lam is None or case is None:
        return None
    stype = codes.subject_type_codes()
    ns = codes.n_subjects
    eff = np.full((ns, len(criteria)), np.nan)
    var = np.full_like(eff, np.nan)
    staff = np.zeros_like(eff)
    applies = np.ones((N_TYPES, len(criteria)), dtype=bool)
    for j, c in enumerate(criteria):
        # an unchecked criterion is in the joint fit where fit_penalties gave it a penalty
        rows = check_rows(codes, ev, case, c) if c.checked or lam[:, j].any() else None
        if rows is None:
            continue
        applies[:, j] = bad_types(rows, stype)
        hit = _FIT_MEMO.get(ev, {}).get((c.name, strictness is not None))
        if hit is not None and np.array_equal(hit[2], lam[:, j]):
            e, v = hit[0], hit[1]
            has = np.bincount(rows[1], minlength=ns) > 0
            eff[has, j], var[has, j] = e[has], v[has]
            staff[has, j] = staff_effects(e, rows, stype, with_staff)[has]
            continue
        nc = codes.n_checkers if c.checked else 1
        fixed = strictness[:, j] if strictness is not None and c.checked else np.zeros(nc)
        e, v, _, _ = fit_joint(
            *rows,
            ns,
            nc,
            lam[:, j],
            group_of=stype,
            checker_effects=fixed,
            iterations=iterations,
            eb=False,
        )
        has = np.bincount(rows[1], minlength=ns) > 0
        eff[has, j], var[has, j] = e[has], v[has]
        staff[has, j] = staff_effects(e, rows, stype, with_staff)[has]
    return eff, var, staff, applies


def staff_effects(e: np.ndarray, rows, stype: np.ndarray, bodies) -> np.ndarray:
    """Per body of a type in ``bodies``: the weighted mean over its checks of the joint
    effects of its staff named on them (the persons PERSON_BODY links to its type; 0
    elsewhere). The ridge splits a case between a body and its staff in proportion to
    their penalties: a consultancy of one consultant leaves about half of its effect to
    him, one of many keeps nearly all; with its staff's part added, a body's effect is what
    a case of this body is expected to do beyond the others on it, whoever of it worked
    on the case."""
    if not bodies:
        return np.zeros_like(e)
    unit, subject, _, w, _ = rows
    out = np.zeros_like(e)
    st = stype[subject]
    n_units = int(unit.max()) + 1
    for person, body in PERSON_BODY.items():
        if body not in bodies:
            continue
        p, b = SUBJECT_TYPES.index(person), SUBJECT_TYPES.index(body)
        on_unit = np.bincount(unit, weights=np.where(st == p, e[subject], 0.0), minlength=n_units)
        sel = st == b
        num = np.bincount(subject[sel], weights=w[sel] * on_unit[unit[sel]], minlength=len(e))
        den = np.bincount(subject[sel], weights=w[sel], minlength=len(e))
        out = np.where(den > 0, out + num / np.where(den > 0, den, 1.0), out)
    return out


def override(
    ev: Evidence, stype, mean, var, prior_mean, eff, jvar, staff, applies, person_level, person_own=()
):
    """The bodies' jointly fitted criteria: the type's average plus the body's effect plus
    its ``staff`` part (staff_effects); per person of a type in ``person_level`` or
    ``person_own`` the level of its bodies there: its type's average plus its linked bodies'
    own effects, weighted by its rows linked to each (NaN where unknown or for the other
    persons); and per person of a type in ``person_own`` its own joint effect (its
    deviation beyond that level; NaN elsewhere). Where a criterion does not apply to a
    subject's type (``applies``) the subject has no deviation of its own there and no
    variance; a person keeps its bodies' level (``person_body_share`` of it reaches its
    score, as for every criterion), nothing more."""
    person = np.isin(stype, [SUBJECT_TYPES.index(t) for t in PERSON_BODY])[:, None]
    mine = np.isin(stype, [SUBJECT_TYPES.index(t) for t in person_own])[:, None]
    own = np.where(mine & np.isfinite(eff), eff, np.nan)
    ok = np.isfinite(eff) & ~person
    body_mean = np.where(ok, np.clip(prior_mean + eff + staff, 0.0, 1.0), mean)
    level = np.full_like(eff, np.nan)
    if ev.affiliation is not None:
        a = ev.affiliation
        known = np.asarray(a @ np.isfinite(eff).astype(np.float64))
        tot = np.asarray(a.sum(axis=1)).ravel()[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = np.asarray(a @ np.nan_to_num(eff)) / known
        joint_types = {*person_level, *person_own}
        use = np.isin(stype, [SUBJECT_TYPES.index(t) for t in joint_types])[:, None]
        use = use & (known > 0) & (known >= 0.5 * tot)
        level = np.where(use, prior_mean + avg, np.nan)
    off = ~applies[stype]
    body_mean = np.where(off, prior_mean, body_mean)
    own = np.where(off & person, 0.0, own)  # the level (its bodies' part) stays, as everywhere
    return body_mean, np.where(off, 0.0, np.where(ok, jvar, var)), level, own
