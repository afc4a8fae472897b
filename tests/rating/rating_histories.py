"""Hand-made event histories for the rating engine tests (imported by name: ``conftest``
is ambiguous when tests/rating and tests/sampling are collected in one run)."""

from __future__ import annotations

import numpy as np


def history(subject_id, counts: dict, *, subject_type="assessment_body", month="2024-06", checker=None):
    """Rows for one subject: {event: n} all dated in ``month``."""
    rows = []
    for event, n in counts.items():
        for i in range(n):
            rows.append(
                {
                    "subject_id": subject_id,
                    "subject_type": subject_type,
                    "event_date": f"{month}-{1 + i % 28:02d}",
                    "event": event,
                    "checker_id": checker if event.startswith(("spotcheck", "confirmation")) else None,
                }
            )
    return rows


def population(n=60, seed=0, subject_type="assessment_body", month="2024-06"):
    """A population of subjects with varied quality and volume, to fit priors on."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        q = rng.uniform(0.05, 0.5)
        k = int(rng.integers(10, 80))
        spot = rng.choice(
            ["spotcheck_conforming", "spotcheck_minor", "spotcheck_major"],
            size=k,
            p=[1 - q, q * 0.6, q * 0.4],
        )
        filing = rng.choice(["filing_on_time", "filing_late"], size=k, p=[1 - q / 2, q / 2])
        conf = rng.choice(
            [
                "confirmation_confirmed",
                "confirmation_returned",
                "confirmation_grade_adjusted",
                "confirmation_rejected",
            ],
            size=k // 2,
            p=[1 - q, q * 0.5, q * 0.3, q * 0.2],
        )
        for j, e in enumerate([*spot, *filing, *conf]):
            rows.append(
                {
                    "subject_id": f"P{i:03d}",
                    "subject_type": subject_type,
                    "event_date": f"{month}-{1 + j % 28:02d}",
                    "event": e,
                    "checker_id": f"K{j % 7}" if e.startswith(("spot", "conf")) else None,
                }
            )
        if rng.random() < 0.2:
            rows.append(
                {
                    "subject_id": f"P{i:03d}",
                    "subject_type": subject_type,
                    "event_date": f"{month}-15",
                    "event": "complaint_substantiated",
                    "checker_id": None,
                }
            )
    return rows
