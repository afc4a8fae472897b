"""Reading confirmation audits: the office's queue (tabs, filters, counts), one audit as a
dict, and what a review page shows beside the record (track records, timeline, re-review diff).

Every list is a constant number of SQL queries, aggregated in the database (no N+1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, selectinload

from auditbo import clock
from auditbo.accounts.models import User
from auditbo.checklists import services as criteria
from auditbo.confirmations.models import AuditStatus, ConfirmationAudit, Decision, Finding, Severity
from auditbo.errors import NotFound
from auditbo.events import Event
from auditbo.extensions import db
from auditbo.filings.models import Assessment, TeamMember, TeamRole
from auditbo.orgs.models import Enterprise, Organisation, Person
from auditbo.workdays import calendar_from_config

OPEN = (AuditStatus.pending, AuditStatus.assigned)
TABS = ("open", "mine", "pending", "overdue", "decided", "all")
API_STATUSES = ("pending", "assigned", "overdue", "decided")


@dataclass
class QueueFilter:
    """What the queue shows: a tab (or the API's ``status``) plus filters that combine."""

    tab: str = "open"
    assignee_me: bool = False
    body: str | None = None  # credit code of the assessment body
    grade: str | None = None
    region: str | None = None  # region code prefix (2 digits: a province)
    due_from: date | None = None
    due_to: date | None = None
    decision: str | None = None  # a decided audit's outcome (the dashboard's drill-down)
    decided_from: date | None = None  # office dates, inclusive
    decided_to: date | None = None
    sort: str | None = None  # a key of SORTS, "-" first for descending; None: the tab's own order
    extra: dict = field(default_factory=dict)

    def args(self) -> dict:
        """The filters as query-string arguments (for links that keep them)."""
        out = {"body": self.body, "grade": self.grade, "region": self.region,
               "due_from": self.due_from.isoformat() if self.due_from else None,
               "due_to": self.due_to.isoformat() if self.due_to else None, "decision": self.decision,
               "decided_from": self.decided_from.isoformat() if self.decided_from else None,
               "decided_to": self.decided_to.isoformat() if self.decided_to else None, "sort": self.sort}
        return {k: v for k, v in out.items() if v}


def _tab_condition(tab: str, user, today: date):
    A = ConfirmationAudit
    return {
        "open": A.status.in_(OPEN),
        "assigned": A.status == AuditStatus.assigned,
        "mine": sa.and_(A.status.in_(OPEN), A.assignee_id == user.id),
        "pending": A.status == AuditStatus.pending,
        "overdue": sa.and_(A.status.in_(OPEN), A.due_date < today),
        "decided": A.status == AuditStatus.decided,
        "all": sa.true(),
    }[tab]


def _filters(f: QueueFilter, user) -> list:
    A = ConfirmationAudit
    conds = []
    if f.assignee_me:
        conds.append(A.assignee_id == user.id)
    if f.body:
        conds.append(Assessment.body_id == sa.select(Organisation.id).where(
            Organisation.credit_code == f.body).scalar_subquery())
    if f.grade:
        conds.append(Assessment.filed_grade == f.grade)
    if f.region:
        conds.append(Assessment.region_code.startswith(f.region))
    if f.due_from:
        conds.append(A.due_date >= f.due_from)
    if f.due_to:
        conds.append(A.due_date <= f.due_to)
    if f.decision:
        conds.append(A.decision == f.decision)
    if f.decided_from:
        conds.append(A.decided_at >= clock.start_of(f.decided_from))
    if f.decided_to:
        conds.append(A.decided_at < clock.end_of(f.decided_to))
    return conds


def _base(f: QueueFilter, user) -> sa.Select:
    return (sa.select(ConfirmationAudit.id)
            .join(Assessment, Assessment.id == ConfirmationAudit.assessment_id)
            .where(*_filters(f, user)))


def tab_counts(f: QueueFilter, user, today: date) -> dict[str, int]:
    """How many audits each tab holds under the current filters (one query)."""
    A = ConfirmationAudit
    cols = [sa.func.count().filter(_tab_condition(t, user, today)).label(t) for t in TABS if t != "all"]
    row = db.session.execute(
        sa.select(*cols, sa.func.count().label("all"))
        .select_from(A).join(Assessment, Assessment.id == A.assessment_id).where(*_filters(f, user))).one()
    return dict(row._mapping)


def nav_count_select(user, today: date) -> sa.Select:
    """The navigation badge: my open audits (a supervisor), audits nobody reviews yet (an admin); auditbo.web
    reads it with the other badges in one statement."""
    A = ConfirmationAudit
    if getattr(user.role, "value", None) == "admin":
        cond = A.status == AuditStatus.pending
    else:
        cond = sa.and_(A.status.in_(OPEN), A.assignee_id == user.id)
    return sa.select(sa.func.count()).select_from(A).where(cond)


def queue_page(f: QueueFilter, user, today: date, page: int, per_page: int) -> tuple[list[dict], int]:
    """One page of the queue (one query for the count, one for the rows)."""
    stmt = _base(f, user).where(_tab_condition(f.tab, user, today))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(rows_select(f, user, today).limit(per_page).offset((page - 1) * per_page)).all()
    cal = calendar_from_config(current_app.config)
    return [_summary(r, today, cal) for r in rows], total


def queue_keyset_page(f: QueueFilter, user, today: date, *, page: int, per_page: int, cursor: str | None) -> dict:
    """The API's queue in its default order (open ones by due date, decided ones newest decision first, then
    by id) with keyset paging (auditbo.paging): the office's decided audits run to hundreds of thousands."""
    from auditbo import paging

    A = ConfirmationAudit
    decided = f.tab == "decided"
    order = [A.decided_at, A.id] if decided else [A.due_date, A.id]
    matching = _base(f, user).where(_tab_condition(f.tab, user, today))
    key = {k: v for k, v in vars(f).items() if k != "sort"}
    lst = paging.KeysetList(rows=_rows().where(A.id.in_(matching)), matching=matching, order=order,
                            descending=decided, fingerprint=paging.fingerprint("confirmations", f.tab, key))
    cal = calendar_from_config(current_app.config)
    return paging.page_of(lst, page=page, per_page=per_page, cursor=cursor, endpoint_args={},
                          to_item=lambda r: _summary(r, today, cal))


def rows_select(f: QueueFilter, user, today: date) -> sa.Select:
    """The queue's rows under its tab and filters, in its order: pages and exports read it."""
    A = ConfirmationAudit
    stmt = _base(f, user).where(_tab_condition(f.tab, user, today))
    order = ((A.decided_at.desc(), A.id.desc()) if f.tab == "decided" else (A.due_date.asc(), A.id.asc()))
    if f.sort and f.sort.lstrip("-") in SORTS:
        col = SORTS[f.sort.lstrip("-")]
        order = (col.desc(), A.id.desc()) if f.sort.startswith("-") else (col.asc(), A.id.asc())
    return _rows().where(A.id.in_(stmt)).order_by(*order)


# the queue's sortable columns (the page's headers): audit, enterprise, body, grade, round, status, due, decision
SORTS = {
    "id": ConfirmationAudit.id, "enterprise": Enterprise.name, "body": sa.literal_column("body_name"),
    "grade": Assessment.filed_grade, "round": ConfirmationAudit.round, "status": ConfirmationAudit.status,
    "reviewer": sa.literal_column("assignee_name"), "due_date": ConfirmationAudit.due_date,
    "decision": ConfirmationAudit.decision, "decided_at": ConfirmationAudit.decided_at,
}


def _rows() -> sa.Select:
    """The columns of a queue row: the audit, its assessment, enterprise, body and assignee."""
    A = ConfirmationAudit
    assignee = aliased(User)
    body = aliased(Organisation)
    return (
        sa.select(A.id, A.round, A.status, A.due_date, A.assignee_id, A.decision, A.adjusted_grade, A.decided_at,
                  A.declaration_signed_at, A.version,
                  Assessment.id.label("assessment_id"), Assessment.status.label("assessment_status"),
                  Assessment.external_ref, Assessment.certificate_no, Assessment.filed_grade,
                  Assessment.grade, Assessment.region_code, Assessment.decision_date, Assessment.flag_late,
                  Assessment.flag_grade_jump, Assessment.flag_reduced_days, Assessment.flag_low_days,
                  Assessment.flag_tie,
                  Enterprise.name.label("enterprise_name"), body.name.label("body_name"),
                  body.credit_code.label("body_credit_code"),
                  assignee.username.label("assignee_username"), assignee.display_name.label("assignee_name"))
        .join(Assessment, Assessment.id == A.assessment_id)
        .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
        .join(body, body.id == Assessment.body_id)
        .outerjoin(assignee, assignee.id == A.assignee_id))


def _summary(r, today: date, cal) -> dict:
    is_open = r.status in OPEN
    flags = [k for k, v in (("late", r.flag_late), ("grade_jump", r.flag_grade_jump),
                            ("reduced_person_days", r.flag_reduced_days), ("low_person_days", r.flag_low_days),
                            ("tie", r.flag_tie)) if v]
    return {
        "id": r.id, "round": r.round, "status": r.status.value, "due_date": r.due_date,
        "overdue": is_open and r.due_date < today,
        "working_days_left": cal.working_days_between(today, r.due_date) if is_open else None,
        "decision": r.decision.value if r.decision else None,
        "adjusted_grade": r.adjusted_grade.value if r.adjusted_grade else None,
        "decided_at": r.decided_at, "version": r.version,
        "assignee": ({"id": r.assignee_id, "username": r.assignee_username, "display_name": r.assignee_name}
                     if r.assignee_id else None),
        "assessment": {
            "id": r.assessment_id, "status": r.assessment_status.value, "external_ref": r.external_ref,
            "certificate_no": r.certificate_no, "grade": r.grade.value, "filed_grade": r.filed_grade.value,
            "enterprise_name": r.enterprise_name, "region_code": r.region_code, "decision_date": r.decision_date,
            "body": {"credit_code": r.body_credit_code, "name": r.body_name}, "flags": flags,
        },
    }


# --- one audit --------------------------------------------------------------------------------
def get_audit(audit_id: int) -> ConfirmationAudit:
    audit = db.session.scalar(sa.select(ConfirmationAudit).where(ConfirmationAudit.id == audit_id)
                              .options(selectinload(ConfirmationAudit.findings)))
    if audit is None:
        raise NotFound("no such confirmation audit")
    return audit


def findings_of(audit: ConfirmationAudit) -> list[dict]:
    pks = {f.person_id for f in audit.findings if f.person_id}
    people = {pk: (pid, name) for pk, pid, name in db.session.execute(
        sa.select(Person.id, Person.person_id, Person.name).where(Person.id.in_(pks)))} if pks else {}
    return [{"id": f.id, "severity": f.severity.value, "text": f.text, "against": f.against.value,
             "person_id": people.get(f.person_id, (None, None))[0],
             "person_name": people.get(f.person_id, (None, None))[1], "created_at": f.created_at}
            for f in audit.findings]


def checklist_of(audit: ConfirmationAudit) -> dict:
    """The checklist this audit uses: the version it kept, else the one in force today for the record's
    grade and type (an audit answered before versions were kept used the built-in version 0)."""
    a = db.session.get(Assessment, audit.assessment_id)
    answered = any(k != "note" for k in (audit.checklist or {}))
    return criteria.in_use(audit.checklist_id, answered, a.grade.value, a.assessment_type.value)


def to_dict(audit: ConfirmationAudit, today: date) -> dict:
    """One audit as the API shows it: its assessment, assignee, due date, findings, decision, version."""
    cal = calendar_from_config(current_app.config)
    row = db.session.execute(_rows().where(ConfirmationAudit.id == audit.id)).one()
    out = _summary(row, today, cal)
    used = checklist_of(audit)
    decided_by = (db.session.scalar(sa.select(User.username).where(User.id == audit.decided_by_id))
                  if audit.decided_by_id else None)
    out.update(
        assigned_at=audit.assigned_at, declaration_signed_at=audit.declaration_signed_at,
        checklist=dict(audit.checklist or {}), findings=findings_of(audit), reason=audit.reason,
        checklist_version={k: used[k] for k in ("id", "version", "grade", "assessment_type", "items")},
        decided_by=decided_by, created_at=audit.created_at,
    )
    return out


# --- beside the record: the body's and the lead's recent results -------------------------------
@dataclass
class TrackRecord:
    filed: int = 0
    standing: int = 0
    late: int = 0
    low_days: int = 0
    decisions: dict = field(default_factory=lambda: {d.value: 0 for d in Decision})
    findings: dict = field(default_factory=lambda: {s.value: 0 for s in Severity})
    recent: list = field(default_factory=list)

    @property
    def decided(self) -> int:
        return sum(self.decisions.values())


def lead_of(assessment_id: int) -> Person | None:
    return db.session.scalar(
        sa.select(Person).join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.assessment_id == assessment_id, TeamMember.role == TeamRole.lead))


