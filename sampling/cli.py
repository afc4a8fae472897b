"""The file-based command line (the fixed contract of ``spec/sampling.md``).

Every verb prints one JSON summary on standard output.  Bad input (missing
columns, probabilities outside (0, 1], N < n, an empty frame, non-numeric
features, no eligible inspector, an unreadable file, a bad option) exits
with status 2 and one line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np
import pandas as pd

from ._validation import SamplingError
from .assign import assign_inspectors
from .design import DEFAULT_RISK_EXPONENT, DEFAULT_UNIFORM_SHARE, draw
from .estimate import estimate_rate
from .planning import plan_attribute, plan_precision
from .risk import RiskModel

ID_COLUMNS = (
    "unit_id",
    "check_id",
    "body_id",
    "consulting_body_id",
    "enterprise_id",
    "inspector_id",
    "party_id",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not the usage block
        raise SamplingError(f"{self.prog}: {message}")


def _read(path: str, what: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={c: str for c in ID_COLUMNS}, keep_default_na=True)
    except FileNotFoundError:
        raise SamplingError(f"cannot read {what} {path}: no such file") from None
    except IsADirectoryError:
        raise SamplingError(f"cannot read {what} {path}: it is a directory") from None
    except PermissionError:
        raise SamplingError(f"cannot read {what} {path}: permission denied") from None
    except pd.errors.EmptyDataError:
        raise SamplingError(f"{what} {path} is empty") from None
    except pd.errors.ParserError as e:
        raise SamplingError(f"cannot parse {what} {path}: {str(e).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise SamplingError(f"{what} {path} is not UTF-8 text") from None
    except OSError as e:
        raise SamplingError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if len(df) == 0:
        raise SamplingError(f"{what} {path} has no rows")
    return df


def _write(df: pd.DataFrame, path: str) -> None:
    try:
        df.to_csv(path, index=False)
    except OSError as e:
        raise SamplingError(f"cannot write {path}: {e.strerror or e}") from None


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if math.isnan(obj) or math.isinf(obj) else float(obj)
    return obj


def _print(summary: dict) -> None:
    print(json.dumps(_jsonable(summary), ensure_ascii=False, allow_nan=False))


def _cmd_plan(a) -> dict:
    if (a.materiality is None) == (a.precision is None):
        raise SamplingError(
            "plan needs exactly one of --materiality (attribute test) or --precision (rate estimate)"
        )
    if a.materiality is not None:
        if a.expected_rate is not None or a.design_effect is not None:
            raise SamplingError("--expected-rate and --design-effect belong to --precision planning")
        return plan_attribute(
            a.materiality,
            confidence=a.confidence,
            expected=a.expected or 0.0,
            likelihood=a.likelihood,
            population=a.population,
        ).to_dict()
    if a.expected_rate is None:
        raise SamplingError("--precision planning needs --expected-rate")
    if a.expected is not None or a.likelihood != "binomial":
        raise SamplingError("--expected and --likelihood belong to --materiality planning")
    return plan_precision(
        a.precision,
        expected_rate=a.expected_rate,
        confidence=a.confidence,
        design_effect=1.0 if a.design_effect is None else a.design_effect,
        population=a.population,
    ).to_dict()


def _cmd_draw(a) -> dict:
    frame = _read(a.frame, "frame")
    model = RiskModel().fit(_read(a.history, "history")) if a.history else None
    result = draw(
        frame,
        a.size,
        random_state=a.seed,
        model=model,
        uniform_share=a.uniform_share,
        risk_exponent=a.risk_exponent,
        strata=a.strata,
    )
    _write(result.units, a.out)
    return {**result.summary(), "selected": int(result.units["selected"].sum()), "out": a.out}


def _cmd_estimate(a) -> dict:
    checked = _read(a.checked, "checked units")
    frame = None
    if a.frame:
        frame = _read(a.frame, "frame")
        if "risk" not in checked.columns and "unit_id" in checked.columns and "unit_id" in frame.columns:
            # the checked units' model risks, from the draw's output, by unit id
            risk = frame.drop_duplicates("unit_id").set_index("unit_id")["risk"] if "risk" in frame else None
            if risk is not None:
                checked = checked.assign(risk=checked["unit_id"].map(risk))
                if checked["risk"].isna().any():
                    pos = int(np.flatnonzero(checked["risk"].isna())[0])
                    raise SamplingError(
                        f"checked unit {checked['unit_id'].iloc[pos]} is not in the frame {a.frame}"
                    )
    est = estimate_rate(
        checked, population=a.population, confidence=a.confidence, strata=a.strata, frame=frame
    )
    return est.to_dict()


def _cmd_assign(a) -> dict:
    checks = _read(a.checks, "checks")
    inspectors = _read(a.inspectors, "inspectors")
    recusals = _read(a.recusals, "recusals") if a.recusals else None
    out = assign_inspectors(
        checks,
        inspectors,
        per_check=a.per_check,
        random_state=a.seed,
        recusals=recusals,
        exclude_same_province=a.exclude_same_province,
    )
    _write(out, a.out)
    load = out["inspector_id"].value_counts()
    return {
        "checks": len(checks),
        "assignments": len(out),
        "per_check": a.per_check,
        "seed": a.seed,
        "inspectors_used": int(len(load)),
        "max_load": int(load.max()),
        "min_load_of_used": int(load.min()),
        "out": a.out,
    }


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m sampling", description="Risk-based spot checks with honest estimates.")
    sub = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    plan = sub.add_parser("plan", help="sample size: attribute test (jfa) or rate precision")
    plan.add_argument("--materiality", type=float)
    plan.add_argument("--precision", type=float)
    plan.add_argument("--confidence", type=float, default=0.95)
    plan.add_argument("--expected", type=float, help="expected errors: a rate below 1 or a count")
    plan.add_argument("--likelihood", choices=("binomial", "poisson", "hypergeometric"), default="binomial")
    plan.add_argument("--expected-rate", type=float)
    plan.add_argument("--design-effect", type=float)
    plan.add_argument("--population", type=int)
    plan.set_defaults(func=_cmd_plan)

    d = sub.add_parser("draw", help="score the frame, compute every π and draw n units")
    d.add_argument("--frame", required=True)
    d.add_argument("--size", type=int, required=True)
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--uniform-share", type=float, default=DEFAULT_UNIFORM_SHARE)
    d.add_argument("--risk-exponent", type=float, default=DEFAULT_RISK_EXPONENT)
    d.add_argument("--strata")
    d.add_argument("--history")
    d.add_argument("--out", required=True)
    d.set_defaults(func=_cmd_draw)

    e = sub.add_parser("estimate", help="Horvitz-Thompson rate with a Korn-Graubard interval")
    e.add_argument("--checked", required=True)
    e.add_argument("--population", type=int, required=True)
    e.add_argument("--confidence", type=float, default=0.95)
    e.add_argument("--strata")
    e.add_argument(
        "--frame",
        help="the draw's output (every frame unit's risk and inclusion_probability): the interval's upper "
        "side then uses the model's anticipated variance",
    )
    e.set_defaults(func=_cmd_estimate)

    s = sub.add_parser("assign", help="k inspectors per check, recusals excluded")
    s.add_argument("--checks", required=True)
    s.add_argument("--inspectors", required=True)
    s.add_argument("--per-check", type=int, required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--recusals")
    s.add_argument("--exclude-same-province", action="store_true")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_assign)
    return p


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _print(args.func(args))
    except SamplingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
