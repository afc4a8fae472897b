"""Marshmallow schemas of the filing API: the input (parsed and documented) and the output."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from auditbo.filings.models import AssessmentStatus, AssessmentType, Grade, TeamRole
from auditbo.orgs.models import EnterpriseSize

LEVELS = ["CL1", "CL2", "CL3", "CL4", "CL5"]


class EnterpriseIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    credit_code = fields.String(required=True, metadata={"example": "91350100M000100Y43"})
    region_code = fields.String(required=True, metadata={"example": "350100"})
    industry_code = fields.String(required=True, metadata={"example": "C34"})
    size = fields.String(required=True, validate=validate.OneOf([s.value for s in EnterpriseSize]))
    employees = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5_000_000))


class CapabilityIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))


class ConsultingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    credit_code = fields.String(required=True)
    consultant_ids = fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=list,
                                 validate=validate.Length(max=20))


class TeamMemberIn(Schema):
    class Meta:
        unknown = EXCLUDE

    person_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in TeamRole]))


class AssessmentIn(Schema):
    """One assessment result as an assessment body files it (spec/domain.md, "Assessment")."""

    class Meta:
        unknown = EXCLUDE

    external_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "the body's own id, unique per body"})
    assessment_type = fields.String(required=True, validate=validate.OneOf([t.value for t in AssessmentType]))
    enterprise = fields.Nested(EnterpriseIn, required=True)
    grade = fields.String(required=True, validate=validate.OneOf([g.value for g in Grade]))
    capabilities = fields.List(fields.Nested(CapabilityIn), required=True, validate=validate.Length(
        min=1, max=30, error="name between 1 and 30 capabilities"))
    consulting_body = fields.Nested(ConsultingIn, allow_none=True, load_default=None)
    team = fields.List(fields.Nested(TeamMemberIn), required=True, validate=validate.Length(
        min=1, max=30, error="name between 1 and 30 team members, one of them the lead"))
    person_days = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0.5, max=10000))
    reduction_reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                                     metadata={"description": "justification when person-days are below the minimum"})
    onsite_start = fields.Date(required=True)
    onsite_end = fields.Date(required=True)
    decision_date = fields.Date(required=True)
    certificate_no = fields.String(required=True, validate=validate.Length(min=1, max=64))
    valid_until = fields.Date(allow_none=True, load_default=None,
                              metadata={"description": "defaults to the decision date + 3 years"})


class AmendmentIn(Schema):
    """The changed fields (any of AssessmentIn's but external_ref) and why."""

    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    changes = fields.Dict(required=False, load_default=dict, metadata={
        "description": "fields of the filing to replace; may also be given at the top level"})


class WithdrawalIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=2000))


# --- output ---------------------------------------------------------------------------
class FlagsOut(Schema):
    late = fields.Boolean()
    grade_jump = fields.Boolean()
    reduced_person_days = fields.Boolean()
    low_person_days = fields.Boolean()
    tie = fields.Boolean()
    surveillance_overdue = fields.Boolean()


class HistoryOut(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class AssessmentFindingOut(Schema):
    severity = fields.String()
    text = fields.String()
    against = fields.String()
    person_id = fields.String(allow_none=True)


class ConfirmationStateOut(Schema):
    id = fields.Integer()
    round = fields.Integer()
    status = fields.String()
    due_date = fields.Date()
    overdue = fields.Boolean()
    decision = fields.String(allow_none=True)
    adjusted_grade = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    reviewer = fields.String(allow_none=True)
    findings = fields.List(fields.Nested(AssessmentFindingOut))


class AssessmentOut(AssessmentIn):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in AssessmentStatus]))
    body = fields.Dict(metadata={"description": "credit_code and name of the filing body"})
    filed_grade = fields.String()
    person_days_min = fields.Float()
    valid_until = fields.Date()
    filed_at = fields.DateTime()
    updated_at = fields.DateTime()
    flags = fields.Nested(FlagsOut)
    history = fields.List(fields.Nested(HistoryOut))
    confirmation = fields.Nested(ConfirmationStateOut, allow_none=True)


class AssessmentSummaryOut(Schema):
    id = fields.Integer()
    status = fields.String()
    external_ref = fields.String()
    certificate_no = fields.String()
    grade = fields.String()
    assessment_type = fields.String()
    decision_date = fields.Date()
    enterprise_name = fields.String()
    enterprise_credit_code = fields.String()
    body_name = fields.String()
    region_code = fields.String()
    flags = fields.Nested(FlagsOut)


class AssessmentPageOut(Schema):
    items = fields.List(fields.Nested(AssessmentSummaryOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    status = fields.String(validate=validate.OneOf([s.value for s in AssessmentStatus]))
    grade = fields.String(validate=validate.OneOf([g.value for g in Grade]))
    decided_from = fields.Date()
    decided_to = fields.Date()
    enterprise_credit_code = fields.String(validate=validate.Length(max=18))
    external_ref = fields.String(validate=validate.Length(max=64))


class ImportResultOut(Schema):
    filed = fields.Integer()
    unchanged = fields.Integer()
    pending_confirmation = fields.Integer()
    rows = fields.Integer()


class CertificateOut(Schema):
    certificate_no = fields.String()
    enterprise_name = fields.String()
    grade = fields.String()
    status = fields.String()
    valid_until = fields.Date()
