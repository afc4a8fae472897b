"""factory_boy factories bound to the test session."""

from __future__ import annotations

from datetime import date

import factory

from auditbo.accounts.models import Role, User
from auditbo.accounts.services import hash_password
from auditbo.codes import CREDIT_ALPHABET, make_credit_code
from auditbo.extensions import db
from auditbo.orgs.models import Enterprise, Organisation, OrgKind, Person, PersonKind, Qualification

PASSWORD = "correct horse battery"
_HASH_CACHE: dict[str, str] = {}


def _serial(n: int, lead: str) -> str:
    chars = []
    for _ in range(8):
        n, r = divmod(n, 31)
        chars.append(CREDIT_ALPHABET[r])
    return lead + "".join(reversed(chars))


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class OrgFactory(Base):
    class Meta:
        model = Organisation

    kind = OrgKind.assessment_body
    region_code = "110105"
    credit_code = factory.Sequence(lambda n: make_credit_code("110105", _serial(n + 1, "T")))
    name = factory.Sequence(lambda n: f"测试评定机构{n}有限公司")
    contact = "010-12345678"


class ConsultingFactory(OrgFactory):
    kind = OrgKind.consulting_body
    credit_code = factory.Sequence(lambda n: make_credit_code("310115", _serial(n + 1, "K")))
    name = factory.Sequence(lambda n: f"测试咨询机构{n}有限公司")


class PersonFactory(Base):
    class Meta:
        model = Person

    person_id = factory.Sequence(lambda n: f"T-{n + 1:05d}")
    name = factory.Sequence(lambda n: f"评定员{n}")
    kind = PersonKind.assessor
    org = factory.SubFactory(OrgFactory)
    qualification = Qualification.assessor
    valid_until = date(2030, 12, 31)


class EnterpriseFactory(Base):
    class Meta:
        model = Enterprise
        # the browser tests share one committed database: an enterprise another test's filing made
        # with the same credit code is taken, not inserted twice
        sqlalchemy_get_or_create = ("credit_code",)

    credit_code = factory.Sequence(lambda n: make_credit_code("350102", _serial(n + 1, "E")))
    name = factory.Sequence(lambda n: f"示例制造{n}有限公司")
    region_code = "350102"
    industry_code = "C34"
    size = "large"
    employees = 2300


def _password_hash(password: str) -> str:
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


class UserFactory(Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    role = Role.supervisor
    org = None
    password_hash = factory.LazyFunction(lambda: _password_hash(PASSWORD))
    active = True
    failed_logins = 0


def clerk(org: Organisation | None = None, **kw) -> User:
    return UserFactory(role=Role.body_clerk, org=org or OrgFactory(), **kw)


def consulting_user(org: Organisation | None = None, **kw) -> User:
    return UserFactory(role=Role.consulting_user, org=org or ConsultingFactory(), **kw)


# --- registry and disclosure (issue 8) -------------------------------------------------
from auditbo.filings.models import Assessment  # noqa: E402


class CertificateFactory(Base):
    """An assessment with its certificate (standing unless told), for registry and public-page tests."""

    class Meta:
        model = Assessment

    body = factory.SubFactory(OrgFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    external_ref = factory.Sequence(lambda n: f"CF-{n + 1:05d}")
    assessment_type = "initial"
    grade = "AA"
    filed_grade = factory.LazyAttribute(lambda o: o.grade)
    person_days = 10.0
    person_days_min = 10.0
    onsite_start = date(2026, 3, 2)
    onsite_end = date(2026, 3, 5)
    decision_date = date(2026, 3, 20)
    certificate_no = factory.Sequence(lambda n: f"IIMS-TEST-{n + 1:06d}")
    valid_until = date(2029, 3, 19)
    region_code = "350102"
    industry_code = "C34"
    status = "standing"
    content_hash = factory.Sequence(lambda n: f"{n:064d}")
