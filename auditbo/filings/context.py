"""Registry look-ups a filing needs: one statement for a single filing (a UNION ALL of every
look-up), or pre-loaded in bulk for an import, one IN-query per kind and chunk (so that
100,000 rows cost a handful of queries, not 800,000)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from auditbo.extensions import db
from auditbo.filings.models import Assessment, AssessmentStatus
from auditbo.orgs.models import Enterprise, Organisation, OrgKind, Person

CHUNK = 900  # stays below SQLite's bound-parameter limit
ONE_STATEMENT_MAX = 100  # keys up to which preload asks everything in one statement (a filing, a small batch)


def _chunks(values: list, n: int = CHUNK):
    for i in range(0, len(values), n):
        yield values[i:i + n]


@dataclass(frozen=True)
class PersonRow:
    pk: int
    person_id: str
    kind: str
    org_id: int
    qualification: str
    valid_until: object
    status: str
    id_number_hash: str | None


@dataclass(frozen=True)
class OrgRow:
    pk: int
    credit_code: str
    kind: str
    status: str


class FilingContext:
    """Caches for one filing request or one import. Missing keys are looked up lazily."""

    def __init__(self, body: Organisation):
        self.body = body
        self.persons: dict[str, PersonRow | None] = {}
        self.orgs: dict[str, OrgRow | None] = {}
        self.enterprises: dict[str, int | None] = {}
        self.prev_level: dict[str, int | None] = {}
        self.certs: dict[str, int | None] = {}  # certificate_no -> assessment id using it
        self.refs: dict[str, tuple[int, str] | None] = {}  # external_ref -> (id, content_hash)
        self.tie_share: dict[int, tuple[int, int]] = {}  # consulting body -> (clients here, all clients)
        self.enterprise_rows: dict[str, tuple[str, str, int]] = {}  # credit code -> (name, size, employees)
        self.overdue: dict[str, bool] = {}  # credit code -> has a certificate flagged surveillance-overdue

    # --- bulk pre-loading (imports) --------------------------------------------------
    def preload(self, payloads: Iterable[dict]) -> None:
        pids, orgs, ents, certs, refs = set(), set(), set(), set(), set()
        for p in payloads:
            if not isinstance(p, dict):
                continue
            for m in p.get("team") or []:
                if isinstance(m, dict) and isinstance(m.get("person_id"), str):
                    pids.add(m["person_id"])
            cb = p.get("consulting_body")
            if isinstance(cb, dict):
                if isinstance(cb.get("credit_code"), str):
                    orgs.add(cb["credit_code"])
                pids.update(c for c in cb.get("consultant_ids") or [] if isinstance(c, str))
            ent = p.get("enterprise")
            if isinstance(ent, dict) and isinstance(ent.get("credit_code"), str):
                ents.add(ent["credit_code"])
            if isinstance(p.get("certificate_no"), str):
                certs.add(p["certificate_no"])
            if isinstance(p.get("external_ref"), str):
                refs.add(p["external_ref"])
        pids, orgs = sorted(pids - self.persons.keys()), sorted(orgs - self.orgs.keys())
        ents, certs = sorted(ents - self.enterprises.keys()), sorted(certs - self.certs.keys())
        refs = sorted(refs - self.refs.keys())
        if 0 < len(pids) + len(orgs) + len(ents) + len(certs) + len(refs) <= ONE_STATEMENT_MAX:
            self._load_at_once(pids, orgs, ents, certs, refs)
            return
        self._load_persons(pids)
        self._load_orgs(orgs)
        self._load_enterprises(ents)
        self._load_certs(certs)
        self._load_refs(refs)
        consulting = sorted({o.pk for o in self.orgs.values() if o and o.kind == CONSULTING_BODY} - self.tie_share.keys())
        self._load_shares(consulting)

    def _load_at_once(self, pids: list[str], orgs: list[str], ents: list[str], certs: list[str],
                      refs: list[str]) -> None:
        """Every look-up of a few keys in one round trip: a UNION ALL of one SELECT per kind, each row
        (tag, key, pk, org_id, i1, i2, s1 … s4, d1) in plain types (enums as their strings)."""
        found: dict[str, dict] = {tag: {} for tag in "posegvcr"}
        for r in db.session.execute(_lookup_statement(), {"pids": pids, "orgs": orgs, "ents": ents, "certs": certs,
                                                          "refs": refs, "body_id": self.body.id}):
            found[r[0]][r[1]] = r
        for pid in pids:
            r = found["p"].get(pid)
            self.persons[pid] = r and PersonRow(r.pk, r.key, r.s1, r.org_id, r.s2, r.d1, r.s3, r.s4)
        shares = found["s"]
        for code in orgs:
            r = found["o"].get(code)
            self.orgs[code] = r and OrgRow(r.pk, r.key, r.s1, r.s2)
            if r is not None and r.s1 == CONSULTING_BODY and r.pk not in self.tie_share:
                s = shares.get(code)
                self.tie_share[r.pk] = (s.i1 or 0, s.i2 or 0) if s is not None else (0, 0)
        for code in ents:
            r = found["e"].get(code)
            self.enterprises[code] = r and r.pk
            if r is not None:
                self.enterprise_rows[code] = (r.s1, r.s2, r.i1)
            g = found["g"].get(code)
            self.prev_level[code] = len(g.s1) if g is not None else None
            self.overdue[code] = code in found["v"]
        for cert in certs:
            r = found["c"].get(cert)
            self.certs[cert] = r and r.pk
        for ref in refs:
            r = found["r"].get(ref)
            self.refs[ref] = r and (r.pk, r.s1)

    def _load_shares(self, consulting_ids: list[int]) -> None:
        for part in _chunks(consulting_ids):
            rows = db.session.execute(
                sa.select(Assessment.consulting_body_id, sa.func.count().filter(Assessment.body_id == self.body.id),
                          sa.func.count())
                .where(Assessment.consulting_body_id.in_(part)).group_by(Assessment.consulting_body_id))
            found = {r[0]: (r[1] or 0, r[2] or 0) for r in rows}
            for cid in part:
                self.tie_share[cid] = found.get(cid, (0, 0))

    def _load_persons(self, ids: list[str]) -> None:
        for part in _chunks(ids):
            rows = db.session.execute(sa.select(
                Person.id, Person.person_id, Person.kind, Person.org_id, Person.qualification, Person.valid_until,
                Person.status, Person.id_number_hash).where(Person.person_id.in_(part)))
            found = {r.person_id: PersonRow(r[0], r[1], r[2].value, r[3], r[4].value, r[5], r[6].value, r[7])
                     for r in rows}
            for pid in part:
                self.persons[pid] = found.get(pid)

    def _load_orgs(self, codes: list[str]) -> None:
        for part in _chunks(codes):
            rows = db.session.execute(sa.select(Organisation.id, Organisation.credit_code, Organisation.kind,
                                                Organisation.status).where(Organisation.credit_code.in_(part)))
            found = {r[1]: OrgRow(r[0], r[1], r[2].value, r[3].value) for r in rows}
            for code in part:
                self.orgs[code] = found.get(code)

    def _load_enterprises(self, codes: list[str]) -> None:
        for part in _chunks(codes):
            found = dict(db.session.execute(sa.select(Enterprise.credit_code, Enterprise.id)
                                            .where(Enterprise.credit_code.in_(part))).all())
            for code in part:
                self.enterprises[code] = found.get(code)
            self._load_prev_levels([found[c] for c in part if c in found], {v: k for k, v in found.items()})
            for code in part:
                self.prev_level.setdefault(code, None)

    def _load_prev_levels(self, ent_ids: list[int], code_of: dict[int, str]) -> None:
        """The grade level of each enterprise's latest standing certificate."""
        if not ent_ids:
            return
        ranked = (
            sa.select(Assessment.enterprise_id, Assessment.grade,
                      sa.func.row_number().over(partition_by=Assessment.enterprise_id,
                                                order_by=(Assessment.decision_date.desc(), Assessment.id.desc()))
                      .label("rn"))
            .where(Assessment.enterprise_id.in_(ent_ids), Assessment.status == AssessmentStatus.standing)
            .subquery()
        )
        for ent_id, grade in db.session.execute(sa.select(ranked.c.enterprise_id, ranked.c.grade)
                                                .where(ranked.c.rn == 1)):
            self.prev_level[code_of[ent_id]] = len(grade.value if hasattr(grade, "value") else grade)

    def _load_certs(self, certs: list[str]) -> None:
        for part in _chunks(certs):
            found = dict(db.session.execute(sa.select(Assessment.certificate_no, Assessment.id)
                                            .where(Assessment.certificate_no.in_(part))).all())
            for c in part:
                self.certs[c] = found.get(c)

    def _load_refs(self, refs: list[str]) -> None:
        for part in _chunks(refs):
            rows = db.session.execute(sa.select(Assessment.external_ref, Assessment.id, Assessment.content_hash)
                                      .where(Assessment.body_id == self.body.id,
                                             Assessment.external_ref.in_(part)))
            found = {r[0]: (r[1], r[2]) for r in rows}
            for r in part:
                self.refs[r] = found.get(r)

    # --- look-ups ----------------------------------------------------------------------
    def person(self, person_id: str) -> PersonRow | None:
        if person_id not in self.persons:
            self._load_persons([person_id])
        return self.persons[person_id]

    def org(self, credit_code: str) -> OrgRow | None:
        if credit_code not in self.orgs:
            self._load_orgs([credit_code])
        return self.orgs[credit_code]

    def enterprise_id(self, credit_code: str) -> int | None:
        if credit_code not in self.enterprises:
            self._load_enterprises([credit_code])
        return self.enterprises[credit_code]

    def previous_level(self, credit_code: str) -> int | None:
        if credit_code not in self.prev_level:
            self._load_enterprises([credit_code])
        return self.prev_level.get(credit_code)

    def certificate_owner(self, certificate_no: str) -> int | None:
        if certificate_no not in self.certs:
            self._load_certs([certificate_no])
        return self.certs[certificate_no]

    def existing(self, external_ref: str) -> tuple[int, str] | None:
        if external_ref not in self.refs:
            self._load_refs([external_ref])
        return self.refs[external_ref]

    def consulting_share(self, consulting_id: int) -> tuple[int, int]:
        """(standing-or-pending clients of this consulting body filed by this body, all its clients)."""
        if consulting_id not in self.tie_share:
            self._load_shares([consulting_id])
        return self.tie_share[consulting_id]

    def note_filed(self, filing) -> None:
        """Keep the caches true while an import files row after row."""
        self.certs[filing.certificate_no] = -1
        self.refs[filing.external_ref] = (-1, filing.content_hash)
        if filing.consulting_body_pk:
            here, total = self.consulting_share(filing.consulting_body_pk)
            self.tie_share[filing.consulting_body_pk] = (here + 1, total + 1)
        self.prev_level.setdefault(filing.enterprise["credit_code"], None)


