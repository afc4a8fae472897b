"""Feature encoding for the risk model: categories as codes, numbers as weighted-quantile bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import numeric_column


class CategoryEncoder(TransformerMixin, BaseEstimator):
    """DataFrame -> float array: numeric columns as they are, categorical ones as codes.

    The ``max_categories - 1`` most frequent levels of each categorical column get
    codes 0..k-1; every other level (rare or unseen) gets k; missing stays NaN.
    """

    def __init__(self, numeric=(), categorical=(), max_categories: int = 64):
        self.numeric = numeric
        self.categorical = categorical
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None):
        self.categories_ = {}
        for c in self.categorical:
            counts = X[c].dropna().astype(str).value_counts()
            counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            self.categories_[c] = pd.Index(counts.index[: self.max_categories - 1])
        self.n_features_in_ = len(self.numeric) + len(self.categorical)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "categories_")
        out = np.empty((len(X), len(self.numeric) + len(self.categorical)), dtype=np.float64)
        for j, c in enumerate(self.numeric):
            out[:, j] = numeric_column(X, c, "frame")
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            codes, uniques = pd.factorize(X[c], use_na_sentinel=True)
            known = self.categories_[c]
            mapped = known.get_indexer(pd.Index(uniques).astype(str)).astype(np.float64)
            mapped[mapped < 0] = len(known)
            out[:, j] = np.where(codes < 0, np.nan, mapped[np.maximum(codes, 0)] if len(mapped) else np.nan)
        return out


class QuantileBinner(TransformerMixin, BaseEstimator):
    """Codes -> codes with each numeric column of more than ``max_bins`` values replaced by its bin.

    The bins are the weighted quantiles ``1/max_bins, 2/max_bins, ...`` of the
    column (one sort), a value ``x`` goes to the first bin whose upper edge is
    ``≥ x``, missing stays missing; the first ``n_numeric`` columns are numeric,
    the others (category codes) pass as they are.  This is the binning that
    ``HistGradientBoostingClassifier`` does itself, done once and cheaply: with
    row weights its own binning computes every quantile with a sort of its own
    (255 sorts per column for the default 255 bins), most of a fit's time.
    The training rows fall in the same bins, so the same trees grow (the tests
    check it); only a new value strictly between two training values may land
    on the other side of an edge where scikit-learn would average the two (a
    quantile falling exactly on a boundary of the weights); here the edge is
    the lower value.  Given at most ``max_bins`` distinct values, a column is
    kept as it is.
    The map is increasing, so monotone constraints keep their meaning.
    """

    def __init__(self, n_numeric: int = 0, max_bins: int = 255):
        self.n_numeric = n_numeric
        self.max_bins = max_bins

    def fit(self, X: np.ndarray, y=None, sample_weight=None):
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.edges_ = []
        for j in range(self.n_numeric):
            keep = ~np.isnan(X[:, j]) & (w > 0)
            x, wx = X[keep, j], w[keep]
            edges = None
            if len(np.unique(x)) > self.max_bins:
                order = np.argsort(x, kind="stable")
                cum = np.cumsum(wx[order])
                at = np.searchsorted(cum, cum[-1] * np.arange(1, self.max_bins) / self.max_bins)
                edges = np.unique(x[order][np.minimum(at, len(x) - 1)])
            self.edges_.append(edges)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "edges_")
        if all(e is None for e in self.edges_):
            return X
        out = X.copy()
        for j, edges in enumerate(self.edges_):
            if edges is not None:
                x = X[:, j]
                out[:, j] = np.where(np.isnan(x), np.nan, np.searchsorted(edges, x, side="left"))
        return out
