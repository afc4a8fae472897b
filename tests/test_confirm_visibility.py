"""What a body sees of the confirmation of its own record: the state always, the reviewer
and findings once decided (configurable: CONFIRMATION_REVIEWER_TO_BODY)."""

import pytest

from auditbo.confirmations import services
from tests.confirm_support import actor, file_aaa, make_office


@pytest.mark.parametrize("rule,before,after", [("after_decision", False, True), ("always", True, True),
                                               ("never", False, False)])
def test_reviewer_identity_for_the_body(app, client, monkeypatch, rule, before, after):
    monkeypatch.setitem(app.config, "CONFIRMATION_REVIEWER_TO_BODY", rule)
    office = make_office()
    a, audit = file_aaa(office)
    url, h = f"/api/v1/assessments/{a.id}", office.reg.headers()
    conf = client.get(url, headers=h).get_json()["confirmation"]
    assert conf["status"] == "assigned" and (conf["reviewer"] is not None) is before and conf["findings"] == []
    reviewer = office.user(audit.assignee_id)
    services.declare(audit, actor(reviewer))
    services.add_finding(audit, "minor", "报告要素不全", "body", None, actor(reviewer))
    services.decide(audit, "returned", None, "请补充材料", audit.version, actor(reviewer))
    conf = client.get(url, headers=h).get_json()["confirmation"]
    assert conf["decision"] == "returned" and conf["findings"][0]["text"] == "报告要素不全"
    assert (conf["reviewer"] is not None) is after