def _row(tag: str, key, pk, *, org_id=None, i1=None, i2=None, s1=None, s2=None, s3=None, s4=None,
         d1=None) -> sa.Select:
    """One branch of the one-statement look-up: the same columns and plain types in every branch."""
    def col(value, type_, name):  # a typed NULL (PostgreSQL resolves a UNION pair by pair), else the column
        return (sa.cast(sa.null(), type_) if value is None else sa.type_coerce(value, type_)).label(name)

    return sa.select(sa.literal_column(f"'{tag}'").label("tag"), col(key, sa.String, "key"), col(pk, sa.Integer, "pk"),
                     col(org_id, sa.Integer, "org_id"), col(i1, sa.Integer, "i1"), col(i2, sa.Integer, "i2"),
                     col(s1, sa.String, "s1"), col(s2, sa.String, "s2"), col(s3, sa.String, "s3"),
                     col(s4, sa.String, "s4"), col(d1, sa.Date, "d1"))


@functools.cache
def _lookup_statement() -> sa.CompoundSelect:
    """The one-statement look-up (built once): one SELECT per kind on expanding IN-lists
    ``pids``, ``orgs``, ``ents``, ``certs``, ``refs`` (an empty list matches nothing), and ``body_id``."""
    def keys(name: str):
        return sa.bindparam(name, expanding=True)

    return sa.union_all(
        _row("p", Person.person_id, Person.id, org_id=Person.org_id, s1=Person.kind, s2=Person.qualification,
             s3=Person.status, s4=Person.id_number_hash, d1=Person.valid_until).where(Person.person_id.in_(keys("pids"))),
        _row("o", Organisation.credit_code, Organisation.id, s1=Organisation.kind, s2=Organisation.status)
        .where(Organisation.credit_code.in_(keys("orgs"))),
        # a consulting body's clients here and in all (the tie share)
        _row("s", Organisation.credit_code, Assessment.consulting_body_id,
             i1=sa.func.count().filter(Assessment.body_id == sa.bindparam("body_id")), i2=sa.func.count())
        .select_from(Assessment).join(Organisation, Organisation.id == Assessment.consulting_body_id)
        .where(Organisation.credit_code.in_(keys("orgs")))
        .group_by(Organisation.credit_code, Assessment.consulting_body_id),
        _row("e", Enterprise.credit_code, Enterprise.id, i1=Enterprise.employees, s1=Enterprise.name,
             s2=Enterprise.size).where(Enterprise.credit_code.in_(keys("ents"))),
        _prev_grades(keys("ents")),
        # enterprises with a certificate the surveillance job flagged (a new filing may lift it)
        _row("v", Enterprise.credit_code, sa.func.min(Assessment.id)).select_from(Enterprise)
        .join(Assessment, Assessment.enterprise_id == Enterprise.id)
        .where(Enterprise.credit_code.in_(keys("ents")), Assessment.flag_surveillance_overdue.is_(True),
               Assessment.status.in_([AssessmentStatus.standing, AssessmentStatus.suspended]))
        .group_by(Enterprise.credit_code),
        _row("c", Assessment.certificate_no, Assessment.id).where(Assessment.certificate_no.in_(keys("certs"))),
        _row("r", Assessment.external_ref, Assessment.id, s1=Assessment.content_hash)
        .where(Assessment.body_id == sa.bindparam("body_id"), Assessment.external_ref.in_(keys("refs"))),
    )


def _prev_grades(codes) -> sa.Select:
    """The grade of each enterprise's latest standing certificate (see _load_prev_levels)."""
    ranked = (
        sa.select(Assessment.enterprise_id, Assessment.grade,
                  sa.func.row_number().over(partition_by=Assessment.enterprise_id,
                                            order_by=(Assessment.decision_date.desc(), Assessment.id.desc()))
                  .label("rn"))
        .where(Assessment.enterprise_id.in_(sa.select(Enterprise.id).where(Enterprise.credit_code.in_(codes))),
               Assessment.status == AssessmentStatus.standing)
        .subquery()
    )
    return (_row("g", Enterprise.credit_code, ranked.c.enterprise_id, s1=ranked.c.grade).select_from(ranked)
            .join(Enterprise, Enterprise.id == ranked.c.enterprise_id).where(ranked.c.rn == 1))


ASSESSMENT_BODY = OrgKind.assessment_body.value
CONSULTING_BODY = OrgKind.consulting_body.value
