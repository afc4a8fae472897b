"""``python -m rating compute --events EVENTS.csv --period YYYY-MM --out RATINGS.csv``.

Writes one rating per subject to OUT and a JSON summary (counts per grade, validation
figures) to standard output. Bad input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .changes import compare
from .config import NR, RatingConfig, RatingError
from .events import encode, format_period, parse_period
from .model import Rater
from .validation import grade_distribution, validation_report

OUT_COLUMNS = [
    "subject_id",
    "subject_type",
    "period",
    "score",
    "score_low",
    "score_high",
    "grade",
    "effective_n",
    "top_reason",
]
EXTRA_COLUMNS = [
    "top_reason_en",
    "sanctioned",
    "grade_held",
    "grade_previous",
    "score_change",
    "change_zh",
    "change_en",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise RatingError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m rating", description="Monthly credit ratings.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compute", help="rate every subject of EVENTS.csv at PERIOD")
    c.add_argument("--events", required=True, metavar="EVENTS.csv")
    c.add_argument("--period", required=True, metavar="YYYY-MM")
    c.add_argument("--out", required=True, metavar="RATINGS.csv")
    return p


def _one_line(msg: str) -> str:
    return " ".join(str(msg).split())


def read_events(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise RatingError(f"cannot read {path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise RatingError(f"cannot read {path}: the file is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise RatingError(f"cannot read {path}: {_one_line(exc)}") from None


def compute(events_path: str, period: str, out_path: str, config: RatingConfig | None = None) -> dict:
    cfg = config or RatingConfig()
    p = parse_period(period)
    codes = encode(read_events(events_path), source=events_path)

    def run(month: int, explain: bool = False, previous: pd.DataFrame | None = None) -> pd.DataFrame:
        return Rater(cfg, explain=explain).fit_transform(codes, format_period(month), previous)

    # the file holds no stored ratings: last month is rated afresh, and this month's
    # grades keep to it within the hysteresis band
    previous, past = run(p - 1), run(p - cfg.backtest_months)
    current = run(p, explain=True, previous=previous)
    report = validation_report(codes, period, cfg, current=current, previous=previous, past=past)
    out = compare(previous, current)
    table = out[OUT_COLUMNS + EXTRA_COLUMNS].copy()
    for col in ("score", "score_low", "score_high", "score_change"):
        table[col] = table[col].round(2)
    table["effective_n"] = table["effective_n"].round(2)
    try:
        table.to_csv(out_path, index=False, encoding="utf-8")
    except OSError as exc:
        raise RatingError(f"cannot write {out_path}: {_one_line(exc)}") from None
    dist = grade_distribution(current)
    return {
        "period": format_period(p),
        "subjects": int(len(current)),
        "rated": int((current["grade"] != NR).sum()),
        "grades": dist["all"],
        "grades_by_type": {k: v for k, v in dist.items() if k != "all"},
        "validation": report.to_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        summary = compute(args.events, args.period, args.out)
    except RatingError as exc:
        print(f"rating: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    json.dump(summary, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
