"""The bare baseline app of B1/B2 (spec/performance.md): plain Flask + SQLAlchemy Core, no auth,
no validation, no templates. Served by the same gunicorn settings as the project::

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/auditbo_bench \
        PYTHONPATH=bench .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:PORT bare_app:app

* ``POST /bare/assessments``: parse the JSON body, one Core INSERT into ``bench_bare_rows`` + commit, 201.
* ``GET /bare/assessments/<id>``: one Core primary-key lookup on ``assessments``, the row as JSON.
* ``GET /health``: no database.
"""

from __future__ import annotations

import json
import os

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

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


@app.get("/bare/assessments/<int:assessment_id>")
def lookup(assessment_id: int):
    with engine.connect() as conn:
        row = conn.execute(sa.select(assessments).where(assessments.c.id == assessment_id)).mappings().first()
    if row is None:
        abort(404)
    return jsonify({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
