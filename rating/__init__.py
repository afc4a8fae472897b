"""rating: monthly credit ratings of assessment bodies, consulting bodies and their staff.

A pure library (no Flask, no database): outcome events in, one rating per subject out,
deterministic. See ``spec/rating.md``; the CLI is ``python -m rating compute``.

>>> from rating import Rater, RatingConfig
>>> ratings = Rater(RatingConfig()).fit_transform(events, "2024-06")   # doctest: +SKIP
"""

from .changes import compare, events_behind_change
from .config import EVENTS, GRADES, INDICATORS, NR, SUBJECT_TYPES, RatingConfig, RatingError
from .events import EventCounts, encode, parse_period
from .model import Rater, earliest_month, fit_scale, rate
from .validation import ADVERSE_EVENTS, ValidationReport, auroc, psi, validation_report

__all__ = [
    "ADVERSE_EVENTS",
    "EVENTS",
    "GRADES",
    "INDICATORS",
    "NR",
    "SUBJECT_TYPES",
    "EventCounts",
    "RatingConfig",
    "RatingError",
    "Rater",
    "ValidationReport",
    "auroc",
    "compare",
    "earliest_month",
    "encode",
    "events_behind_change",
    "fit_scale",
    "parse_period",
    "psi",
    "rate",
    "validation_report",
]