def track_record(scope, exclude_assessment_id: int, since: date, recent: int = 5) -> TrackRecord:
    """Aggregates over the assessments matched by ``scope`` (a condition on Assessment) filed
    since ``since``, the current one excluded: three grouped queries and one for the recent list."""
    since_ts = clock.start_of(since)
    A, C = Assessment, ConfirmationAudit
    in_scope = sa.and_(scope, A.id != exclude_assessment_id, A.filed_at >= since_ts)
    tr = TrackRecord()
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(A.status == "standing"),
                  sa.func.count().filter(A.flag_late.is_(True)), sa.func.count().filter(A.flag_low_days.is_(True)))
        .where(in_scope)).one()
    tr.filed, tr.standing, tr.late, tr.low_days = row
    for decision, n in db.session.execute(
            sa.select(C.decision, sa.func.count()).join(A, A.id == C.assessment_id)
            .where(in_scope, C.status == AuditStatus.decided).group_by(C.decision)):
        tr.decisions[decision.value] = n
    for severity, n in db.session.execute(
            sa.select(Finding.severity, sa.func.count()).join(C, C.id == Finding.audit_id)
            .join(A, A.id == C.assessment_id).where(in_scope).group_by(Finding.severity)):
        tr.findings[severity.value] = n
    tr.recent = [dict(r._mapping) for r in db.session.execute(
        sa.select(C.id, C.round, C.decided_at, C.decision, C.adjusted_grade, A.filed_grade,
                  Enterprise.name.label("enterprise_name"))
        .join(A, A.id == C.assessment_id).join(Enterprise, Enterprise.id == A.enterprise_id)
        .where(in_scope, C.status == AuditStatus.decided)
        .order_by(C.decided_at.desc(), C.id.desc()).limit(recent))]
    return tr


