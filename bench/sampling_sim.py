"""A simulated assessment market whose truth is known, for bench/sampling_bench.py.

Every assessment has a latent probability of being nonconforming driven by
who did it and how:

    logit p = -3.35 + body + lead + consulting body      (entity effects, N(0, σ))
              + 1.0 · [person-days under half the minimum] + 0.9 · max(0, 1 - person-days ratio)
              + 0.6 · grade jump (levels)  + 0.35 · [upgrade]  + 0.4 · [filed > 30 days late]
              + 0.07 · max(0, lead workload - 4) - 0.08 · (team size - 3)
              + industry / province effects (small) + N(0, 0.45) unobserved

The entity effects are not observed; what is observed (as at decision time)
is each body's, lead's and consulting body's *prior* nonconformity rate, from
their past checks, shrunk towards the market rate: a noisy view of the effect.
So a model can learn much but not all of the truth (AUROC ≈ 0.75 against
outcomes, the true probabilities ≈ 0.78).  All vectorised: a 1,000,000-unit
frame takes a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZES = np.array(["micro", "small", "medium", "large"])
TYPES = np.array(["initial", "surveillance", "reassessment", "upgrade"])
SECTIONS = np.array(list("ABCDEFGHIJKLMNOPQRSTU"))
PROVINCES = np.array(
    [
        f"{c:02d}"
        for c in (
            11,
            12,
            13,
            14,
            15,
            21,
            22,
            23,
            31,
            32,
            33,
            34,
            35,
            36,
            37,
            41,
            42,
            43,
            44,
            45,
            46,
            50,
            51,
            52,
            53,
            54,
            61,
            62,
            63,
            64,
            65,
        )
    ]
)
BASE = -3.35


class Market:
    """Entities (bodies, leads, consulting bodies) with latent effects and observed track records."""

    def __init__(
        self,
        seed: int,
        *,
        n_bodies: int = 200,
        n_consulting: int = 2000,
        n_leads: int = 4000,
        signal: float = 1.0,
    ):
        g = np.random.default_rng([seed, 1])
        self.seed = seed
        self.signal = signal  # < 1 shrinks every effect towards the base rate: a weak but real signal
        self.body_eff = g.normal(0, 0.5, n_bodies)
        self.cons_eff = g.normal(0, 0.45, n_consulting)
        self.lead_eff = g.normal(0, 0.35, n_leads)
        self.lead_body = g.integers(0, n_bodies, n_leads)
        self.section_eff = g.normal(0, 0.15, len(SECTIONS))
        self.province_eff = g.normal(0, 0.15, len(PROVINCES))
        base_rate = 1 / (1 + np.exp(-(BASE + 0.5)))
        # observed track records: past checks and nonconformities, shrunk to the market rate
        self.body_prior = self._prior(g, self.body_eff, 150, base_rate)
        self.cons_prior = self._prior(g, self.cons_eff, 100, base_rate)
        self.lead_prior = self._prior(g, self.lead_eff, 100, base_rate)
        self.base_rate = base_rate

    @staticmethod
    def _prior(g, eff, mean_checks, base_rate, strength=8.0):
        checks = g.poisson(mean_checks, len(eff))
        p = 1 / (1 + np.exp(-(BASE + 0.5 + eff)))
        nc = g.binomial(checks, p)
        return (nc + strength * base_rate) / (checks + strength)

    def units(self, n: int, seed: int, *, start: str = "2024-01-01", days: int = 365, id_offset: int = 0):
        """A frame of ``n`` assessments: features, the true probability ``p_true`` and outcome ``y``."""
        g = np.random.default_rng([self.seed, seed, 2])
        lead = g.integers(0, len(self.lead_eff), n)
        body = self.lead_body[lead]
        has_cons = g.random(n) < 0.65
        cons = np.where(has_cons, g.integers(0, len(self.cons_eff), n), -1)
        pdr = np.exp(g.normal(0.06, 0.12, n))
        short = g.random(n) < 0.10
        pdr = np.where(short, g.uniform(0.35, 1.0, n), pdr)
        jump = np.where(g.random(n) < 0.12, g.integers(1, 4, n), 0)
        atype = g.choice(len(TYPES), n, p=[0.3, 0.45, 0.15, 0.10])
        late = g.exponential(10, n).round()
        load = g.poisson(3 + 3 * (self.lead_eff[lead] > 0.3), n)
        team = g.integers(1, 6, n)
        lag = g.integers(1, 40, n)
        section = g.integers(0, len(SECTIONS), n)
        province = g.integers(0, len(PROVINCES), n)
        size = g.choice(len(SIZES), n, p=[0.35, 0.35, 0.2, 0.1])
        grade = np.clip(g.integers(1, 6, n), 1, 5)
        eta = (
            BASE
            + self.body_eff[body]
            + self.lead_eff[lead]
            + np.where(has_cons, self.cons_eff[np.maximum(cons, 0)], -0.2)
            + 1.2 * (pdr < 0.5)
            + 1.2 * np.maximum(0, 1 - pdr)
            + 0.7 * jump
            + 0.35 * (atype == 3)
            + 0.6 * (late > 30)
            + 0.12 * np.maximum(0, load - 4)
            - 0.08 * (team - 3)
            + self.section_eff[section]
            + self.province_eff[province]
            + g.normal(0, 0.3, n)
        )
        if self.signal != 1.0:
            eta = BASE + 0.5 + self.signal * (eta - BASE - 0.5)
        p = 1 / (1 + np.exp(-eta))
        y = (g.random(n) < p).astype(np.int8)
        dates = pd.Timestamp(start) + pd.to_timedelta(g.integers(0, days, n), unit="D")
        return pd.DataFrame(
            {
                "unit_id": np.arange(id_offset, id_offset + n),
                "grade": grade,
                "grade_jump": jump,
                "assessment_type": pd.Categorical.from_codes(atype, TYPES),
                "person_days_ratio": pdr.round(3),
                "decision_lag_days": lag,
                "filing_delay_days": late,
                "team_size": team,
                "lead_workload_30d": load,
                "body_prior_nc": self.body_prior[body].round(4),
                "lead_prior_nc": self.lead_prior[lead].round(4),
                "consulting_prior_nc": np.where(has_cons, self.cons_prior[np.maximum(cons, 0)], np.nan).round(
                    4
                ),
                "enterprise_size": pd.Categorical.from_codes(size, SIZES),
                "industry_section": pd.Categorical.from_codes(section, SECTIONS),
                "province": pd.Categorical.from_codes(province, PROVINCES),
                "body_id": body,
                "decided_on": dates,
                "p_true": p,
                "y": y,
            }
        )


TRUTH_COLUMNS = ["p_true", "y", "decided_on"]


def labelled_history(market: Market, n_pool: int, n_labelled: int, seed: int, *, useless: bool = False):
    """Past checks: a pool of past assessments of which ``n_labelled`` were checked by an
    earlier risk-based draw (rule score, uniform share 0.3), with their inclusion probabilities."""
    from sampling import inclusion_probabilities, rule_score, systematic_sample

    pool = market.units(n_pool, seed, start="2019-01-01", days=5 * 365, id_offset=10_000_000)
    risk = rule_score(pool, n_reasons=0)["risk"].to_numpy()
    pi = inclusion_probabilities(risk, n_labelled, uniform_share=0.3, risk_exponent=1.0)
    idx = systematic_sample(pi, np.random.default_rng([seed, 3]))
    hist = pool.iloc[idx].copy()
    hist["inclusion_probability"] = pi[idx]
    hist["nonconforming"] = hist["y"]
    if useless:
        hist["nonconforming"] = np.random.default_rng([seed, 4]).permutation(hist["y"].to_numpy())
    return hist.drop(columns=["p_true", "y"]).reset_index(drop=True)
