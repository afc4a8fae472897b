"""Drawing a reviewer for a confirmation audit: at random (seeded and recorded), never one
who is recused, preferring the least loaded.

Recused (spec/domain.md): a supervisor tied to the assessment body, the consulting body or
the enterprise within the look-back window (``RECUSAL_LOOKBACK_YEARS``, from their
affiliations), or listed by hand in ``recusals``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import sqlalchemy as sa

from auditbo.accounts.models import Affiliation, Role, User
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Recusal
from auditbo.errors import Conflict
from auditbo.extensions import db

LOAD_SLACK = 2  # draw among reviewers whose open load is at most the lowest + this
_OPEN_LOAD: dict[str, tuple[float, dict[int, int]]] = {}  # database -> (counted at, open audits per reviewer)


class NoEligibleReviewer(Conflict):
    title = "No eligible reviewer"


@dataclass
class ReviewerPool:
    """Supervisors with their ties and open load, loaded once for many draws."""

    today: date
    lookback_years: int
    reviewers: list[int] = field(default_factory=list)
    ties: dict[int, set[tuple[str, int]]] = field(default_factory=dict)  # user -> {("org", id), ("ent", id)}
    load: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load_from_db(cls, today: date, lookback_years: int, *, load_ttl: float = 0.0) -> ReviewerPool:
        """Reviewers and their ties, always read afresh; their open load, see :func:`open_load`."""
        pool = cls(today, lookback_years)
        since = lookback_start(today, lookback_years)
        none_int, none_date = sa.cast(sa.null(), sa.Integer), sa.cast(sa.null(), sa.Date)
        # one round trip: the reviewers ('u'), their affiliations ('a') and recusals ('r')
        rows = db.session.execute(sa.union_all(
            sa.select(sa.literal_column("'u'"), User.id, none_int, none_int, none_date)
            .where(User.role == Role.supervisor, User.active.is_(True)),
            sa.select(sa.literal_column("'a'"), Affiliation.user_id, Affiliation.org_id, Affiliation.enterprise_id,
                      Affiliation.ended_on),
            sa.select(sa.literal_column("'r'"), Recusal.user_id, Recusal.org_id, Recusal.enterprise_id, none_date),
        )).all()
        pool.reviewers = sorted(uid for tag, uid, *_ in rows if tag == "u")
        for tag, uid, org_id, ent_id, ended in rows:
            if tag == "r" or (tag == "a" and (ended is None or ended >= since)):
                pool._tie(uid, org_id, ent_id)
        pool.load = open_load(load_ttl)
        return pool

    def _tie(self, uid: int, org_id: int | None, ent_id: int | None) -> None:
        party = ("org", org_id) if org_id is not None else ("ent", ent_id)
        self.ties.setdefault(uid, set()).add(party)

    def eligible(self, parties: set[tuple[str, int]], exclude: set[int] = frozenset()) -> list[int]:
        return [u for u in self.reviewers if u not in exclude and not (self.ties.get(u, set()) & parties)]

    def draw(self, parties: set[tuple[str, int]], seed: int | None = None,
             exclude: set[int] = frozenset()) -> tuple[int, int]:
        """(reviewer id, seed). Raises NoEligibleReviewer rather than picking a recused one."""
        candidates = self.eligible(parties, exclude)
        if not candidates:
            raise NoEligibleReviewer("every supervisor is recused from this assessment's parties")
        seed = secrets.randbits(62) if seed is None else seed
        low = min(self.load.get(u, 0) for u in candidates)
        lightest = [u for u in candidates if self.load.get(u, 0) <= low + LOAD_SLACK]
        chosen = lightest[int(np.random.default_rng(seed).integers(len(lightest)))]
        self.load[chosen] = self.load.get(chosen, 0) + 1
        return chosen, seed


def open_load(ttl: float = 0.0) -> dict[int, int]:
    """Open audits per reviewer. Counting them scans every open audit (~9 ms at 10,000), once per
    filing; with ``ttl`` > 0 a process reuses its count for that many seconds and adds its own draws
    to it. The draw only prefers the least loaded within LOAD_SLACK, so a count a few seconds old
    does no harm; ties and recusals are never cached."""
    key = str(db.session.get_bind().engine.url)
    now = time.monotonic()
    cached = _OPEN_LOAD.get(key)
    if ttl > 0 and cached is not None and now - cached[0] < ttl:
        return cached[1]
    open_ = ConfirmationAudit.status.in_([AuditStatus.pending, AuditStatus.assigned])
    load = dict(db.session.execute(
        sa.select(ConfirmationAudit.assignee_id, sa.func.count())
        .where(open_, ConfirmationAudit.assignee_id.is_not(None)).group_by(ConfirmationAudit.assignee_id)
    ).all())
    if ttl > 0:
        _OPEN_LOAD[key] = (now, load)
    return load


def lookback_start(today: date, lookback_years: int) -> date:
    """An affiliation that ended on or after this day still ties the reviewer."""
    return date(today.year - lookback_years, today.month, min(today.day, 28))


def ties_of(user_id: int, today: date, lookback_years: int) -> set[tuple[str, int]]:
    """One reviewer's ties (affiliations within the look-back window and recusals listed by hand)."""
    since = lookback_start(today, lookback_years)
    ties: set[tuple[str, int]] = set()
    rows = db.session.execute(
        sa.select(Affiliation.org_id, Affiliation.enterprise_id).where(
            Affiliation.user_id == user_id, sa.or_(Affiliation.ended_on.is_(None), Affiliation.ended_on >= since))
    ).all()
    rows += db.session.execute(
        sa.select(Recusal.org_id, Recusal.enterprise_id).where(Recusal.user_id == user_id)).all()
    for org_id, ent_id in rows:
        ties.add(("org", org_id) if org_id is not None else ("ent", ent_id))
    return ties


def is_recused(user_id: int, parties: set[tuple[str, int]], today: date, lookback_years: int) -> bool:
    return bool(ties_of(user_id, today, lookback_years) & parties)


def parties_of(body_id: int, consulting_body_id: int | None, enterprise_id: int) -> set[tuple[str, int]]:
    parties = {("org", body_id), ("ent", enterprise_id)}
    if consulting_body_id:
        parties.add(("org", consulting_body_id))
    return parties
