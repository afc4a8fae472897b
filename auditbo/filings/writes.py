"""The rows a new assessment writes in its child tables (team, consultants, capabilities, status
changes), and on PostgreSQL one statement for a filing's assessment with all of them."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from auditbo.database import COPY_MIN_ROWS, bulk_insert
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings.models import (
    Assessment,
    AssessmentConsultant,
    AssessmentStatus,
    Capability,
    StatusChange,
    TeamMember,
)

S = AssessmentStatus


CHILDREN = (TeamMember, AssessmentConsultant, Capability, StatusChange)


def children_of(f, row: dict, actor: Actor, now) -> dict[type, list[dict]]:
    """A new assessment's rows in its child tables (without the assessment's id)."""
    return {
        TeamMember: [{"person_id": pk, "role": role} for pk, role in f.team],
        AssessmentConsultant: [{"person_id": pk} for pk in f.consultant_pks],
        Capability: [{"name": c["name"], "level": int(c["level"][2])} for c in f.capabilities],
        StatusChange: [
            {"from_status": None, "to_status": S.filed.value, "actor_id": actor.id, "reason": None, "at": now},
            {"from_status": S.filed.value, "to_status": row["status"], "actor_id": None, "reason": None, "at": now},
        ],
    }


def insert_with_children(row: dict, kids: dict[type, list[dict]]) -> int:
    """PostgreSQL: the assessment and its child rows in one statement (data-modifying WITH clauses:
    each child table's INSERT selects the new id from the assessment's); returns the new id."""
    shape = (tuple(row), tuple((model, tuple(rows[0]), len(rows)) for model, rows in kids.items() if rows))
    params = {f"a_{k}": v for k, v in row.items()}
    for model, rows in kids.items():
        for i, r in enumerate(rows):
            params.update({f"{model.__tablename__}_{i}_{k}": v for k, v in r.items()})
    return db.session.execute(_with_children_statement(shape), params).scalar_one()


@functools.lru_cache(maxsize=256)
def _with_children_statement(shape: tuple) -> sa.Select:
    """The statement of :func:`insert_with_children` for one shape (the assessment's columns, and per
    child table its columns and row count), built once: bound parameters ``a_<column>`` and
    ``<table>_<row>_<column>``."""
    a_cols, children = shape
    table = Assessment.__table__
    new = (sa.insert(table).values({c: sa.bindparam(f"a_{c}", type_=table.c[c].type) for c in a_cols})
           .returning(table.c.id).cte("new_assessment"))
    ctes = []
    for model, cols, n in children:
        t = model.__table__
        rows = [sa.select(*[sa.bindparam(f"{t.name}_{i}_{c}", type_=t.c[c].type).label(c) for c in cols])
                for i in range(n)]  # a UNION ALL of the rows (SQLAlchemy caches it; a VALUES list it compiles anew)
        given = (rows[0] if n == 1 else sa.union_all(*rows)).subquery(f"v_{t.name}")
        pick = sa.select(new.c.id, *[given.c[c] for c in cols]).select_from(new).join(given, sa.true())
        ctes.append(sa.insert(t).from_select(["assessment_id", *cols], pick).cte(f"w_{t.name}"))
    return sa.select(new.c.id).add_cte(*ctes)


def insert_children(tables: list[tuple[type, list[dict]]]) -> None:
    """The rows of an assessment's child tables. A few rows (one filing) on PostgreSQL go in one
    statement (each table's INSERT a data-modifying WITH of the last one's); otherwise one bulk
    insert per table."""
    present = [(model, rows) for model, rows in tables if rows]
    if (len(present) > 1 and sum(len(rows) for _m, rows in present) < COPY_MIN_ROWS
            and db.session.get_bind().dialect.name == "postgresql"):
        ctes = [sa.insert(model).values(rows).cte(f"w_{model.__tablename__}") for model, rows in present[:-1]]
        model, rows = present[-1]
        db.session.execute(sa.insert(model).values(rows).add_cte(*ctes))
        return
    for model, rows in present:
        bulk_insert(model, rows)
