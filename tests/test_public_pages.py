"""Public pages (no login): certificate lookup, directory of bodies, public profiles — public fields only."""

import re
from datetime import date
from urllib.parse import quote

import sqlalchemy as sa

from auditbo.accounts.models import User
from auditbo.events import SYSTEM
from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus
from auditbo.orgs import services as registry
from auditbo.orgs.models import Enterprise, Organisation, Person
from auditbo.public import services
from auditbo.ratings.models import Rating, RatingRun
from tests.conftest import count_queries
from tests.factories import (
    CertificateFactory,
    ConsultingFactory,
    EnterpriseFactory,
    OrgFactory,
    PersonFactory,
)


def html(resp) -> str:
    return resp.get_data(as_text=True)


def rating(org=None, person=None, grade="AA", period="2026-10", status="published", version=1):
    run = db.session.scalar(sa.select(RatingRun).where(RatingRun.period == period, RatingRun.version == version))
    if run is None:
        run = RatingRun(period=period, version=version, status=status)
        db.session.add(run)
        db.session.flush()
    subject = "assessor" if person else org.kind.value
    db.session.add(Rating(run_id=run.id, subject_type=subject, org_id=org.id if org else None,
                          person_id=person.id if person else None, grade=grade, score=71.5,
                          contributions={}, reasons={}))
    db.session.flush()


# --------------------------------------------------------------------------- certificate lookup
def test_certificate_lookup_shows_the_four_public_facts_only(client):
    ent = EnterpriseFactory(name="示例公开制造有限公司")
    body = OrgFactory(name="不应出现的评定机构", contact="0591-9999999")
    cert = CertificateFactory(enterprise=ent, body=body, grade="AAA", certificate_no="IIMS-2026-AAA-000777",
                              valid_until=date(2029, 3, 19), external_ref="PRIVATE-REF-1")
    page = html(client.get("/certificates?no=IIMS-2026-AAA-000777&lang=en"))
    result = page[page.index('id="certificate-result"'):]
    assert "示例公开制造有限公司" in result and "AAA" in result and "2029-03-19" in result
    assert 'data-status="standing"' in result
    assert body.name in result  # the issuing body is public (issue 18); its contact and the record are not
    for private in (body.contact, ent.credit_code, cert.external_ref, ent.industry_code + "<",
                    str(cert.person_days)):
        assert private not in page
    assert services.certificate("IIMS-2026-AAA-000777") == {
        "certificate_no": "IIMS-2026-AAA-000777", "enterprise_name": "示例公开制造有限公司", "grade": "AAA",
        "status": "standing", "valid_until": date(2029, 3, 19), "body_name": body.name,
        "body_credit_code": body.credit_code}


def test_lookup_of_unknown_or_not_yet_standing_numbers_is_not_found(client):
    for status in ("filed", "pending_confirmation", "returned", "rejected", "withdrawn"):
        CertificateFactory(status=status, certificate_no=f"IIMS-NS-{status}")
        resp = client.get(f"/certificates?no=IIMS-NS-{status}")
        assert resp.status_code == 404, status
        assert 'id="certificate-not-found"' in html(resp)
    assert client.get("/certificates?no=NO-SUCH-NUMBER").status_code == 404
    assert client.get("/certificates").status_code == 200


def test_suspended_revoked_and_expired_certificates_stay_checkable(client):
    for status in ("suspended", "revoked", "expired"):
        CertificateFactory(status=status, certificate_no=f"IIMS-S-{status}")
        page = html(client.get(f"/certificates?no=IIMS-S-{status}"))
        assert f'data-status="{status}"' in page


def test_certificate_lookup_is_rate_limited(client):
    for _ in range(60):
        assert client.get("/certificates?no=GUESS").status_code == 404
    assert client.get("/certificates?no=GUESS").status_code == 429


