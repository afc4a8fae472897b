"""sampling: risk-based spot checks with honest estimates (a pure library: no Flask, no database).

jfa-like verbs, scikit-learn manners (DataFrames in; DataFrames and small
frozen dataclasses out; seeded; inputs validated and never mutated):

- **plan**: :func:`plan_attribute` (jfa's attribute-test sample size),
  :func:`plan_precision` (sample size for a ± precision on the rate);
- **score**: :class:`RiskModel` (calibrated, time-validated, 1/π-weighted
  boosted trees), :func:`rule_score` (cold start), :func:`score`;
- **select**: :func:`inclusion_probabilities`, :func:`draw` -> :class:`DrawResult`;
- **estimate**: :func:`estimate_rate` -> :class:`Estimate` (Horvitz-Thompson / Hájek,
  a score interval; given the drawn frame or its :class:`RiskFrame`, a frame-aware one);
- **assign**: :func:`assign_inspectors`.

Bad input raises :class:`SamplingError` (a ``ValueError``) with one line.
The command line is ``python -m sampling plan|draw|estimate|assign`` (see ``cli.py``).
"""

from ._validation import PACKAGE_VERSION as __version__
from ._validation import SamplingError, frame_hash
from .assign import assign_inspectors
from .design import (
    DrawResult,
    allocate,
    draw,
    effective_uniform_share,
    inclusion_probabilities,
    systematic_sample,
)
from .estimate import Estimate, RiskFrame, estimate_rate, korn_graubard_interval
from .planning import AttributePlan, PrecisionPlan, plan_attribute, plan_precision
from .risk import RiskMetrics, RiskModel, score
from .rules import feature_columns, rule_score

__all__ = [
    "AttributePlan",
    "DrawResult",
    "Estimate",
    "PrecisionPlan",
    "RiskFrame",
    "RiskMetrics",
    "RiskModel",
    "SamplingError",
    "__version__",
    "allocate",
    "assign_inspectors",
    "draw",
    "effective_uniform_share",
    "estimate_rate",
    "feature_columns",
    "frame_hash",
    "inclusion_probabilities",
    "korn_graubard_interval",
    "plan_attribute",
    "plan_precision",
    "rule_score",
    "score",
    "systematic_sample",
]
