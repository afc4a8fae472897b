"""Pure rules for filings that need no database: person-days minimum, grade jump, deadlines."""

from __future__ import annotations

from datetime import date


def min_person_days(employees: int, assessment_type: str, config) -> float:
    """Minimum on-site person-days (spec/domain.md; default IAF MD 5 QMS table)."""
    table = config["PERSON_DAYS_TABLE"]
    base = config["PERSON_DAYS_ABOVE_TABLE"]
    for upper, days in table:
        if employees <= upper:
            base = days
            break
    factor = config["PERSON_DAYS_FACTORS"].get(assessment_type, 1.0)
    return round(float(base) * factor, 2)


def onsite_capacity(team_size: int, onsite_start: date, onsite_end: date) -> float:
    """The most person-days a team can have spent on site: its members × the on-site days (both ends counted)."""
    return float(team_size * ((onsite_end - onsite_start).days + 1))


def person_days_flags(person_days: float, minimum: float, config, *,
                      capacity: float | None = None) -> tuple[bool, bool, bool]:
    """(accepted, reduced, red_flag).

    Declared person-days below the minimum by at most ``PERSON_DAYS_MAX_REDUCTION`` (30 %) are accepted
    and flagged as reduced (a justification is required); further below, the filing is refused. The red
    flag is about what the team could have done, not what it declares (a declaration under half the minimum
    is refused before it could be flagged): it fires when the team's on-site ``capacity`` (members × on-site
    days) is under ``PERSON_DAYS_RED_FLAG`` (half) of the minimum, i.e. the declared days cannot all have
    been spent on site. Sampling treats it as a risk feature.
    """
    max_red = config["PERSON_DAYS_MAX_REDUCTION"]
    accepted = person_days >= minimum * (1 - max_red) - 1e-9
    reduced = person_days < minimum - 1e-9
    red = capacity is not None and capacity < minimum * config["PERSON_DAYS_RED_FLAG"] - 1e-9
    return accepted, reduced, red


def is_grade_jump(previous_level: int | None, new_level: int) -> bool:
    """A grade more than one level above the enterprise's previous standing grade."""
    return previous_level is not None and new_level - previous_level > 1


def default_valid_until(decision: date, years: int) -> date:
    try:
        return decision.replace(year=decision.year + years)
    except ValueError:  # 29 February
        return decision.replace(year=decision.year + years, day=28)


def is_late(decision: date, filed_on: date, late_days: int) -> bool:
    return (filed_on - decision).days > late_days
