"""An independent simulated world for sampling/: a grid cell's frame, outcomes and risk scores.

Written apart from ``bench/sampling_sim.py`` (which the engine was tuned on) so
that the estimator is judged in worlds nobody tuned it for.  A world is

    latent  z_i ~ N(0, 1) (+ a stratum shift),   logit p_i = b + 1.5 z_i,   y_i ~ Bernoulli(p_i)

with ``b`` solved so that the frame's expected prevalence is the cell's; the
risk score a model would give is a calibrated view of a noisy copy of ``z``:

    s_i = ρ z_i + √(1 − ρ²) e_i,    risk_i = sigmoid(b' + 1.5 ρ s_i)

with ``ρ`` set by the model strength (``none``: ρ = 0, a score that still
spreads π but knows nothing; ``weak``: AUROC ≈ 0.6; ``strong``: ≈ 0.8) and
``b'`` solved so that mean risk = prevalence.  ``reversed`` (an adversarial
world, not in the default grid) is the strong model's score turned upside down:
π follows a ranking anti-correlated with the truth (AUROC ≈ 0.2).  Mandatory units (an open
complaint) are a random 1 % of the frame, capped at a fifth of ``n`` so that
the draw keeps room, and are nonconforming half of the time.  With strata, the
frame falls into 8 strata of very unequal sizes (∝ 1/k) whose prevalence
differs (a logit shift of ±0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

STRENGTH_RHO = {"none": 0.0, "weak": 0.3, "strong": 0.93, "reversed": 0.93}
SLOPE = 1.5
N_STRATA = 8


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _intercept(eta: np.ndarray, target: float) -> float:
    return brentq(lambda b: float(np.mean(_sigmoid(b + eta))) - target, -40, 40)


@dataclass(frozen=True)
class World:
    y: np.ndarray
    risk: np.ndarray
    mandatory: np.ndarray
    strata: np.ndarray | None

    @property
    def rate(self) -> float:
        return float(self.y.mean())


def make_world(
    seed: int,
    *,
    N: int,
    n: int,
    prevalence: float,
    strength: str,
    mandatory_share: float = 0.0,
    strata: bool = False,
) -> World:
    g = np.random.default_rng([seed, 16])
    z = g.normal(size=N)
    labels = None
    shift = np.zeros(N)
    if strata:
        w = 1.0 / np.arange(1, N_STRATA + 1)
        labels = g.choice(N_STRATA, N, p=w / w.sum())
        shift = np.linspace(-0.5, 0.5, N_STRATA)[g.permutation(N_STRATA)][labels]
    eta = SLOPE * z + shift
    p = _sigmoid(_intercept(eta, prevalence) + eta)
    y = (g.random(N) < p).astype(np.int8)
    rho = STRENGTH_RHO[strength]
    s = rho * (z + shift / SLOPE) + np.sqrt(1 - rho**2) * g.normal(size=N)
    if rho == 0:
        s = g.normal(size=N)  # a score that spreads π and knows nothing
        eta_r = SLOPE * 0.6 * s
    else:
        eta_r = SLOPE * rho * s * (-1 if strength == "reversed" else 1)
    risk = np.clip(_sigmoid(_intercept(eta_r, prevalence) + eta_r), 1e-6, 1.0)
    mand = np.zeros(N, dtype=bool)
    m = min(int(round(mandatory_share * N)), n // 5)
    if m:
        idx = g.choice(N, m, replace=False)
        mand[idx] = True
        y[idx] = g.random(m) < 0.5
    return World(y=y, risk=risk, mandatory=mand, strata=None if labels is None else labels.astype(str))
