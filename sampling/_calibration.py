"""Probability calibration and the AUROC's standard error, for the risk model's validation."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _sigmoid_affine(raw: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    a, b = calibration
    return 1.0 / (1.0 + np.exp(-(a * raw + b)))


def _platt(score: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted Platt scaling: fit p = sigmoid(a * score + b) by maximum likelihood."""

    def loss(theta):
        z = theta[0] * score + theta[1]
        ll = np.logaddexp(0, z) - y * z
        grad_z = w * (1 / (1 + np.exp(-z)) - y)
        return float(np.sum(w * ll)), np.array([np.sum(grad_z * score), np.sum(grad_z)])

    res = optimize.minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="BFGS")
    return float(res.x[0]), float(res.x[1])


def _hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(math.sqrt(max(var, 0.0)))
