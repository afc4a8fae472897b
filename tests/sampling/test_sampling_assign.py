import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import SamplingError, assign_inspectors


def checks(n=30):
    return pd.DataFrame(
        {
            "check_id": [f"C{i}" for i in range(n)],
            "body_id": [f"B{i % 4}" for i in range(n)],
            "consulting_body_id": [f"K{i % 3}" if i % 2 else None for i in range(n)],
            "enterprise_id": [f"E{i}" for i in range(n)],
            "province": [["11", "31", "44"][i % 3] for i in range(n)],
        }
    )


def inspectors(n=8, capacity=None):
    df = pd.DataFrame(
        {"inspector_id": [f"I{i}" for i in range(n)], "province": [["11", "31"][i % 2] for i in range(n)]}
    )
    if capacity is not None:
        df["capacity"] = capacity
    return df


RECUSALS = pd.DataFrame({"inspector_id": ["I0", "I1", "I2", "I3"], "party_id": ["B0", "K1", "E5", "B2"]})


def test_two_distinct_inspectors_per_check_and_recusals_respected():
    c = checks()
    out = assign_inspectors(c, inspectors(), per_check=2, random_state=1, recusals=RECUSALS)
    assert len(out) == 2 * len(c)
    assert (out.groupby("check_id").inspector_id.nunique() == 2).all()
    parties = c.set_index("check_id")[["body_id", "consulting_body_id", "enterprise_id"]]
    ties = set(zip(RECUSALS.inspector_id, RECUSALS.party_id, strict=True))
    for row in out.itertuples():
        assert not any((row.inspector_id, p) in ties for p in parties.loc[row.check_id])


def test_load_is_balanced_and_draw_is_seeded():
    out = assign_inspectors(checks(30), inspectors(8), per_check=2, random_state=5)
    load = out.inspector_id.value_counts()
    assert load.max() - load.min() <= 1 and len(load) == 8
    again = assign_inspectors(checks(30), inspectors(8), per_check=2, random_state=5)
    pd.testing.assert_frame_equal(out, again)
    other = assign_inspectors(checks(30), inspectors(8), per_check=2, random_state=6)
    assert not out.equals(other)


def test_capacity_and_same_province_exclusion():
    out = assign_inspectors(
        checks(12), inspectors(8, capacity=3), per_check=2, random_state=2, exclude_same_province=True
    )
    assert out.inspector_id.value_counts().max() <= 3
    prov_c = checks(12).set_index("check_id").province
    prov_i = inspectors(8).set_index("inspector_id").province
    assert all(prov_c[r.check_id] != prov_i[r.inspector_id] for r in out.itertuples())


def test_clear_error_when_no_eligible_inspector_remains():
    c = checks(3).assign(body_id="B0")
    rec = pd.DataFrame({"inspector_id": ["I0", "I1", "I2"], "party_id": ["B0"] * 3})
    with pytest.raises(
        SamplingError, match=r"check C\d: only 1 eligible inspector\(s\) for 2 required \(3 recused"
    ):
        assign_inspectors(c, inspectors(4), per_check=2, random_state=0, recusals=rec)
    with pytest.raises(SamplingError, match="at capacity"):
        assign_inspectors(checks(10), inspectors(4, capacity=1), per_check=2, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"per_check": 1}, "at least 2"),
        ({"random_state": None}, "seed"),
        ({"checks": pd.DataFrame({"check_id": ["a"]})}, "body_id"),
        ({"inspectors": pd.DataFrame({"inspector_id": ["a", "a"]})}, "unique"),
    ],
)
def test_assign_rejects_bad_input(kwargs, message):
    args = {"checks": checks(4), "inspectors": inspectors(4), "per_check": 2, "random_state": 0, **kwargs}
    with pytest.raises(SamplingError, match=message):
        assign_inspectors(args.pop("checks"), args.pop("inspectors"), **args)


@settings(max_examples=25, deadline=None)
@given(
    n_checks=st.integers(1, 25), n_insp=st.integers(2, 10), k=st.integers(2, 4), seed=st.integers(0, 10**6)
)
def test_assignment_properties(n_checks, n_insp, k, seed):
    if k > n_insp:
        with pytest.raises(SamplingError):
            assign_inspectors(checks(n_checks), inspectors(n_insp), per_check=k, random_state=seed)
        return
    out = assign_inspectors(checks(n_checks), inspectors(n_insp), per_check=k, random_state=seed)
    assert (out.groupby("check_id").inspector_id.nunique() == k).all()
    load = out.inspector_id.value_counts().reindex([f"I{i}" for i in range(n_insp)], fill_value=0)
    assert load.max() - load.min() <= 1
    assert np.array_equal(out.check_id.unique(), checks(n_checks).check_id.to_numpy())
