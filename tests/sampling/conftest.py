"""Fixtures for the sampling tests."""

import pandas as pd
import pytest
from sampling_factories import make_units


@pytest.fixture(scope="session")
def history() -> pd.DataFrame:
    return make_units(3000, seed=1, labelled=True)


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return make_units(1500, seed=2)


@pytest.fixture(scope="session")
def fitted_model(history):
    from sampling import RiskModel

    return RiskModel(random_state=0).fit(history)