# --------------------------------------------------------------------------- directory and profiles
def test_directory_filters_by_province_kind_and_status(client):
    hz = OrgFactory(name="杭州公开评定有限公司", region_code="330106",
                    credit_code=registry_code("330106", "MA9000001"))
    sh = ConsultingFactory(name="上海公开咨询有限公司")
    bj = OrgFactory(name="北京暂停评定有限公司")
    registry.change_status(bj, "suspended", "内部原因:不公开", actor=SYSTEM)

    def names(query=""):
        return set(re.findall(r'/directory/[0-9A-Z]{18}">([^<]+)<', html(client.get(f"/directory?{query}"))))

    assert names() == {hz.name, sh.name, bj.name}
    assert names("province=33") == {hz.name}
    assert names("kind=consulting_body") == {sh.name}
    assert names("status=suspended") == {bj.name}
    assert names("province=11&kind=assessment_body&status=active") == set()
    assert "内部原因" not in html(client.get("/directory")) + html(client.get(f"/directory/{bj.credit_code}"))


def registry_code(region, serial):
    from auditbo.codes import make_credit_code

    return make_credit_code(region, serial)


def test_profile_counts_standing_certificates_by_grade_and_shows_published_rating(client):
    body = OrgFactory(contact="0571-5550000", scope="秘密业务范围")
    cons = ConsultingFactory()
    for grade, status in [("A", "standing"), ("AA", "standing"), ("AA", "standing"), ("AAA", "standing"),
                          ("AAA", "pending_confirmation"), ("AAAA", "revoked"), ("AA", "expired")]:
        CertificateFactory(body=body, consulting_body_id=cons.id, grade=grade, status=status)
    staff = PersonFactory(org=body, name="不公开的人名")
    rating(org=body, grade="AA", period="2026-09")
    rating(org=body, grade="A", period="2026-10")
    rating(org=body, grade="C", period="2026-11", status="draft")
    rating(person=staff, grade="C", period="2026-10")
    profile = services.profile(body.credit_code)
    assert profile["standing_by_grade"] == {"A": 1, "AA": 2, "AAA": 1, "AAAA": 0, "AAAAA": 0}
    assert profile["standing_total"] == 4
    assert (profile["rating_grade"], profile["rating_period"]) == ("A", "2026-10")
    assert services.profile(cons.credit_code)["standing_total"] == 4  # counted for the consulting body too
    page = html(client.get(f"/directory/{body.credit_code}?lang=en"))
    assert 'id="profile-total">4<' in page and "A (2026-10)" in page
    for private in ("0571-5550000", "秘密业务范围", staff.name, staff.person_id):
        assert private not in page
    directory = html(client.get("/directory"))
    assert staff.name not in directory and "0571-5550000" not in directory
    assert client.get("/directory/91000000000000000X").status_code == 404


def test_profile_without_published_rating(client):
    body = OrgFactory()
    rating(org=body, grade="AAA", status="draft", period="2026-08")
    page = html(client.get(f"/directory/{body.credit_code}?lang=en"))
    assert "not yet published" in page


def test_directory_takes_a_fixed_number_of_queries(client):
    OrgFactory()
    client.get("/directory")
    with count_queries() as few:
        client.get("/directory")
    for _ in range(15):
        org = OrgFactory()
        CertificateFactory(body=org)
        rating(org=org)
    with count_queries() as many:
        assert client.get("/directory").status_code == 200
    assert len(many) == len(few) <= 3


def test_public_services_return_plain_dicts_not_orm_objects(app):
    org = OrgFactory()
    CertificateFactory(body=org, certificate_no="IIMS-PLAIN-1")
    rows, total = services.directory(services.DirectoryFilter())
    profile = services.profile(org.credit_code)
    cert = services.certificate("IIMS-PLAIN-1")
    for value in [*rows, profile, cert]:
        assert type(value) is dict
        assert all(isinstance(v, str | int | date | dict | type(None)) for v in value.values())
    assert set(rows[0]) == {"credit_code", "name", "kind", "region_code", "province", "status",
                            "standing_total", "rating_grade", "rating_period"}
    assert set(cert) == {"certificate_no", "enterprise_name", "grade", "status", "valid_until", "body_name",
                         "body_credit_code"}


