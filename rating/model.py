"""The rating model: decayed evidence -> shrunk indicator rates -> score, interval, grade.

- Each criterion's rate is shrunk by empirical Bayes towards the subject type's average
  (beta-binomial prior per type and criterion), after taking out checker strictness.
- Where events carry case_id, the checked criteria (confirmation, spot checks) and those
  ``joint_unchecked`` names (complaints) come from one joint fit per criterion over everyone
  named on a check or case (and its checker) (rating/joint.py): a body's rate there is its
  type's average plus what its cases did beyond what the other parties and the checker
  explain (plus its staff's part, ``joint_body_staff``), and a person's level is its
  bodies' joint effects. Without case_id (counts) the marginal rates as below.
- A person linked to a body (an assessor's assessment body, a consultant's consulting
  body, through case_id or body_id) is shrunk towards its body's rate on the body's other
  cases instead, and its score carries ``person_body_share`` of the body's level plus all
  of its own deviation from it (config).
- Score: per type, the middle (a subject without evidence) plus the points each indicator
  takes or adds against the type's average, on a scale that puts the cut points at chosen
  quantiles of a reference month's raw scores, re-fitted once a year (rating/scale.py), so
  that grades separate and mean the same across types; ``base`` is the type's middle and
  base + contributions == score.
- A sanction in the window caps the grade (``sanction_cap``): moving to or from the cap
  when a sanction enters or leaves the window is an event, not instability; the stability
  figures of the benchmark are given with and without those subjects.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pandas as pd

from . import joint, scale
from ._columns import _event_dicts, contributions_column
from .config import EVENT_CODE, EVENTS, INDICATORS, SUBJECT_TYPES, RatingConfig, RatingError
from .events import PERSON_BODY, EventCounts, encode, format_period, parse_period
from .evidence import N_EVENTS, Evidence, gather
from .grades import assign, previous_grade_index
from .reasons import reasons, without_cyclic_gc
from .shrinkage import fit_beta_prior, posterior
from .strictness import checker_fit

N_TYPES = len(SUBJECT_TYPES)
SANCTION = EVENT_CODE["sanction"]


class Rater:
    """Monthly credit rating of assessment bodies, consulting bodies and their staff.

    Parameters
    ----------
    config : RatingConfig, optional
        Method parameters (decay, severities, weights, cut points, thresholds).
    correct_strictness : bool, default True
        Estimate each checker's strictness and take it out of the subjects' outcomes.
    explain : bool, default True
        Add the reasons (zh/en), the contributions as dicts and the events of the month;
        without them a run is faster (enough for a previous month or a backtest).

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

    def __init__(
        self, config: RatingConfig | None = None, *, correct_strictness: bool = True, explain: bool = True
    ):
        self.config = config
        self.correct_strictness = correct_strictness
        self.explain = explain

    # -- sklearn-style API -------------------------------------------------
    def fit(self, events, period) -> Rater:
        """Learn the priors and checker strictness from ``events`` as of ``period`` (YYYY-MM)."""
        codes = encode(events)
        p = parse_period(period)
        self._fit(codes, gather(codes, p, self._config()), p)
        self._raw_cache = None
        self._counts_cache = None
        return self

    def transform(self, events, period=None, previous: pd.DataFrame | None = None) -> pd.DataFrame:
        """Rate every subject in ``events`` at ``period`` (default: the fitted one).

        ``previous``: last month's ratings (subject_id, subject_type, grade, optionally
        sanctioned), for the hysteresis band (``RatingConfig.hysteresis_points``)."""
        self._check_fitted()
        codes = encode(events)
        p = parse_period(period) if period is not None else parse_period(self.period_)
        return self._rate(codes, gather(codes, p, self._config()), previous)

    def fit_transform(self, events, period, previous: pd.DataFrame | None = None) -> pd.DataFrame:
        codes = encode(events)
        p = parse_period(period)
        ev = gather(codes, p, self._config())
        self._fit(codes, ev, p)
        out = self._rate(codes, ev, previous)
        self._raw_cache = None
        self._counts_cache = None
        return out

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
        xs, ns_, effs = [], [], []
        checked_rows = None
        if strictness is not None and strictness.shape[0]:
            sel = codes.checker[ev.rows] >= 0
            r = ev.rows[sel]
            # per checked row: subject, event, checker and weight (gathered once, not per
            # criterion); the checker's effect is gathered per checked criterion, one column
            # at a time (cheaper than gathering every criterion's effect per row)
            checked_rows = (codes.subject[r], codes.event[r], codes.checker[r], ev.weights[sel])
        for j, c in enumerate(self.criteria_):
            bad = [EVENT_CODE[e] for e in c.bad]
            clean = [EVENT_CODE[e] for e in c.clean]
            x = ev.decayed[:, bad].sum(axis=1)
            n = x + ev.decayed[:, clean].sum(axis=1)
            if c.checked and checked_rows is not None:
                subj, event, checker, weight = checked_rows
                lut = np.zeros(N_EVENTS, dtype=np.float64)
                lut[bad + clean] = 1.0
                effect = np.ascontiguousarray(strictness[:, j])[checker] * weight
                corr = np.bincount(subj, weights=effect * lut[event], minlength=codes.n_subjects)
                x = np.minimum(x - corr, n)  # may dip below 0: the posterior keeps it positive
            xs.append(x)
            ns_.append(n)
            n2 = ev.decayed2[:, bad].sum(axis=1) + ev.decayed2[:, clean].sum(axis=1)
            effs.append(np.divide(n * n, n2, out=np.zeros_like(n), where=n2 > 0))
        return np.column_stack(xs), np.column_stack(ns_), np.column_stack(effs)

    def _fit(self, codes: EventCounts, ev: Evidence, period: int, *, scaled: bool = True) -> None:
        self._raw_cache = None
        cfg = self._config()
        self.criteria_ = cfg.criteria()
        self.period_ = format_period(period)
        stype = codes.subject_type_codes()
        nc = codes.n_checkers
        effects = np.zeros((nc, len(self.criteria_)))
        checks = np.zeros(nc)
        self.joint_lambda_, joint_chk = joint.fit_penalties(
            codes, ev, self.criteria_, cfg, self.correct_strictness
        )
        if joint_chk is not None and self.correct_strictness:
            effects = joint_chk
        if self.correct_strictness and nc:
            checks, marginal = checker_fit(codes, ev, self.criteria_, cfg, stype, skip=joint_chk is not None)
            effects = effects if joint_chk is not None else marginal
        names = [c.name for c in self.criteria_]
        self.checker_strictness_ = pd.DataFrame(
            effects, index=pd.Index(codes.checkers, name="checker_id"), columns=names
        )
        self.checker_strictness_ = self.checker_strictness_.loc[
            :, [c.name for c in self.criteria_ if c.checked]
        ]
        self.checker_strictness_["checks"] = checks
        x, n, neff = self._criterion_counts(codes, ev, effects if self.correct_strictness else None)
        # _raw needs the same counts with the same strictness: keep them for this evidence
        self._counts_cache = (codes, ev, x, n)
        # the prior is fitted on rates over effective numbers of trials (decay spreads weight
        # over more, smaller trials than the decayed sum suggests)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(n > 0, np.clip(x, 0.0, n) / np.where(n > 0, n, 1.0), 0.0)
        live = ev.exists
        alpha = np.empty((N_TYPES, len(self.criteria_)))
        beta = np.empty_like(alpha)
        for j in range(len(self.criteria_)):
            alpha[:, j], beta[:, j] = fit_beta_prior(
                p[live, j] * neff[live, j],
                neff[live, j],
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
        self._fit_links(codes, ev, x, n, stype)
        if scaled:
            self._fit_scale(codes, ev, period)

    # -- persons vs bodies -------------------------------------------------
    def _body_expectation(
        self, ev: Evidence, x: np.ndarray, n: np.ndarray, stype: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per subject: the shrunk rate of the bodies its rows are linked to, leaving the
        subject's own share of the body's cases out (a person's outcomes are also its
        body's, and in a small body they would otherwise be compared with themselves),
        and whether the subject has any linked row."""
        ns = x.shape[0]
        if ev.affiliation is None:
            return np.full_like(x, np.nan), np.zeros(ns, dtype=bool)
        coo = ev.affiliation.tocoo()
        i, b, w = coo.row, coo.col, coo.data
        tot = np.bincount(i, weights=w, minlength=ns)
        has = tot > 0
        frac = w / tot[i]
        alpha, beta = self._prior_arrays()
        ab, bb = alpha[stype[b]], beta[stype[b]]
        xb = np.maximum(x[b] - x[i] * frac[:, None], 0.0)
        nb = np.maximum(n[b] - n[i] * frac[:, None], 0.0)
        rate = (np.minimum(xb, nb) + ab) / (nb + ab + bb)
        m = np.full_like(x, np.nan)
        for j in range(x.shape[1]):
            m[:, j] = np.bincount(i, weights=frac * rate[:, j], minlength=ns)
        m[~has] = np.nan
        return m, has

    def _fit_links(self, codes, ev, x, n, stype) -> None:
        """Per person type and criterion: how often persons see a bad outcome relative to
        the bodies they are linked to (e.g. complaints name the lead, never the consultant)."""
        nc = len(self.criteria_)
        ratio = np.ones((N_TYPES, nc))
        m, has = self._body_expectation(ev, x, n, stype)
        xs = np.clip(x, 0.0, n)
        for t in PERSON_BODY:
            ti = SUBJECT_TYPES.index(t)
            sel = has & (stype == ti)
            if sel.any():
                expect = (n[sel] * m[sel]).sum(axis=0)
                ratio[ti] = np.divide(xs[sel].sum(axis=0), expect, out=np.ones(nc), where=expect > 0)
        names = [c.name for c in self.criteria_]
        self.link_ratio_ = pd.DataFrame(
            ratio, index=pd.Index(SUBJECT_TYPES, name="subject_type"), columns=names
        )

    def _prior_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        nc = len(self.criteria_)
        alpha = self.priors_["alpha"].to_numpy().reshape(N_TYPES, nc)
        beta = self.priors_["beta"].to_numpy().reshape(N_TYPES, nc)
        return alpha, beta

    def _raw(self, codes: EventCounts, ev: Evidence) -> dict:
        """Shrunk rates and the raw score (base minus weighted rates), before the scale."""
        cached = getattr(self, "_raw_cache", None)
        if cached is not None and cached[0] is codes and cached[1] is ev:
            return cached[2]
        out = self._raw_uncached(codes, ev)
        self._raw_cache = (codes, ev, out)  # fit_transform: _fit and _rate share it
        return out

    def _raw_uncached(self, codes: EventCounts, ev: Evidence) -> dict:
        cfg = self._config()
        crit = self.criteria_
        cached = getattr(self, "_counts_cache", None)
        if cached is not None and cached[0] is codes and cached[1] is ev:
            x, n = cached[2], cached[3]
        else:
            x, n, _ = self._criterion_counts(codes, ev, self._strictness_for(codes))
        stype = codes.subject_type_codes()
        alpha, beta = self._prior_arrays()
        mean, var = posterior(x, n, alpha[stype], beta[stype])
        prior_mean = (alpha / (alpha + beta))[stype]
        # a linked person is shrunk towards its body with the strength of its type's prior
        # (per criterion the within-body spread of persons is mostly binomial noise, but
        # the criteria move together, so the type's strength pools the evidence better)
        person_type = np.isin(stype, [SUBJECT_TYPES.index(t) for t in PERSON_BODY])
        strength = np.where(person_type[:, None], alpha[stype] + beta[stype], np.nan)
        m, has = self._body_expectation(ev, x, n, stype)
        m = np.clip(m * self.link_ratio_.to_numpy()[stype], 0.0, 1.0)
        # bodies' checked criteria from the joint fit (a person's level: its bodies' there)
        body_level = np.full_like(m, np.nan)
        joint_own = np.full_like(m, np.nan)
        jm = joint.joint_effects(
            codes,
            ev,
            crit,
            getattr(self, "joint_lambda_", None),
            self._strictness_for(codes),
            cfg.joint_iterations,
            cfg.joint_body_staff,
        )
        if jm is not None:
            mean, var, body_level, joint_own = joint.override(
                ev, stype, mean, var, prior_mean, *jm, cfg.joint_person_level, cfg.joint_person_own
            )
        linked = has[:, None] & np.isfinite(strength)
        if linked.any():
            s = np.where(linked, strength, 1.0)
            mm = np.where(linked, m, prior_mean)
            own, own_var = posterior(x, n, s * mm, s * (1.0 - mm))
            share = cfg.person_body_share
            level = np.where(np.isfinite(body_level), body_level, mm)
            own_dev = np.where(np.isfinite(joint_own), joint_own, own - mm)
            person = np.clip(prior_mean + share * (level - prior_mean) + own_dev, 0.0, 1.0)
            mean = np.where(linked, person, mean)
            var = np.where(linked, own_var, var)
        step = np.array([c.step * cfg.indicator_weights[c.indicator] for c in crit])
        ind_of = np.array([INDICATORS.index(c.indicator) for c in crit])
        onehot = np.eye(len(INDICATORS))[ind_of]  # (criteria, indicators)
        dev = -((mean - prior_mean) * step) @ onehot  # points against the type's average
        middle = cfg.base - (prior_mean * step).sum(axis=1)
        not_sanction = np.arange(N_EVENTS) != SANCTION
        eff_n = ev.recent[:, not_sanction].sum(axis=1)
        return {
            "stype": stype,
            "mean": mean,
            "dev": dev,
            "middle": middle,
            "raw": middle + dev.sum(axis=1),
            "sd": np.sqrt((var * step**2).sum(axis=1)),
            "eff_n": eff_n,
            "rated": eff_n >= cfg.min_effective_n,
        }

    def _fit_scale(self, codes: EventCounts, ev: Evidence, period: int) -> None:
        """Per subject type: the knots of the score scale (rating/scale.py) and where they
        come from: the stored configuration, the reference month, the rated month, or
        none (the raw score)."""
        cfg = self._config()
        r = self._raw(codes, ev)
        ok = r["rated"] & ev.exists
        own, own_n = scale.type_knots(r["raw"] - r["middle"], ok, r["stype"], cfg, at_least=scale.MIN_OWN)
        ref = scale.reference_period(period, cfg)
        ref_knots = ref_n = None
        if cfg.scale is None and (codes.month <= ref).any():
            ref_knots, ref_n = _reference_knots(codes, ref, cfg, self.correct_strictness)
        rows = []
        for t, name in enumerate(SUBJECT_TYPES):
            if cfg.scale is not None and name in cfg.scale:
                rows.append((*cfg.scale[name], "stored", cfg.scale_period, None))
            elif ref_knots is not None and np.isfinite(ref_knots[t]).all():
                rows.append((*ref_knots[t], "reference", format_period(ref), int(ref_n[t])))
            elif np.isfinite(own[t]).all():
                rows.append((*own[t], "period", format_period(period), int(own_n[t])))
            else:
                rows.append((*([np.nan] * len(scale.KNOT_GRADES)), "raw", None, int(own_n[t])))
        self.scale_ = scale.scale_frame(rows)

    def _strictness_for(self, codes: EventCounts) -> np.ndarray | None:
        if not self.correct_strictness:
            return None
        names = [c.name for c in self.criteria_]
        eff = self.checker_strictness_.reindex(index=codes.checkers, columns=names).fillna(0.0)
        return np.ascontiguousarray(eff.to_numpy(np.float64))  # rows are gathered per checker

    def _rate(self, codes: EventCounts, ev: Evidence, previous: pd.DataFrame | None) -> pd.DataFrame:
        cfg = self._config()
        names = [c.name for c in self.criteria_]
        r = self._raw(codes, ev)
        stype, mean, eff_n, rated = r["stype"], r["mean"], r["eff_n"], r["rated"]
        knots = self.scale_[list(scale.KNOT_COLUMNS)].to_numpy(np.float64)[stype]
        # the scale maps the deviation from the type's middle (raw - middle); without knots
        # (a type too small for any) the raw score is the score
        plain = ~np.isfinite(knots).all(axis=1)
        dev_total = r["dev"].sum(axis=1)
        x = np.where(plain, r["raw"], dev_total)  # what the scale maps (apply: as is without knots)
        center = scale.apply(np.where(plain, r["middle"], 0.0), knots, cfg)
        moved = scale.apply(x, knots, cfg) - center
        # the contributions are the indicators' raw points times the scale's secant slope
        # between the middle and the subject's raw score (the map is increasing: signs hold)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(np.abs(dev_total) > 1e-12, moved / dev_total, 0.0)
        contrib = r["dev"] * slope[:, None]  # points against the type's average, on the scale
        # keep the score in [0, base]: shrink the contributions so that they still add up
        room = np.where(moved < 0, -center, cfg.base - center)
        with np.errstate(invalid="ignore", divide="ignore"):
            shrink = np.where(np.abs(moved) > np.abs(room), room / moved, 1.0)
        center = np.clip(center, 0.0, cfg.base)
        shrink = np.clip(shrink, 0.0, 1.0)
        contrib *= shrink[:, None]
        score = np.clip(center + contrib.sum(axis=1), 0.0, cfg.base)  # rounding only
        middle = np.zeros_like(contrib)  # the average peer's contribution: 0 by construction
        z = NormalDist().inv_cdf(0.5 + cfg.interval / 2)
        # the posterior interval of the raw score, through the same map
        half = z * r["sd"]
        low = np.minimum(np.clip(scale.apply(x - half, knots, cfg), 0.0, cfg.base), score)
        high = np.maximum(np.clip(scale.apply(x + half, knots, cfg), 0.0, cfg.base), score)

        not_sanction = np.arange(N_EVENTS) != SANCTION
        sanctioned = ev.counts[:, SANCTION] > 0
        last = previous_grade_index(previous, codes.subjects)
        grade, held = assign(score, rated, sanctioned, last, cfg)

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
        out["grade_held"] = held[keep]
        out["effective_n"] = eff_n[keep]
        out["sanctioned"] = sanctioned[keep]
        out["base"] = center[keep]
        for k, ind in enumerate(INDICATORS):
            out[f"contrib_{ind}"] = contrib[keep, k] * nan
            out[f"peer_{ind}"] = middle[keep, k]
        out["n_events"] = n_ev[keep]
        out["raw_bad_rate"] = raw_rate[keep]
        for j, name in enumerate(names):
            out[f"rate_{name}"] = mean[keep, j]
        if not self.explain:
            return out
        with without_cyclic_gc():
            zh, en = reasons(out, ev.counts[keep], cfg)
            out["reasons_zh"] = zh
            out["reasons_en"] = en
            out["top_reason"] = [r[0] for r in zh]
            out["top_reason_en"] = [r[0] for r in en]
            out["contributions"] = contributions_column(out)
            out["events_new"] = _event_dicts(ev.new[keep])
            out["events_expired"] = _event_dicts(ev.expired[keep])
        return out


def _reference_knots(codes: EventCounts, ref: int, cfg: RatingConfig, correct_strictness: bool):
    """Knots and counts per type at the reference month ``ref`` (remembered per encoded
    events, configuration and month: a month, the month before and the backtest month
    usually share one reference)."""
    memo = _REFERENCE_MEMO.setdefault(codes, {})
    key = (ref, repr(cfg), correct_strictness)
    if key not in memo:
        rater = Rater(cfg, correct_strictness=correct_strictness, explain=False)
        ev = gather(codes, ref, cfg)
        rater._fit(codes, ev, ref, scaled=False)
        r = rater._raw(codes, ev)
        knots, count = scale.type_knots(r["raw"] - r["middle"], r["rated"] & ev.exists, r["stype"], cfg)
        while len(memo) >= 4:  # bounded memory: the oldest reference goes
            memo.pop(next(iter(memo)))
        memo[key] = (knots, count)
    return memo[key]


_REFERENCE_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit_scale(
    events, period, config: RatingConfig | None = None, *, correct_strictness: bool = True
) -> RatingConfig:
    """``config`` with the score scale fitted at ``period`` (the reference month) stored in
    it (``scale``, ``scale_period``), for the types with at least ``scale_min_subjects``
    rated subjects; the others fall back as rating/scale.py says. Store the result with
    the configuration and re-fit it at most once a year."""
    cfg = config or RatingConfig()
    codes = encode(events)
    p = parse_period(period)
    rater = Rater(cfg, correct_strictness=correct_strictness, explain=False)
    ev = gather(codes, p, cfg)
    rater._fit(codes, ev, p, scaled=False)
    r = rater._raw(codes, ev)
    knots, _ = scale.type_knots(r["raw"] - r["middle"], r["rated"] & ev.exists, r["stype"], cfg)
    fitted = {
        t: tuple(float(v) for v in knots[i])
        for i, t in enumerate(SUBJECT_TYPES)
        if np.isfinite(knots[i]).all()
    }
    return replace(cfg, scale=fitted, scale_period=format_period(p))


def earliest_month(period, config: RatingConfig | None = None) -> str:
    """The first month whose events a run of ``period`` reads when its scale comes from a
    reference month (``config.scale`` unset): the window of the backtest month's reference
    (the month before's and the month's own start later)."""
    cfg = config or RatingConfig()
    p = parse_period(period) - int(cfg.backtest_months)
    first = p if cfg.scale is not None else min(p, scale.reference_period(p, cfg))
    return format_period(first - int(cfg.max_age_months))


def rate(events, period, config: RatingConfig | None = None, **kwargs) -> pd.DataFrame:
    """Fit a :class:`Rater` at ``period`` and rate every subject (convenience)."""
    return Rater(config, **kwargs).fit_transform(events, period)
