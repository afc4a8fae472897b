"""Helpers for the spot-check tests: a small market of standing records, an office, a drawn plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.events import Actor
from auditbo.extensions import db
from auditbo.filings import services as filings
from auditbo.filings.models import Assessment
from auditbo.spotchecks import services
from auditbo.spotchecks.models import SamplingPlan, SpotCheck
from tests.factories import UserFactory
from tests.filing_support import TODAY, Registry, make_registry, payload


@dataclass
class Market:
    reg: Registry
    admin: object
    admin2: object
    records: list[int]
    tokens: dict

    @property
    def author(self):
        return self.reg.supervisors[0]

    def h(self, user) -> dict:
        if user.id not in self.tokens:
            self.tokens[user.id] = create_token(user, "t")[1]
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}


def make_market(n: int = 24, n_supervisors: int = 4, grade: str = "AA") -> Market:
    reg = make_registry(n_supervisors)
    records = []
    for _ in range(n):
        r = filings.file_assessment(reg.body, payload(reg, grade=grade), actor=Actor.of_api(reg.clerk))
        records.append(r.assessment_id)
    db.session.flush()
    return Market(reg, UserFactory(role=Role.admin), UserFactory(role=Role.admin), records, {})


def population(**over) -> dict:
    p = {"decided_from": (TODAY - timedelta(days=365)).isoformat(), "decided_to": TODAY.isoformat()}
    p.update(over)
    return p


def plan_body(size: int = 6, **over) -> dict:
    body = {"name": "2026年度抽查计划", "population": population(), "size": size}
    body.update(over)
    return body


def actor(user) -> Actor:
    return Actor(user.id, user.username)


def drawn_plan(m: Market, size: int = 6, seed: int = 7, **over) -> SamplingPlan:
    plan = services.create_plan(plan_body(size, **over), actor(m.author))
    services.approve_plan(plan, actor(m.admin))
    services.draw_plan(plan, actor(m.admin), seed=seed)
    db.session.flush()
    return plan


def checks_of(plan: SamplingPlan) -> list[SpotCheck]:
    return list(db.session.scalars(sa.select(SpotCheck).where(SpotCheck.plan_id == plan.id).order_by(SpotCheck.id)))


def assessment(aid: int) -> Assessment:
    return db.session.get(Assessment, aid)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def post_files(client, path: str, files: list[tuple[bytes, str]], fields: dict | None = None, headers=None):
    """A multipart POST encoded in memory (the test client would spool a large body to a temp file)."""
    import io

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    data = MultiDict(fields or {})
    for content, name in files:
        data.add("files", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers=headers or {})


def zip_bomb(inflated: int = 50 * 1024 * 1024) -> bytes:
    """A small archive that inflates to ``inflated`` bytes of zeros."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("evidence.pdf", "w") as member:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(inflated // len(chunk)):
            member.write(chunk)
    return buf.getvalue()


def inspectors_of(check) -> list:
    from auditbo.accounts.models import User
    from auditbo.spotchecks.models import SpotCheckInspector

    ids = db.session.scalars(sa.select(SpotCheckInspector.user_id)
                             .where(SpotCheckInspector.spot_check_id == check.id)).all()
    return [db.session.get(User, i) for i in ids]
