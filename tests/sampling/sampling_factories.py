"""Small synthetic frames for the sampling tests (no database, no Flask)."""

import numpy as np
import pandas as pd


def make_units(n: int, seed: int = 0, *, labelled: bool = False) -> pd.DataFrame:
    """A frame of ``n`` assessments with the documented feature columns; with
    ``labelled`` also ``nonconforming`` and ``decided_on`` driven by the features."""
    g = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "unit_id": [f"U{i:05d}" for i in range(n)],
            "grade_jump": np.where(g.random(n) < 0.1, 2, 0),
            "person_days_ratio": np.round(np.exp(g.normal(0.05, 0.25, n)), 3),
            "filing_delay_days": g.integers(0, 60, n),
            "lead_workload_30d": g.poisson(3, n),
            "body_prior_nc": np.round(g.beta(2, 20, n), 4),
            "lead_prior_nc": np.round(g.beta(2, 20, n), 4),
            "province": g.choice(["11", "31", "44", "51"], n),
            "assessment_type": g.choice(["initial", "surveillance", "upgrade"], n),
            "body_id": g.integers(0, 20, n),
        }
    )
    if labelled:
        eta = (
            -2.6
            + 1.2 * (df["grade_jump"] > 0)
            + 2.0 * np.maximum(0, 1 - df["person_days_ratio"])
            + 8 * (df["body_prior_nc"] - 0.09)
            + 0.5 * (df["assessment_type"] == "upgrade")
        )
        p = 1 / (1 + np.exp(-eta))
        df["nonconforming"] = (g.random(n) < p).astype(int)
        df["decided_on"] = (
            pd.Timestamp("2021-01-01") + pd.to_timedelta(g.integers(0, 1000, n), unit="D")
        ).strftime("%Y-%m-%d")
    return df
