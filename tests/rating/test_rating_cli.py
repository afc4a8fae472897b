import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rating_histories import history, population

from rating.cli import EXTRA_COLUMNS, OUT_COLUMNS, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def events_csv(tmp_path):
    rows = (
        population(month="2024-06")
        + population(month="2024-01", seed=2)
        + history("THIN", {"filing_on_time": 2})
    )
    rows += history("P001", {"sanction": 1}, month="2024-06")
    path = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cli_end_to_end_in_a_subprocess(events_csv, tmp_path):
    out = tmp_path / "ratings.csv"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "rating",
            "compute",
            "--events",
            str(events_csv),
            "--period",
            "2024-06",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == OUT_COLUMNS + EXTRA_COLUMNS
    assert summary["subjects"] == len(table)
    assert sum(summary["grades"].values()) == len(table)
    assert {
        "auroc",
        "psi",
        "transitions",
        "adverse_rate_by_grade",
        "grade_distribution",
        "size_correlation",
    } <= set(summary["validation"])
    thin = table.set_index("subject_id").loc["THIN"]
    assert thin["grade"] == "NR" and thin["score"] == ""
    assert table.set_index("subject_id").loc["P001", "grade"] == "C"
    assert (table["period"] == "2024-06").all()


def run(args, capsys):
    code = main(args)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def write(tmp_path, frame, name="bad.csv"):
    p = tmp_path / name
    frame.to_csv(p, index=False)
    return str(p)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda d: d.assign(event=d["event"].where(d.index != 3, "spotcheck_awful")),
            "line 5: unknown event 'spotcheck_awful'",
        ),
        (
            lambda d: d.assign(event_date=d["event_date"].where(d.index != 0, "2024-02-30")),
            "line 2: bad event_date '2024-02-30'",
        ),
        (lambda d: d.drop(columns=["subject_type"]), "missing column(s) subject_type"),
        (
            lambda d: d.assign(subject_type=d["subject_type"].where(d.index != 1, "auditor")),
            "line 3: unknown subject_type 'auditor'",
        ),
    ],
)
def test_bad_events_exit_non_zero_with_one_line(tmp_path, capsys, mutate, expected):
    path = write(tmp_path, mutate(pd.DataFrame(population())))
    code, out, err = run(
        ["compute", "--events", path, "--period", "2024-06", "--out", str(tmp_path / "o.csv")], capsys
    )
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["compute", "--events", "{tmp}/nope.csv", "--period", "2024-06", "--out", "{tmp}/o.csv"],
            "no such file",
        ),
        (["compute", "--events", "{tmp}/empty.csv", "--period", "2024-06", "--out", "{tmp}/o.csv"], "empty"),
        (
            ["compute", "--events", "{tmp}/binary.csv", "--period", "2024-06", "--out", "{tmp}/o.csv"],
            "cannot read",
        ),
        (
            ["compute", "--events", "{tmp}/good.csv", "--period", "2024-13", "--out", "{tmp}/o.csv"],
            "bad period '2024-13'",
        ),
        (["compute", "--events", "{tmp}/good.csv", "--period", "2024-06"], "--out"),
        (
            ["compute", "--events", "{tmp}/good.csv", "--period", "2024-06", "--out", "{tmp}/no/dir/o.csv"],
            "cannot write",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_invocations_exit_non_zero_with_one_line(tmp_path, capsys, args, expected):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\x00")
    pd.DataFrame(population()).to_csv(tmp_path / "good.csv", index=False)
    code, out, err = run([a.format(tmp=tmp_path) for a in args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