def test_public_pages_need_no_login_and_are_chinese_by_default(client):
    org = OrgFactory()
    for url in ("/", "/directory", f"/directory/{org.credit_code}", "/certificates"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert 'lang="zh-CN"' in html(resp)
        assert 'style="' not in html(resp)
    assert "机构名录" in html(client.get("/directory"))
    assert "证书查询" in html(client.get("/certificates"))


# --------------------------------------------------------------------------- the demo data: no private field leaks
def test_public_html_holds_no_private_field_of_the_demo_data(client):
    from auditbo.demo import load_demo

    load_demo(seed=11, scale=0.1, as_of=date(2026, 11, 26))
    some = db.session.scalars(sa.select(Person).limit(3)).all()
    registry.upsert_person({"person_id": some[0].person_id, "name": some[0].name, "kind": some[0].kind.value,
                            "org_credit_code": some[0].org.credit_code,
                            "qualification": some[0].qualification.value,
                            "valid_until": some[0].valid_until.isoformat(),
                            "id_number": "11010519491231002X"}, actor=SYSTEM)
    org = db.session.scalars(sa.select(Organisation).order_by(Organisation.id)).first()
    registry.change_status(org, "suspended", "内部调查线索编号 Q-4471", actor=SYSTEM)
    registry.change_status(some[1], "suspended", "人员违规线索 P-9183", actor=SYSTEM)
    db.session.flush()

    # crawl every public page: directory pages (with each filter), every profile, certificate lookups
    pages = []
    queries = [""] + [f"kind={k}" for k in ("assessment_body", "consulting_body")] + \
              [f"status={s}" for s in ("active", "suspended", "revoked")] + ["province=11", "province=44"]
    for lang in ("zh_Hans_CN", "en"):
        for q in queries:
            args = dict(part.split("=") for part in q.split("&") if part)
            _rows, total = services.directory(services.DirectoryFilter(**args))
            for page_no in range(1, (total - 1) // services.PER_PAGE + 2):
                pages.append(html(client.get(f"/directory?{q}&page={page_no}&lang={lang}")))
    codes = db.session.scalars(sa.select(Organisation.credit_code)).all()
    pages += [html(client.get(f"/directory/{c}")) for c in codes]
    certs = db.session.execute(sa.select(Assessment.certificate_no, Assessment.status)).all()
    by_status = {}
    for number, status in certs:
        by_status.setdefault(status, []).append(number)
    for status, numbers in by_status.items():
        for number in numbers[:5]:  # the lookup is rate-limited (60 a minute)
            text = html(client.get(f"/certificates?no={quote(number)}"))
            if status not in services.PUBLIC_CERTIFICATE_STATUSES:
                # nothing found: the number appears only as the visitor's own query, echoed in the
                # search box and the language links
                assert 'id="certificate-not-found"' in text and 'id="certificate-result"' not in text
                text = text.replace(number, "")
            pages.append(text)
    public = "\n".join(pages)
    assert len(pages) > 50

    # every private field of the demo data
    private: set[str] = set()
    for contact, scope, reason in db.session.execute(
            sa.select(Organisation.contact, Organisation.scope, Organisation.status_reason)):
        private |= {v for v in (contact, scope, reason) if v}
    shown_names = " ".join(db.session.scalars(sa.select(Organisation.name)).all()
                           + db.session.scalars(sa.select(Enterprise.name)).all())
    skipped = set()
    for pid, name, reason, id_hash in db.session.execute(
            sa.select(Person.person_id, Person.name, Person.status_reason, Person.id_number_hash)):
        private |= {v for v in (pid, reason, id_hash) if v}
        # a two-character person name may occur inside a body's or an enterprise's (public) name
        (skipped if name in shown_names else private).add(name)
    private |= set(db.session.scalars(sa.select(Enterprise.credit_code)))
    for ref, number, status in db.session.execute(
            sa.select(Assessment.external_ref, Assessment.certificate_no, Assessment.status)):
        private.add(ref)
        if status not in services.PUBLIC_CERTIFICATE_STATUSES:
            private.add(number)  # not a certificate (yet): its number is not public
    for username, display in db.session.execute(sa.select(User.username, User.display_name)):
        private |= {username, display}
    private.add("11010519491231002X")
    assert len(skipped) < len(private) / 20
    leaks = sorted(v for v in private if v in public)
    assert leaks == []
    # and the scan could fail: public facts are there
    assert any(name in public for name in db.session.scalars(sa.select(Organisation.name)))
    assert by_status[AssessmentStatus.standing][0] in public
