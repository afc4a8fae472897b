"""The bare baseline app of B1/B2 (spec/performance.md): plain Flask + SQLAlchemy Core, no auth,
no validation, no templates. Served by the same gunicorn settings as the project::

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/auditbo_bench \
        PYTHONPATH=.:bench .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:PORT bare_app:app

* ``POST /bare/assessments``: parse the JSON body, one Core INSERT into ``bench_bare_rows`` + commit, 201.
* ``POST /bare/filings``: the *same writes* as a real filing (issue 19), in one transaction, Core
  only, no validation: one look-up of the persons, consulting body and enterprise by their codes,
  the enterprise when it is new, the assessment, its team, consultants, capabilities, two status
  changes, the confirmation audit of an AAA+ grade (a reviewer drawn from the supervisors read at
  start), and the events chained under the same advisory lock with the project's own digest
  (so ``flask events verify`` stays exact); 201 with the new id.
* ``GET /bare/assessments/<id>``: one Core primary-key lookup on ``assessments``, the row as JSON.
* ``GET /health``: no database.
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

from auditbo.events import _ADVISORY_LOCK_KEY, GENESIS, _digest  # the chain's own key and digest

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)
meta = sa.MetaData()
rows = sa.Table(
    "bench_bare_rows", meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("external_ref", sa.String(64)),
    sa.Column("certificate_no", sa.String(64)),
    sa.Column("payload", sa.Text),
)
assessments = sa.Table("assessments", meta, autoload_with=engine)
T = {name: sa.Table(name, meta, autoload_with=engine) for name in (
    "enterprises", "assessment_team", "assessment_consultants", "assessment_capabilities",
    "assessment_status_changes", "confirmation_audits", "events")}
with engine.connect() as _c:
    SUPERVISORS = [r[0] for r in _c.execute(sa.text(
        "SELECT id FROM users WHERE role = 'supervisor' AND active ORDER BY id"))]
    BENCH_ACTOR = _c.execute(sa.text("SELECT id, username FROM users WHERE role = 'body_clerk' "
                                     "ORDER BY username LIMIT 1")).one()

LOOKUP = sa.text(
    "SELECT 'p', person_id, id, org_id FROM persons WHERE person_id = ANY(:pids) "
    "UNION ALL SELECT 'o', credit_code, id, NULL FROM organisations WHERE credit_code = :org "
    "UNION ALL SELECT 'e', credit_code, id, NULL FROM enterprises WHERE credit_code = :ent")
LOCK = sa.text("SELECT pg_advisory_xact_lock(:k)")
LAST = sa.text("SELECT hash FROM events ORDER BY id DESC LIMIT 1")

app = Flask(__name__)


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/bare/assessments")
def insert():
    data = request.get_json()
    with engine.begin() as conn:
        new_id = conn.execute(sa.insert(rows).values(
            external_ref=data.get("external_ref"), certificate_no=data.get("certificate_no"),
            payload=json.dumps(data, ensure_ascii=False)).returning(rows.c.id)).scalar_one()
    return jsonify({"id": new_id}), 201


def _event(actor: tuple, record_type: str, record_id: int, action: str, before, after, reason, at) -> dict:
    return {"occurred_at": at, "actor_id": actor[0], "actor": actor[1], "record_type": record_type,
            "record_id": str(record_id), "action": action, "before": before, "after": after, "reason": reason}


@app.post("/bare/filings")
def same_writes():
    d = request.get_json()
    ent, cb = d["enterprise"], d.get("consulting_body") or {}
    level = len(d["grade"])
    status = "pending_confirmation" if level >= 3 else "standing"
    now = datetime.now(UTC)
    decided = date.fromisoformat(d["decision_date"])
    with engine.begin() as conn:
        pids = [m["person_id"] for m in d["team"]] + list(cb.get("consultant_ids") or [])
        found = {(k, code): (pk, org) for k, code, pk, org in conn.execute(
            LOOKUP, {"pids": pids, "org": cb.get("credit_code", ""), "ent": ent["credit_code"]})}
        body_id = found[("p", d["team"][0]["person_id"])][1]
        cons_id = found.get(("o", cb.get("credit_code")), (None,))[0]
        ent_id = found.get(("e", ent["credit_code"]), (None,))[0]
        if ent_id is None:
            ent_id = conn.execute(sa.insert(T["enterprises"]).returning(T["enterprises"].c.id), {
                "credit_code": ent["credit_code"], "name": ent["name"], "region_code": ent["region_code"],
                "industry_code": ent["industry_code"], "size": ent["size"], "employees": ent["employees"],
                "created_at": now, "updated_at": now}).scalar_one()
        aid = conn.execute(sa.insert(assessments).returning(assessments.c.id), {
            "body_id": body_id, "external_ref": d["external_ref"], "enterprise_id": ent_id,
            "assessment_type": d["assessment_type"], "grade": d["grade"], "filed_grade": d["grade"],
            "previous_grade": None, "consulting_body_id": cons_id, "person_days": d["person_days"],
            "person_days_min": d["person_days"], "reduction_reason": d.get("reduction_reason"),
            "onsite_start": date.fromisoformat(d["onsite_start"]), "onsite_end": date.fromisoformat(d["onsite_end"]),
            "decision_date": decided, "certificate_no": d["certificate_no"],
            "valid_until": decided.replace(year=decided.year + 3) - timedelta(days=1),
            "region_code": ent["region_code"], "industry_code": ent["industry_code"], "status": status,
            "flag_late": False, "flag_grade_jump": False, "flag_reduced_days": False, "flag_low_days": False,
            "flag_tie": False, "flag_surveillance_overdue": False, "content_hash": "0" * 64,
            "filed_by_id": BENCH_ACTOR[0], "filed_at": now, "updated_at": now, "version": 1}).scalar_one()
        conn.execute(sa.insert(T["assessment_team"]), [
            {"assessment_id": aid, "person_id": found[("p", m["person_id"])][0], "role": m["role"]} for m in d["team"]])
        if cb.get("consultant_ids"):
            conn.execute(sa.insert(T["assessment_consultants"]), [
                {"assessment_id": aid, "person_id": found[("p", c)][0]} for c in cb["consultant_ids"]])
        conn.execute(sa.insert(T["assessment_capabilities"]), [
            {"assessment_id": aid, "name": c["name"], "level": int(c["level"][2])} for c in d["capabilities"]])
        conn.execute(sa.insert(T["assessment_status_changes"]), [
            {"assessment_id": aid, "from_status": None, "to_status": "filed", "actor_id": BENCH_ACTOR[0],
             "reason": None, "at": now},
            {"assessment_id": aid, "from_status": "filed", "to_status": status, "actor_id": None, "reason": None,
             "at": now}])
        system = (None, "system")
        evs = [_event(BENCH_ACTOR, "assessment", aid, "filed", None,
                      {"external_ref": d["external_ref"], "grade": d["grade"],
                       "certificate_no": d["certificate_no"], "flags": []}, None, now),
               _event(system, "assessment", aid, "status_changed", {"status": "filed"}, {"status": status}, None, now)]
        if level >= 3:
            reviewer, seed = random.choice(SUPERVISORS), random.getrandbits(62)
            due = (now + timedelta(days=14)).date()
            audit_id = conn.execute(sa.insert(T["confirmation_audits"]).returning(T["confirmation_audits"].c.id), {
                "assessment_id": aid, "round": 1, "status": "assigned", "assignee_id": reviewer, "assigned_at": now,
                "draw_seed": seed, "due_date": due, "checklist": {}, "created_at": now, "version": 1}).scalar_one()
            evs.append(_event(system, "confirmation", audit_id, "assigned", None,
                              {"assessment_id": aid, "round": 1, "assignee_id": reviewer, "draw_seed": seed,
                               "due_date": due.isoformat()}, None, now))
        conn.execute(LOCK, {"k": _ADVISORY_LOCK_KEY})
        prev = conn.execute(LAST).scalar() or GENESIS
        for ev in evs:
            ev["prev_hash"] = prev
            ev["hash"] = prev = _digest(prev, ev)
        conn.execute(sa.insert(T["events"]), evs)
    return jsonify({"id": aid}), 201


@app.get("/bare/assessments/<int:assessment_id>")
def lookup(assessment_id: int):
    with engine.connect() as conn:
        row = conn.execute(sa.select(assessments).where(assessments.c.id == assessment_id)).mappings().first()
    if row is None:
        abort(404)
    return jsonify({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
