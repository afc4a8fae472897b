"""Person-days, made coherent: up to 30 % below the minimum with a reason is accepted and flagged; further
below is refused; the red flag fires when the team's on-site capacity (members × on-site days) is under
half the minimum, however many days are declared."""

from datetime import date, timedelta

from auditbo.extensions import db
from auditbo.filings.models import Assessment
from auditbo.filings.rules import min_person_days, onsite_capacity, person_days_flags
from tests.filing_support import make_registry, payload

CFG = {"PERSON_DAYS_MAX_REDUCTION": 0.30, "PERSON_DAYS_RED_FLAG": 0.5}


def test_rule():
    assert person_days_flags(10, 10, CFG) == (True, False, False)
    assert person_days_flags(7, 10, CFG) == (True, True, False)
    assert person_days_flags(6.9, 10, CFG)[0] is False
    assert onsite_capacity(2, date(2026, 3, 2), date(2026, 3, 3)) == 4
    assert person_days_flags(8, 10, CFG, capacity=4)[2] is True  # 8 days declared, 4 possible on site
    assert person_days_flags(8, 10, CFG, capacity=5)[2] is False


def _file(client, reg, p):
    resp = client.post("/api/v1/assessments", json=p, headers=reg.headers())
    return resp


def test_filings(app, client):
    reg = make_registry()
    base = payload(reg, grade="AA", team=[{"person_id": reg.lead.person_id, "role": "lead"}])
    pd_min = min_person_days(base["enterprise"]["employees"], "initial", app.config)
    end = date.fromisoformat(base["onsite_end"])
    # a justified reduction of 20 %, a one-person team on site for a single day: accepted, reduced, red
    p = dict(
        base, person_days=round(pd_min * 0.8, 1), reduction_reason="体系成熟", onsite_start=end.isoformat()
    )
    resp = _file(client, reg, p)
    assert resp.status_code == 201, resp.get_json()
    a = db.session.get(Assessment, resp.get_json()["id"])
    assert a.flag_reduced_days and a.flag_low_days
    # the same days over a window the team could fill: no red flag
    p = payload(
        reg,
        grade="AA",
        team=[{"person_id": reg.lead.person_id, "role": "lead"}],
        person_days=round(pd_min * 0.8, 1),
        reduction_reason="体系成熟",
        onsite_start=(end - timedelta(days=int(pd_min))).isoformat(),
        onsite_end=end.isoformat(),
    )
    resp = _file(client, reg, p)
    assert resp.status_code == 201, resp.get_json()
    a = db.session.get(Assessment, resp.get_json()["id"])
    assert a.flag_reduced_days and not a.flag_low_days
    # 40 % below: refused; a reduction without a reason: refused
    assert (
        _file(
            client,
            reg,
            dict(
                base,
                person_days=round(pd_min * 0.6, 1),
                reduction_reason="x",
                external_ref="PJ-X-1",
                certificate_no="IIMS-X-1",
            ),
        ).status_code
        == 422
    )
    resp = _file(
        client,
        reg,
        dict(base, person_days=round(pd_min * 0.8, 1), external_ref="PJ-X-2", certificate_no="IIMS-X-2"),
    )
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "reduction_reason"
