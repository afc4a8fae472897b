"""Qualification rules that filing applies to a team: pure functions, no database, no app.

They take a registry :class:`~auditbo.orgs.models.Person` or any object with the same
``qualification``, ``status`` and ``valid_until`` attributes (enums or their string
values — filing's light ``PersonRow`` works as is). Also importable from
:mod:`auditbo.orgs.services`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from auditbo.orgs.models import RegistryStatus


def _level(grade_level) -> int:
    return grade_level.level if hasattr(grade_level, "level") else int(grade_level)


def lead_may_lead(person, grade_level, config: Mapping) -> bool:
    """May ``person`` lead an assessment of this grade?

    ``grade_level`` is a :class:`~auditbo.filings.models.Grade` or its level 1..5 (A=1 … AAAAA=5);
    ``config`` is the app config (``LEAD_QUALIFICATION_MAX_LEVEL``: qualification → highest
    level it may lead; default a lead up to AA, a senior lead every grade). Only the
    qualification is judged here; whether the person may work at all is
    :func:`person_is_usable`.
    """
    limits = config["LEAD_QUALIFICATION_MAX_LEVEL"]
    qualification = getattr(person.qualification, "value", person.qualification)
    return _level(grade_level) <= int(limits.get(qualification, 0))


def person_is_usable(person, on_date: date) -> bool:
    """May ``person`` take part in an assessment on ``on_date``: active, and qualified on that day."""
    return not person_problems(person, on_date)


def person_problems(person, on_date: date, *, grade_level=None, config: Mapping | None = None) -> list[str]:
    """Why ``person`` may not serve on ``on_date`` (and lead ``grade_level``, when given): English reasons.

    Empty when usable. The qualification counts as valid through its ``valid_until`` day;
    no ``valid_until`` means no end date. Employer status is not judged here (filing
    checks the body itself).
    """
    problems = []
    status = RegistryStatus(person.status)
    if status is not RegistryStatus.active:
        problems.append(f"is {status.value} in the registry")
    if person.valid_until is not None and on_date > person.valid_until:
        problems.append(f"qualification expired on {person.valid_until.isoformat()}")
    if grade_level is not None:
        if config is None:
            raise TypeError("config is needed to judge a lead's qualification")
        if not lead_may_lead(person, grade_level, config):
            qualification = getattr(person.qualification, "value", person.qualification)
            problems.append(f"a {qualification} may not lead grade {'A' * _level(grade_level)}")
    return problems