def track_records(a: Assessment, today: date) -> tuple[TrackRecord, TrackRecord, Person | None]:
    months = current_app.config["CONFIRMATION_TRACK_RECORD_MONTHS"]
    since = today - timedelta(days=round(months * 30.44))
    body = track_record(Assessment.body_id == a.body_id, a.id, since)
    lead = lead_of(a.id)
    if lead is None:
        return body, TrackRecord(), None
    led = sa.select(TeamMember.assessment_id).where(TeamMember.person_id == lead.id,
                                                    TeamMember.role == TeamRole.lead)
    return body, track_record(Assessment.id.in_(led), a.id, since), lead


# --- timeline and re-review -----------------------------------------------------------------
def audits_of(assessment_id: int) -> list[ConfirmationAudit]:
    return list(db.session.scalars(
        sa.select(ConfirmationAudit).where(ConfirmationAudit.assessment_id == assessment_id)
        .options(selectinload(ConfirmationAudit.findings)).order_by(ConfirmationAudit.round)))


def timeline(assessment_id: int, audit_ids: list[int]) -> list[Event]:
    """The record's events and those of every round of its confirmation audit, in order."""
    return list(db.session.scalars(
        sa.select(Event).where(sa.or_(
            sa.and_(Event.record_type == "assessment", Event.record_id == str(assessment_id)),
            sa.and_(Event.record_type == "confirmation", Event.record_id.in_([str(i) for i in audit_ids]))))
        .order_by(Event.id)))


