from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import IdMixin, created_at_column
from auditbo.extensions import db


class Checklist(IdMixin, db.Model):
    """A version of the audit criteria for a grade (and optionally an assessment type). The newest
    version effective by a day is in force on that day; a confirmation audit or a spot check keeps the
    id (so the version) of the checklist it was answered against."""

    __tablename__ = "checklists"

    grade: Mapped[str] = mapped_column(sa.String(5))
    assessment_type: Mapped[str | None] = mapped_column(sa.String(20))
    version: Mapped[int] = mapped_column(sa.Integer)
    items: Mapped[list] = mapped_column(sa.JSON)  # [{"key": ..., "text": ...}]
    effective_from: Mapped[date] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.UniqueConstraint("grade", "assessment_type", "version", name="uq_checklists_grade_type_version"),
    )
