"""Fixtures for the rating engine tests: small, hand-made event histories."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
try:  # the editable install may predate rating/; the repo root is where it lives
    import rating  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the venv was installed
    sys.path.insert(0, str(ROOT))


from rating_histories import history, population  # noqa: E402,F401 - the fixtures' data


@pytest.fixture
def pop_events():
    return pd.DataFrame(population())
