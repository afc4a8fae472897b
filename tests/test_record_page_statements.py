"""The record page reads its record in a fixed number of statements (issue 19: fewer round trips), the
same for a record with a confirmation audit, a history and a timeline; and the page shows them."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from auditbo.accounts.models import Role
from auditbo.events import timeline
from auditbo.extensions import db
from auditbo.filings import records
from tests.factories import UserFactory
from tests.filing_support import make_registry, payload


@contextlib.contextmanager
def counted():
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_the_record_is_read_in_seven_statements(client, app, login):
    reg = make_registry()
    resp = client.post("/api/v1/assessments", json=payload(reg, grade="AAA"), headers=reg.headers())
    assert resp.status_code == 201, resp.get_json()
    rid = resp.get_json()["id"]
    sup = UserFactory(role=Role.supervisor)
    db.session.expire_all()
    assert sup.role is Role.supervisor  # the caller is loaded (as the request's session user is)
    with counted() as seen:
        a = records.get_visible(rid, sup)
        events = timeline("assessment", a.id)
        users = records.actors_of(a, {e.actor for e in events})
        rec = records.to_dict(a, show_reviewer=True, users=users)
        shown = records.actor_as_seen(a, {e.actor for e in events}, office=True, users=users)
    # the record with its enterprise, bodies and capabilities; team; consultants; history; events; the
    # users behind history and events; the confirmation audit with its findings and reviewer
    assert len(seen) == 7, "\n".join(" ".join(s.split())[:120] for s in seen)
    assert rec["confirmation"]["status"] in ("assigned", "pending") and rec["confirmation"]["reviewer"]
    assert rec["capabilities"] and rec["team"] and [h["to_status"] for h in rec["history"]][-1] == "pending_confirmation"
    assert reg.clerk.username in shown and rec["history"][0]["actor"] == reg.clerk.username
    # the page shows the same, for the office and for the body (which sees no reviewer before the decision)
    login(sup)
    html = client.get(f"/assessments/{rid}").get_data(as_text=True)
    assert rec["confirmation"]["reviewer"] in html and 'id="timeline"' in html