def rereview_changes(events_: list[Event], previous: ConfirmationAudit | None,
                     current: ConfirmationAudit) -> list[dict]:
    """For a re-review (复核): what the body amended between the previous round's decision and
    the opening of this round (the ``amended`` events' before/after), field by field."""
    if previous is None:
        return []
    decided = next((ev.id for ev in events_ if ev.record_type == "confirmation"
                    and ev.record_id == str(previous.id) and ev.action == "decided"), None)
    opened = next((ev.id for ev in events_ if ev.record_type == "confirmation"
                   and ev.record_id == str(current.id)), None)
    if decided is None:
        return []
    out = []
    for ev in events_:
        if (ev.record_type == "assessment" and ev.action == "amended" and ev.id > decided
                and (opened is None or ev.id < opened)):
            before, after = ev.before or {}, ev.after or {}
            for key in sorted(set(before) | set(after)):
                out.append({"field": key, "before": before.get(key), "after": after.get(key),
                            "reason": ev.reason, "at": ev.occurred_at, "actor": ev.actor})
    return out


# --- deadlines and reminders ------------------------------------------------------------------
def working_days_left(audit: ConfirmationAudit, today: date) -> int | None:
    if audit.status not in OPEN:
        return None
    return calendar_from_config(current_app.config).working_days_between(today, audit.due_date)


def reminders_for(user, today: date) -> list[dict]:
    """Today's reminders addressed to ``user`` (``reminder_sent`` events of their open audits)."""
    mine = [str(i) for i in db.session.scalars(sa.select(ConfirmationAudit.id).where(
        ConfirmationAudit.assignee_id == user.id, ConfirmationAudit.status == AuditStatus.assigned))]
    if not mine:
        return []
    rows = db.session.execute(
        sa.select(Event.record_id, Event.after).where(
            Event.record_type == "confirmation", Event.action == "reminder_sent", Event.record_id.in_(mine))
        .order_by(Event.id)).all()
    out = {}
    for rid, after in rows:
        after = after or {}
        if after.get("for_date") == today.isoformat() and after.get("to") == user.id:
            out[int(rid)] = {"audit_id": int(rid), "due_date": date.fromisoformat(after["due_date"]),
                             "working_days_left": after.get("working_days_left")}
    return sorted(out.values(), key=lambda r: (r["due_date"], r["audit_id"]))
