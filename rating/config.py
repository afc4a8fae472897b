"""Vocabulary, configuration and the one error type of the rating engine."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SUBJECT_TYPES: tuple[str, ...] = ("assessment_body", "consulting_body", "assessor", "consultant")

EVENTS: tuple[str, ...] = (
    "filing_on_time",
    "filing_late",
    "confirmation_confirmed",
    "confirmation_returned",
    "confirmation_grade_adjusted",
    "confirmation_rejected",
    "spotcheck_conforming",
    "spotcheck_minor",
    "spotcheck_major",
    "complaint_substantiated",
    "sanction",
)
EVENT_CODE: Mapping[str, int] = MappingProxyType({e: i for i, e in enumerate(EVENTS)})

# indicator -> (clean events, bad events); a bad event's severity comes from the config.
# "complaints" is complaints per clean outcome of any kind (see criteria()).
INDICATORS: tuple[str, ...] = ("timeliness", "confirmation", "spotcheck", "complaints")
_INDICATOR_EVENTS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "timeliness": (("filing_on_time",), ("filing_late",)),
        "confirmation": (
            ("confirmation_confirmed",),
            ("confirmation_returned", "confirmation_grade_adjusted", "confirmation_rejected"),
        ),
        "spotcheck": (("spotcheck_conforming",), ("spotcheck_minor", "spotcheck_major")),
        "complaints": (
            ("filing_on_time", "confirmation_confirmed", "spotcheck_conforming"),
            ("complaint_substantiated",),
        ),
    }
)
# outcomes decided by a checker (confirmation auditor, spot-check inspector)
CHECKED_INDICATORS: tuple[str, ...] = ("confirmation", "spotcheck")
GRADES: tuple[str, ...] = ("AAA", "AA", "A", "B", "C")
NR = "NR"


class RatingError(ValueError):
    """Bad input or configuration; the message is one line naming the problem."""


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RatingConfig:
    """Parameters of the rating method (all of them; the defaults are the spec's).

    ``indicator_weights`` are the points an indicator takes off the base when its
    (shrunk) bad rate is 1; ``severity`` says how bad each bad event is (0-1]. A rate's
    weight is spread over its opportunities: confirmation audits are about three times
    as frequent as spot checks, so equal weights would make one spot check count three
    times one confirmation; the defaults keep one bad outcome of either worth about the
    same, and complaints (about one case in a hundred) below their noise.
    """

    # recency: an event of age a months counts 0.5 ** (a / half-life). ``half_life_months``
    # weighs the effective events that decide NR (too little *recent* evidence);
    # ``rate_half_life_months`` weighs the events behind the indicator rates, where a
    # longer memory buys precision (a subject's quality moves slowly, its outcomes are
    # noisy: with 12 months a consulting body's shrunk rates ranked it worse than its
    # plain bad-outcome rate over the window did)
    half_life_months: float = 12.0
    rate_half_life_months: float = 36.0
    max_age_months: int = 36
    base: float = 100.0
    severity: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "filing_late": 1.0,
                "confirmation_returned": 0.3,
                "confirmation_grade_adjusted": 0.7,
                "confirmation_rejected": 1.0,
                "spotcheck_minor": 0.3,
                "spotcheck_major": 1.0,
                "complaint_substantiated": 1.0,
            }
        )
    )
    indicator_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {"timeliness": 10.0, "confirmation": 72.0, "spotcheck": 36.0, "complaints": 60.0}
        )
    )
    cut_points: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"AAA": 90.0, "AA": 80.0, "A": 70.0, "B": 60.0})
    )
    min_effective_n: float = 5.0
    # a subject keeps last month's grade while its score stays within that grade's band
    # widened by this many points on either side (0: no hysteresis); below the smallest
    # gap between cut points, so that a kept grade is never two grades off its score's.
    # 3 rather than 2 since the scale spreads the grades (more subjects near a cut point:
    # 2 let 5.5 % of a small unchanging market change grade in a month, 3 let 4.4 %); 4
    # since scale_min_gap went from 0.5 to 0.3 (bench/rating_grid.py: the worst world's
    # month-over-month changes 5.8 % with 3 at a gap of 0.2 or 0.3, 4.1 % with 4 at 0.2)
    hysteresis_points: float = 4.0
    sanction_cap: str = "C"
    interval: float = 0.9
    # empirical-Bayes prior: concentration (alpha + beta) is kept within these bounds
    min_prior_strength: float = 2.0
    max_prior_strength: float = 200.0
    # checker strictness: pseudo-checks that pull a checker towards "average"
    strictness_prior: float = 20.0
    strictness_iterations: int = 8
    # joint fit (rating/strictness.py fit_joint): where events carry case_id, the checks'
    # outcomes are modelled over everyone named on the check at once (assessment body,
    # staff, consulting body, consultant, checker), so that a subject is judged on what
    # its cases did beyond what the other parties and the checker explain
    joint_fit: bool = True
    joint_iterations: int = 12
    # the penalties: the marginal empirical-Bayes prior strengths (a re-estimate inside
    # the joint fit, joint_eb, converges slowly and was no better on bench/rating_grid.py)
    joint_eb: bool = False
    # persons whose level (the person_body_share part) is their bodies' joint effect; the
    # others' is their body's other cases (a consultancy has a few consultants, and its
    # joint effect is mostly the consultant's own cases: on the grid the leave-one-out
    # rate ranked consultants better)
    joint_person_level: tuple[str, ...] = ("assessor",)
    # bodies whose checked criteria add their staff's joint effects on their cases
    # (rating/joint.py staff_effects; a person's level stays its bodies' own effects): the
    # ridge splits a case between a body and its staff by their penalties, so that a
    # consultancy of one consultant kept about half of its effect and one of many nearly
    # all, and a small assessment body (three assessors) less than a large one
    # (bench/rating_grid.py, rho - raw averaged over the cells at seeds 1 and 2: consulting
    # bodies +0.030 -> +0.034 and +0.042 -> +0.062 with joint_unchecked; assessment bodies
    # +0.093 -> +0.100 and +0.112 -> +0.118, most in the unequal-volume worlds)
    joint_body_staff: tuple[str, ...] = ("assessment_body", "consulting_body")
    # the unchecked indicators fitted jointly too (rating/joint.py), one unit per event of a
    # case in a month and no checker, their penalty pooled with the checks': a consulting
    # body's complaints are mostly its cases' assessment side (the grid: consulting bodies'
    # rho - raw +0.017 -> +0.036 and +0.042 -> +0.068 at seeds 1 and 2 with their own
    # penalty; pooled, the low-evidence cells gained most). Complaints only: timeliness
    # (held against the body and the lead) can be named too, but it gained nothing on the
    # grid (seeds 1 and 2: the same misses, 15 and 18 of 64, and mean rho - raw per type
    # within 0.001) and costs a sixth of a month's CPU at 136,000 events (0.30 s -> 0.25
    # s; it has the most rows). A type without a bad outcome in an indicator (complaints
    # never name a consultant) stays in its fit but takes nothing from it.
    joint_unchecked: tuple[str, ...] = ("complaints",)
    # persons whose own deviation (beyond their level) is their joint effect, and whose
    # level is then their bodies' joint effects (one model for both parts): a consultant's
    # cases are mostly its consultancy's, whose marginal rates carry their cases' assessment
    # side (the grid, high evidence: consultants' rho - raw summed over the 8 cells +0.32 ->
    # +0.52 and -0.08 -> +0.15 at seeds 1 and 2; assessors were no better with it)
    joint_person_own: tuple[str, ...] = ("consultant",)
    backtest_months: int = 6
    n_reasons: int = 3
    # persons vs their body: a person linked to a body (through case_id or body_id) is
    # shrunk towards the rate of its body's other cases, not towards all persons; its
    # score then carries ``person_body_share`` of that body rate's deviation from the
    # person type's average and all of the person's own (shrunk) deviation from its body
    # (0: own effect only; 1: the expected outcome of a case of this person in this body)
    person_body_share: float = 0.5
    # score scale (rating/scale.py): per subject type, a subject's raw points against its
    # type's average (the indicators' weighted shrunk rates against the type's) are mapped
    # piecewise-linearly so that the cut points B, A, AA, AAA fall at the cumulative
    # ``scale_shares`` (C's, C + B's, ...) of a reference distribution: the type's rated
    # subjects at the last ``scale_reference_month`` (12: December) before the rated month,
    # i.e. re-fitted once a year, so that grades do not drift month to month. ``scale``:
    # knots fitted once and stored with the configuration (fit_scale(); type -> points at
    # B, A, AA, AAA), which win over the reference month; ``scale_period`` says when they
    # were fitted. A type with fewer than ``scale_min_subjects`` rated subjects at the
    # reference uses the rated month's own distribution; knots are at least
    # ``scale_min_gap`` raw points apart, so that subjects who differ by noise only are not
    # stretched over the grades.
    scale_shares: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"AAA": 0.10, "AA": 0.25, "A": 0.30, "B": 0.25, "C": 0.10})
    )
    scale_reference_month: int = 12
    scale_min_subjects: int = 20
    # 0.3, not 0.5: with 0.5 a type whose checks say little (consulting bodies and
    # consultants where their effect on outcomes is weak) stayed 70 % in one grade; below
    # 0.3 a population of equals (pure noise) starts to reach C and AAA
    scale_min_gap: float = 0.3
    scale: Mapping[str, tuple[float, ...]] | None = None
    scale_period: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", _frozen(self.severity))
        object.__setattr__(self, "indicator_weights", _frozen(self.indicator_weights))
        object.__setattr__(self, "cut_points", _frozen(self.cut_points))
        object.__setattr__(self, "scale_shares", _frozen(self.scale_shares))
        if self.scale is not None:
            knots = {str(t): tuple(float(v) for v in k) for t, k in dict(self.scale).items()}
            object.__setattr__(self, "scale", _frozen(knots))
        self.validate()

    def validate(self) -> None:
        if not (self.half_life_months > 0 and self.rate_half_life_months > 0):
            raise RatingError(
                f"half_life_months and rate_half_life_months must be > 0, got {self.half_life_months}, "
                f"{self.rate_half_life_months}"
            )
        if int(self.max_age_months) != self.max_age_months or self.max_age_months < 1:
            raise RatingError(f"max_age_months must be a positive integer, got {self.max_age_months}")
        bad = {e for _, (_, b) in _INDICATOR_EVENTS.items() for e in b}
        unknown = set(self.severity) - bad
        if unknown:
            raise RatingError(f"severity given for unknown bad events: {sorted(unknown)}")
        missing = bad - set(self.severity)
        if missing:
            raise RatingError(f"severity missing for bad events: {sorted(missing)}")
        for e, s in self.severity.items():
            if not 0 < s <= 1:
                raise RatingError(f"severity of {e} must be in (0, 1], got {s}")
        if set(self.indicator_weights) != set(INDICATORS):
            raise RatingError(f"indicator_weights must name exactly {list(INDICATORS)}")
        if any(w < 0 for w in self.indicator_weights.values()):
            raise RatingError("indicator_weights must be >= 0")
        if set(self.cut_points) != set(GRADES[:-1]):
            raise RatingError(f"cut_points must name exactly {list(GRADES[:-1])}")
        cuts = [self.cut_points[g] for g in GRADES[:-1]]
        if any(a <= b for a, b in zip(cuts, cuts[1:], strict=False)):
            raise RatingError(f"cut_points must fall strictly from AAA to B, got {dict(self.cut_points)}")
        gap = min(a - b for a, b in zip(cuts, cuts[1:], strict=False))
        if not 0 <= self.hysteresis_points < gap:
            raise RatingError(
                f"hysteresis_points must be >= 0 and below the smallest gap between cut points ({gap:g}), "
                f"got {self.hysteresis_points}"
            )
        if self.sanction_cap not in GRADES:
            raise RatingError(f"sanction_cap must be one of {list(GRADES)}, got {self.sanction_cap!r}")
        if not 0 < self.interval < 1:
            raise RatingError(f"interval must be in (0, 1), got {self.interval}")
        if not 0 < self.min_prior_strength <= self.max_prior_strength:
            raise RatingError("need 0 < min_prior_strength <= max_prior_strength")
        if not 0 <= self.person_body_share <= 1:
            raise RatingError(f"person_body_share must be in [0, 1], got {self.person_body_share}")
        if not set(self.joint_person_own) <= {"assessor", "consultant"}:
            raise RatingError(
                f"joint_person_own names persons only (assessor, consultant), got {self.joint_person_own}"
            )
        if not set(self.joint_body_staff) <= {"assessment_body", "consulting_body"}:
            raise RatingError(
                f"joint_body_staff names bodies only (assessment_body, consulting_body), got {self.joint_body_staff}"
            )
        unchecked = set(INDICATORS) - set(CHECKED_INDICATORS)
        if isinstance(self.joint_unchecked, str) or not set(self.joint_unchecked) <= unchecked:
            raise RatingError(
                f"joint_unchecked names unchecked indicators only ({', '.join(sorted(unchecked))}), "
                f"got {self.joint_unchecked!r}"
            )
        if not set(self.joint_person_level) <= {"assessor", "consultant"}:
            raise RatingError(
                f"joint_person_level names persons only (assessor, consultant), got {self.joint_person_level}"
            )
        self._validate_scale()
        if self.min_effective_n < 0 or self.strictness_prior < 0 or self.backtest_months < 1:
            raise RatingError("min_effective_n and strictness_prior must be >= 0, backtest_months >= 1")

    def _validate_scale(self) -> None:
        if set(self.scale_shares) != set(GRADES):
            raise RatingError(f"scale_shares must name exactly {list(GRADES)}")
        shares = list(self.scale_shares.values())
        if any(not 0 < v < 1 for v in shares) or abs(sum(shares) - 1.0) > 1e-9:
            raise RatingError(
                f"scale_shares must be in (0, 1) and add up to 1, got {dict(self.scale_shares)}"
            )
        if (
            int(self.scale_reference_month) != self.scale_reference_month
            or not 1 <= self.scale_reference_month <= 12
        ):
            raise RatingError(f"scale_reference_month must be a month 1-12, got {self.scale_reference_month}")
        if self.scale_min_subjects < 2 or not self.scale_min_gap > 0:
            raise RatingError("scale_min_subjects must be >= 2 and scale_min_gap > 0")
        if self.scale_period is not None and not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", str(self.scale_period)):
            raise RatingError(f"scale_period must be YYYY-MM, got {self.scale_period!r}")
        for t, k in (self.scale or {}).items():
            if t not in SUBJECT_TYPES:
                raise RatingError(
                    f"scale: unknown subject type {t!r} (expected one of {', '.join(SUBJECT_TYPES)})"
                )
            if len(k) != len(GRADES) - 1 or not all(math.isfinite(v) for v in k):
                raise RatingError(f"scale of {t}: need {len(GRADES) - 1} finite raw scores (B, A, AA, AAA)")
            if any(a >= b for a, b in zip(k, k[1:], strict=False)):
                raise RatingError(f"scale of {t}: the raw scores must rise from B to AAA, got {list(k)}")

    def criteria(self) -> list[Criterion]:
        """Split every indicator into monotone criteria, one per severity step.

        For an indicator whose bad events have severities s1 < s2 < ... the criterion
        for step j is the rate of events with severity >= s_j among the clean events and
        those events; it weighs (s_j - s_(j-1)) of the indicator. A bad event thus raises
        the rates of the steps it reaches and leaves the others alone, so that adding a
        bad event never raises a score and adding a clean one never lowers it, while a
        subject whose bad events are all of one severity s loses exactly s x its rate.
        """
        out: list[Criterion] = []
        for ind in INDICATORS:
            clean, bad = _INDICATOR_EVENTS[ind]
            levels = sorted({self.severity[e] for e in bad})
            prev = 0.0
            for lv in levels:
                num = tuple(e for e in bad if self.severity[e] >= lv)
                out.append(
                    Criterion(
                        name=f"{ind}>={lv:g}" if len(levels) > 1 else ind,
                        indicator=ind,
                        step=lv - prev,
                        bad=num,
                        clean=clean,
                        checked=ind in CHECKED_INDICATORS,
                    )
                )
                prev = lv
        return out


@dataclass(frozen=True)
class Criterion:
    name: str
    indicator: str
    step: float
    bad: tuple[str, ...]
    clean: tuple[str, ...]
    checked: bool


def indicator_events(indicator: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _INDICATOR_EVENTS[indicator]
