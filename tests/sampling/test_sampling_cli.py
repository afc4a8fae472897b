"""The fixed file-based CLI: JSON on stdout; bad input -> status 2 and one line on stderr."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sampling_factories import make_units

from sampling.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def fails(capsys, *argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert match in err, err
    return err


def test_import_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import sampling, sys; assert not any(m.split('.')[0] in ('flask','sqlalchemy') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_module_entry_point_reports_bad_input_in_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sampling",
            "draw",
            "--frame",
            str(tmp_path / "nope.csv"),
            "--size",
            "3",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no such file" in proc.stderr


def test_plan_prints_jfa_sizes(capsys):
    assert ok(capsys, "plan", "--materiality", "0.03", "--confidence", "0.95")["n"] == 99
    assert (
        ok(capsys, "plan", "--materiality", "0.03", "--confidence", "0.95", "--likelihood", "poisson")["n"]
        == 100
    )
    hyper = ok(
        capsys, "plan", "--materiality", "0.03", "--likelihood", "hypergeometric", "--population", "1000"
    )
    assert hyper["n"] == 94
    assert ok(capsys, "plan", "--materiality", "0.05", "--expected", "2")["n"] == 124
    prec = ok(capsys, "plan", "--precision", "0.05", "--expected-rate", "0.5", "--confidence", "0.95")
    assert prec["n"] == 402
    assert (
        ok(capsys, "plan", "--precision", "0.05", "--expected-rate", "0.5", "--design-effect", "2")["n"] > 780
    )


def test_draw_estimate_round_trip(tmp_path, capsys):
    hist, frame = tmp_path / "h.csv", tmp_path / "f.csv"
    make_units(1200, seed=1, labelled=True).to_csv(hist, index=False)
    f = make_units(600, seed=2).assign(mandatory=0)
    f.loc[:1, "mandatory"] = 1
    f.to_csv(frame, index=False)
    out = tmp_path / "out.csv"
    summary = ok(
        capsys,
        "draw",
        "--frame",
        str(frame),
        "--size",
        "40",
        "--seed",
        "9",
        "--history",
        str(hist),
        "--out",
        str(out),
    )
    assert summary["selected"] == 40 and summary["seed"] == 9 and summary["risk_source"] == "model"
    assert set(summary["metrics"]) >= {"auroc", "average_precision", "brier"}
    assert len(summary["frame_hash"]) == 64 and summary["model_version"]
    drawn = pd.read_csv(out, dtype={"unit_id": str})
    assert list(drawn.columns) == ["unit_id", "risk", "inclusion_probability", "selected", "reasons"]
    assert len(drawn) == 600 and drawn.selected.sum() == 40
    assert drawn.loc[drawn.unit_id.isin(["U00000", "U00001"]), "selected"].eq(1).all()
    again = ok(
        capsys,
        "draw",
        "--frame",
        str(frame),
        "--size",
        "40",
        "--seed",
        "9",
        "--history",
        str(hist),
        "--out",
        str(tmp_path / "again.csv"),
    )
    assert again["frame_hash"] == summary["frame_hash"]
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()

    chk = drawn[drawn.selected == 1].assign(nonconforming=[i % 5 == 0 for i in range(40)])
    chk["nonconforming"] = chk.nonconforming.astype(int)
    chk.to_csv(tmp_path / "checked.csv", index=False)
    est = ok(capsys, "estimate", "--checked", str(tmp_path / "checked.csv"), "--population", "600")
    assert est["n"] == 40 and 0 <= est["ci_low"] <= est["rate"] <= est["ci_high"] <= 1
    assert est["model_slope"] is None
    # the draw's output as the frame: same rate and lower bound, the upper side from the frame's risks
    aware = ok(
        capsys,
        "estimate",
        "--checked",
        str(tmp_path / "checked.csv"),
        "--population",
        "600",
        "--frame",
        str(out),
    )
    assert aware["rate"] == est["rate"] and aware["ci_low"] == est["ci_low"]
    assert 0 <= aware["model_slope"] <= 1 and aware["rate"] <= aware["ci_high"] <= 1
    # the checked units' risks are read from the frame when the checked file lacks them
    chk.drop(columns="risk").to_csv(tmp_path / "bare.csv", index=False)
    bare = ok(
        capsys,
        "estimate",
        "--checked",
        str(tmp_path / "bare.csv"),
        "--population",
        "600",
        "--frame",
        str(out),
    )
    assert bare == aware


def test_draw_with_strata(tmp_path, capsys):
    make_units(300, seed=3).to_csv(tmp_path / "f.csv", index=False)
    s = ok(
        capsys,
        "draw",
        "--frame",
        str(tmp_path / "f.csv"),
        "--size",
        "30",
        "--seed",
        "1",
        "--strata",
        "province",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert sum(s["parameters"]["allocation"].values()) == 30
    assert "province" in pd.read_csv(tmp_path / "o.csv").columns


def test_assign(tmp_path, capsys):
    pd.DataFrame({"check_id": ["c1", "c2", "c3"], "body_id": ["b1", "b2", "b1"]}).to_csv(
        tmp_path / "c.csv", index=False
    )
    pd.DataFrame({"inspector_id": ["i1", "i2", "i3", "i4"]}).to_csv(tmp_path / "i.csv", index=False)
    pd.DataFrame({"inspector_id": ["i1"], "party_id": ["b1"]}).to_csv(tmp_path / "r.csv", index=False)
    s = ok(
        capsys,
        "assign",
        "--checks",
        str(tmp_path / "c.csv"),
        "--inspectors",
        str(tmp_path / "i.csv"),
        "--per-check",
        "2",
        "--seed",
        "3",
        "--recusals",
        str(tmp_path / "r.csv"),
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert s["assignments"] == 6
    a = pd.read_csv(tmp_path / "a.csv")
    assert not ((a.inspector_id == "i1") & a.check_id.isin(["c1", "c3"])).any()
    # no eligible inspector left
    pd.DataFrame({"inspector_id": ["i1", "i2"], "party_id": ["b1", "b1"]}).to_csv(
        tmp_path / "r2.csv", index=False
    )
    fails(
        capsys,
        "assign",
        "--checks",
        str(tmp_path / "c.csv"),
        "--inspectors",
        str(tmp_path / "i.csv"),
        "--per-check",
        "3",
        "--seed",
        "3",
        "--recusals",
        str(tmp_path / "r2.csv"),
        "--out",
        str(tmp_path / "a.csv"),
        match="eligible inspector",
    )


@pytest.fixture
def files(tmp_path):
    f = make_units(50, seed=4)
    f.to_csv(tmp_path / "frame.csv", index=False)
    f.drop(columns="unit_id").to_csv(tmp_path / "noid.csv", index=False)
    f.iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    f.assign(risk=1.7).to_csv(tmp_path / "badrisk.csv", index=False)
    f.assign(person_days_ratio="n/a-ish").to_csv(tmp_path / "text.csv", index=False)
    pd.DataFrame(
        {"unit_id": ["a", "b"], "inclusion_probability": [0.5, 1.5], "nonconforming": [0, 1]}
    ).to_csv(tmp_path / "badpi.csv", index=False)
    pd.DataFrame(
        {"unit_id": ["a", "b"], "inclusion_probability": [0.5, 0.5], "nonconforming": [0, 1]}
    ).to_csv(tmp_path / "checked.csv", index=False)
    drawn = pd.DataFrame(
        {"unit_id": list("abcdefghij"), "risk": 0.1, "inclusion_probability": 0.5, "selected": 0}
    )
    drawn.to_csv(tmp_path / "drawn.csv", index=False)
    drawn.drop(columns="risk").to_csv(tmp_path / "norisk.csv", index=False)
    drawn.assign(risk=1.7).to_csv(tmp_path / "badfrisk.csv", index=False)
    drawn.iloc[2:].to_csv(tmp_path / "otherunits.csv", index=False)
    (tmp_path / "blank.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81unit_id\n\x9f\x00")
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["draw", "--frame", "noid.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "unit_id"),
        (["draw", "--frame", "empty.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "no rows"),
        (["draw", "--frame", "blank.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "is empty"),
        (
            ["draw", "--frame", "frame.csv", "--size", "500", "--seed", "1", "--out", "o.csv"],
            "fewer than the sample",
        ),
        (["draw", "--frame", "badrisk.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "(0, 1]"),
        (["draw", "--frame", "text.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "must be numeric"),
        (["draw", "--frame", "missing.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "no such file"),
        (["draw", "--frame", "binary.csv", "--size", "5", "--seed", "1", "--out", "o.csv"], "binary.csv"),
        (["draw", "--frame", "frame.csv", "--size", "x", "--seed", "1", "--out", "o.csv"], "invalid int"),
        (
            ["draw", "--frame", "frame.csv", "--size", "5", "--seed", "1", "--out", "nodir/o.csv"],
            "cannot write",
        ),
        (["estimate", "--checked", "badpi.csv", "--population", "10"], "(0, 1]"),
        (["estimate", "--checked", "checked.csv", "--population", "1"], "smaller than"),
        (["estimate", "--checked", "checked.csv"], "--population"),
        (["estimate", "--checked", "checked.csv", "--population", "10", "--frame", "norisk.csv"], "risk"),
        (["estimate", "--checked", "checked.csv", "--population", "10", "--frame", "badfrisk.csv"], "(0, 1]"),
        (
            ["estimate", "--checked", "checked.csv", "--population", "12", "--frame", "drawn.csv"],
            "population",
        ),
        (
            ["estimate", "--checked", "checked.csv", "--population", "8", "--frame", "otherunits.csv"],
            "not in",
        ),
        (["estimate", "--checked", "checked.csv", "--population", "10", "--frame", "nope.csv"], "no such"),
        (["plan", "--materiality", "0.03", "--precision", "0.05"], "exactly one"),
        (["plan", "--materiality", "0.03", "--likelihood", "hypergeometric"], "population"),
        (["plan", "--materiality", "3"], "materiality"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, capsys, monkeypatch, argv, match):
    monkeypatch.chdir(files)
    fails(capsys, *argv, match=match)
