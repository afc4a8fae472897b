"""A lease held in the database, so that exactly one process runs a scheduled job."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import UTCDateTime, utcnow
from auditbo.extensions import db


class JobLock(db.Model):
    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_key: Mapped[str | None] = mapped_column(sa.String(40))  # e.g. the period a job last completed


def acquire(name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False if another live holder has it.

    The caller commits. Works the same on SQLite and PostgreSQL: the conditional
    UPDATE is atomic, and a concurrent first INSERT loses on the primary key.
    """
    now = utcnow()
    res = db.session.execute(
        sa.update(JobLock)
        .where(JobLock.name == name, sa.or_(JobLock.holder == holder, JobLock.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if res.rowcount:
        return True
    if db.session.get(JobLock, name) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(JobLock(name=name, holder=holder, expires_at=now + ttl))
    except sa.exc.IntegrityError:
        return False
    return True


def release(name: str, holder: str) -> None:
    """End the lease (the row stays: it remembers what the job last completed)."""
    db.session.execute(sa.update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
