"""The rating model: decayed evidence -> shrunk indicator rates -> score, interval, grade."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from .config import EVENT_CODE, EVENTS, GRADES, INDICATORS, NR, SUBJECT_TYPES, RatingConfig, RatingError
from .events import EventCounts, encode, format_period, parse_period
from .reasons import reasons
from .shrinkage import fit_beta_prior, posterior
from .strictness import fit_checker_effects

N_EVENTS = len(EVENTS)
N_TYPES = len(SUBJECT_TYPES)
SANCTION = EVENT_CODE["sanction"]


@dataclass(frozen=True, eq=False)
class Evidence:
    """Per-subject evidence at one period (arrays aligned with ``codes.subjects``)."""

    period: int
    exists: np.ndarray  # subject has an event on or before the period
    counts: np.ndarray  # (subjects, events) raw counts in the window
    decayed: np.ndarray  # (subjects, events) decayed counts in the window
    new: np.ndarray  # (subjects, events) counts in the rated month
    expired: np.ndarray  # (subjects, events) counts that left the window this month
    rows: np.ndarray  # positions of the window rows in codes
    weights: np.ndarray  # decayed weight of each window row


def gather(codes: EventCounts, period: int, config: RatingConfig) -> Evidence:
    age = period - codes.month.astype(np.int64)
    maxage = int(config.max_age_months)
    ns = codes.n_subjects
    exists = np.bincount(codes.subject[age >= 0], minlength=ns) > 0
    rows = np.flatnonzero((age >= 0) & (age <= maxage))
    a = age[rows]
    key = codes.subject[rows] * N_EVENTS + codes.event[rows]
    cnt = codes.n[rows]

    def table(k, wt):
        return np.bincount(k, weights=wt, minlength=ns * N_EVENTS).reshape(ns, N_EVENTS)

    gone = a == maxage
    expired = table(key[gone], cnt[gone])
    live = ~gone
    decay = 0.5 ** (np.arange(maxage + 1) / config.half_life_months)
    rows, a, key, cnt = rows[live], a[live], key[live], cnt[live]
    w = cnt * decay[a]
    now = a == 0
    return Evidence(
        period=period,
        exists=exists,
        counts=table(key, cnt),
        decayed=table(key, w),
        new=table(key[now], cnt[now]),
        expired=expired,
        rows=rows,
        weights=w,
    )


class Rater:
    """Monthly credit rating of assessment bodies, consulting bodies and their staff.

    Parameters
    ----------
    config : RatingConfig, optional
        Method parameters (decay, severities, weights, cut points, thresholds).
    correct_strictness : bool, default True
        Estimate each checker's strictness and take it out of the subjects' outcomes.

    Attributes (after ``fit``)
    --------------------------
    period_ : str
        The month the model was fitted for.
    priors_ : DataFrame
        Beta prior (alpha, beta, mean, strength) per subject type and criterion.
    checker_strictness_ : DataFrame
        Per checker: effect per checked criterion (+ means records bad outcomes more
        often than average for the same subjects) and the decayed number of checks.
    criteria_ : list of Criterion
    """

    def __init__(self, config: RatingConfig | None = None, *, correct_strictness: bool = True):
        self.config = config
        self.correct_strictness = correct_strictness

    # -- sklearn-style API -------------------------------------------------
    def fit(self, events, period) -> Rater:
        """Learn the priors and checker strictness from ``events`` as of ``period`` (YYYY-MM)."""
        codes = encode(events)
        p = parse_period(period)
        self._fit(codes, gather(codes, p, self._config()), p)
        return self

    def transform(self, events, period=None) -> pd.DataFrame:
        """Rate every subject in ``events`` at ``period`` (default: the fitted one)."""
        self._check_fitted()
        codes = encode(events)
        p = parse_period(period) if period is not None else parse_period(self.period_)
        return self._rate(codes, gather(codes, p, self._config()))

    def fit_transform(self, events, period) -> pd.DataFrame:
        codes = encode(events)
        p = parse_period(period)
        ev = gather(codes, p, self._config())
        self._fit(codes, ev, p)
        return self._rate(codes, ev)

    # -- internals ---------------------------------------------------------
    def _config(self) -> RatingConfig:
        cfg = self.config if self.config is not None else RatingConfig()
        if not isinstance(cfg, RatingConfig):
            raise RatingError(f"config must be a RatingConfig, got {type(cfg).__name__}")
        return cfg

    def _check_fitted(self) -> None:
        if not hasattr(self, "priors_"):
            raise RatingError("this Rater is not fitted yet: call fit(events, period) first")

    def _criterion_counts(self, codes: EventCounts, ev: Evidence, strictness: np.ndarray | None):
        """(x, n) per criterion: decayed bad and opportunity counts, checker-corrected."""
        xs, ns_ = [], []
        checked_rows = None
        if strictness is not None:
            sel = codes.checker[ev.rows] >= 0
            checked_rows = (ev.rows[sel], ev.weights[sel])
        for j, c in enumerate(self.criteria_):
            bad = [EVENT_CODE[e] for e in c.bad]
            clean = [EVENT_CODE[e] for e in c.clean]
            x = ev.decayed[:, bad].sum(axis=1)
            n = x + ev.decayed[:, clean].sum(axis=1)
            if c.checked and checked_rows is not None and strictness.shape[0]:
                r, w = checked_rows
                member = np.isin(codes.event[r], bad + clean)
                corr = np.bincount(
                    codes.subject[r[member]],
                    weights=w[member] * strictness[codes.checker[r[member]], j],
                    minlength=codes.n_subjects,
                )
                x = np.clip(x - corr, 0.0, n)
            xs.append(x)
            ns_.append(n)
        return np.column_stack(xs), np.column_stack(ns_)

    def _fit(self, codes: EventCounts, ev: Evidence, period: int) -> None:
        cfg = self._config()
        self.criteria_ = cfg.criteria()
        self.period_ = format_period(period)
        stype = codes.subject_type_codes()
        nc = codes.n_checkers
        effects = np.zeros((nc, len(self.criteria_)))
        checks = np.zeros(nc)
        if self.correct_strictness and nc:
            sel = codes.checker[ev.rows] >= 0
            r, w = ev.rows[sel], ev.weights[sel]
            # fit on one subject type only, so that a case held against several subjects
            # counts once: the type with the most checked evidence (normally the bodies)
            tw = np.bincount(stype[codes.subject[r]], weights=w, minlength=N_TYPES)
            ref = stype[codes.subject[r]] == int(np.argmax(tw))
            r, w = r[ref], w[ref]
            checks = np.bincount(codes.checker[r], weights=w, minlength=nc)
            for j, c in enumerate(self.criteria_):
                if not c.checked:
                    continue
                bad = [EVENT_CODE[e] for e in c.bad]
                member = np.isin(codes.event[r], bad + [EVENT_CODE[e] for e in c.clean])
                rr = r[member]
                effects[:, j] = fit_checker_effects(
                    codes.subject[rr],
                    codes.checker[rr],
                    np.isin(codes.event[rr], bad).astype(np.float64),
                    w[member],
                    codes.n_subjects,
                    nc,
                    prior=cfg.strictness_prior,
                    iterations=cfg.strictness_iterations,
                )
        names = [c.name for c in self.criteria_]
        self.checker_strictness_ = pd.DataFrame(effects, index=pd.Index(codes.checkers, name="checker_id"), columns=names)
        self.checker_strictness_ = self.checker_strictness_.loc[:, [c.name for c in self.criteria_ if c.checked]]
        self.checker_strictness_["checks"] = checks
        x, n = self._criterion_counts(codes, ev, effects if self.correct_strictness else None)
        live = ev.exists
        alpha = np.empty((N_TYPES, len(self.criteria_)))
        beta = np.empty_like(alpha)
        for j in range(len(self.criteria_)):
            alpha[:, j], beta[:, j] = fit_beta_prior(
                x[live, j],
                n[live, j],
                stype[live],
                N_TYPES,
                min_strength=cfg.min_prior_strength,
                max_strength=cfg.max_prior_strength,
            )
        idx = pd.MultiIndex.from_product([SUBJECT_TYPES, names], names=["subject_type", "criterion"])
        self.priors_ = pd.DataFrame(
            {"alpha": alpha.ravel(), "beta": beta.ravel()},
            index=idx,
        )
        self.priors_["mean"] = self.priors_["alpha"] / (self.priors_["alpha"] + self.priors_["beta"])
        self.priors_["strength"] = self.priors_["alpha"] + self.priors_["beta"]

    def _strictness_for(self, codes: EventCounts) -> np.ndarray | None:
        if not self.correct_strictness:
            return None
        names = [c.name for c in self.criteria_]
        eff = self.checker_strictness_.reindex(index=codes.checkers, columns=names).fillna(0.0)
        return eff.to_numpy(np.float64)

    def _rate(self, codes: EventCounts, ev: Evidence) -> pd.DataFrame:
        cfg = self._config()
        crit = self.criteria_
        x, n = self._criterion_counts(codes, ev, self._strictness_for(codes))
        stype = codes.subject_type_codes()
        names = [c.name for c in crit]
        alpha = self.priors_["alpha"].to_numpy().reshape(N_TYPES, len(crit))
        beta = self.priors_["beta"].to_numpy().reshape(N_TYPES, len(crit))
        mean, var = posterior(x, n, alpha[stype], beta[stype])
        prior_mean = (alpha / (alpha + beta))[stype]
        step = np.array([c.step * cfg.indicator_weights[c.indicator] for c in crit])
        ind_of = np.array([INDICATORS.index(c.indicator) for c in crit])
        onehot = np.eye(len(INDICATORS))[ind_of]  # (criteria, indicators)
        contrib = -(mean * step) @ onehot
        middle = -(prior_mean * step) @ onehot
        lost = -contrib.sum(axis=1)
        scale = np.where(lost > cfg.base, cfg.base / np.maximum(lost, 1e-300), 1.0)
        contrib *= scale[:, None]
        middle_scale = np.minimum(1.0, cfg.base / np.maximum(-middle.sum(axis=1), 1e-300))
        middle *= middle_scale[:, None]
        score = cfg.base + contrib.sum(axis=1)
        sd = np.sqrt((var * step**2).sum(axis=1)) * scale
        z = NormalDist().inv_cdf(0.5 + cfg.interval / 2)
        low = np.clip(score - z * sd, 0.0, cfg.base)
        high = np.clip(score + z * sd, 0.0, cfg.base)

        not_sanction = np.arange(N_EVENTS) != SANCTION
        eff_n = ev.decayed[:, not_sanction].sum(axis=1)
        sanctioned = ev.counts[:, SANCTION] > 0
        cuts = np.array([cfg.cut_points[g] for g in GRADES[:-1]])
        gidx = np.searchsorted(-cuts, -score, side="right")  # 0 = AAA ... 4 = C
        gidx = np.where(sanctioned, np.maximum(gidx, GRADES.index(cfg.sanction_cap)), gidx)
        rated = eff_n >= cfg.min_effective_n
        grade = np.where(rated, np.asarray(GRADES, dtype=object)[gidx], NR)

        sev = np.array([cfg.severity.get(e, 0.0) for e in EVENTS])
        n_ev = ev.counts[:, not_sanction].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            raw_rate = np.where(n_ev > 0, ev.counts @ sev / np.where(n_ev > 0, n_ev, 1.0), np.nan)

        keep = np.flatnonzero(ev.exists)
        out = codes.subjects.iloc[keep].reset_index(drop=True)
        out["period"] = format_period(ev.period)
        nan = np.where(rated, 1.0, np.nan)[keep]
        out["score"] = score[keep] * nan
        out["score_low"] = low[keep] * nan
        out["score_high"] = high[keep] * nan
        out["grade"] = grade[keep]
        out["effective_n"] = eff_n[keep]
        out["sanctioned"] = sanctioned[keep]
        out["base"] = cfg.base
        for k, ind in enumerate(INDICATORS):
            out[f"contrib_{ind}"] = contrib[keep, k] * nan
            out[f"peer_{ind}"] = middle[keep, k]
        out["n_events"] = n_ev[keep]
        out["raw_bad_rate"] = raw_rate[keep]
        for j, name in enumerate(names):
            out[f"rate_{name}"] = mean[keep, j]
        zh, en = reasons(out, ev.counts[keep], cfg)
        out["reasons_zh"] = zh
        out["reasons_en"] = en
        out["top_reason"] = [r[0] for r in zh]
        out["top_reason_en"] = [r[0] for r in en]
        out["contributions"] = contributions_column(out)
        out["events_new"] = _event_dicts(ev.new[keep])
        out["events_expired"] = _event_dicts(ev.expired[keep])
        return out


def contributions_column(out: pd.DataFrame) -> list:
    """Per row {indicator: points} (None for NR); base + sum == score."""
    vals = out[[f"contrib_{i}" for i in INDICATORS]].to_numpy()
    rated = out["grade"].to_numpy() != NR
    return [dict(zip(INDICATORS, map(float, v), strict=True)) if r else None for v, r in zip(vals, rated, strict=True)]


def _event_dicts(table: np.ndarray) -> list:
    names = np.asarray(EVENTS, dtype=object)
    out = []
    for row in table:
        nz = np.flatnonzero(row)
        out.append({names[i]: float(row[i]) for i in nz})
    return out


def rate(events, period, config: RatingConfig | None = None, **kwargs) -> pd.DataFrame:
    """Fit a :class:`Rater` at ``period`` and rate every subject (convenience)."""
    return Rater(config, **kwargs).fit_transform(events, period)
