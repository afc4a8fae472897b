"""rating/strictness.py: the checker-effects fit (on the subjects present) is the plain row-wise fit."""

import numpy as np

from rating.strictness import SUBJECT_PRIOR, fit_checker_effects


def rowwise_fit(subject, checker, y, w, n_subjects, n_checkers, prior=20.0, iterations=8):
    """The alternating shrunk means written over the rows, as the model states them."""
    mu = np.dot(w, y) / w.sum()
    ws = np.bincount(subject, weights=w, minlength=n_subjects)
    wc = np.bincount(checker, weights=w, minlength=n_checkers)
    a = np.bincount(subject, weights=w * (y - mu), minlength=n_subjects) / (ws + SUBJECT_PRIOR)
    for _ in range(iterations):
        b = np.bincount(checker, weights=w * (y - mu - a[subject]), minlength=n_checkers) / (wc + prior)
        b -= np.dot(wc, b) / wc.sum()
        a = np.bincount(subject, weights=w * (y - mu - b[checker]), minlength=n_subjects) / (
            ws + SUBJECT_PRIOR
        )
    return b


def test_fit_equals_the_plain_rowwise_fit():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n, ns, nc = int(rng.integers(1, 2000)), int(rng.integers(1, 300)), int(rng.integers(1, 30))
        s, c = rng.integers(0, ns, n), rng.integers(0, nc, n)
        y = (rng.random(n) < rng.random()).astype(np.float64)
        w = rng.random(n) * (rng.random(n) < 0.9)  # some rows weigh nothing
        if w.sum() <= 0:
            continue
        got = fit_checker_effects(s, c, y, w, ns, nc)
        np.testing.assert_allclose(got, rowwise_fit(s, c, y, w, ns, nc), rtol=0, atol=1e-12)


def test_a_strict_checker_is_found_and_the_effects_average_to_zero():
    rng = np.random.default_rng(4)
    n, ns = 6000, 200
    s = rng.integers(0, ns, n)
    c = rng.integers(0, 4, n)  # checker 4 never checks
    quality = rng.normal(0, 0.1, ns)
    p = np.clip(0.2 + quality[s] + np.where(c == 0, 0.25, 0.0), 0, 1)
    y = (rng.random(n) < p).astype(np.float64)
    b = fit_checker_effects(s, c, y, np.ones(n), ns, 5)
    assert b[0] > 0.15 and np.all(np.abs(b[1:4]) < 0.1)
    wc = np.bincount(c, minlength=5)
    assert abs(np.dot(wc, b)) < 1e-9  # weighted mean 0
    assert np.isfinite(b).all()
