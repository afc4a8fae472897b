"""Marshmallow schemas of the confirmation API (spec/api.md, "Supervision")."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from auditbo.confirmations.models import Decision, FindingAgainst, Severity
from auditbo.confirmations.queries import API_STATUSES
from auditbo.confirmations.services import ANSWERS, PARTIES
from auditbo.filings.models import Grade

GRADES = [g.value for g in Grade]


class ConfirmationListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    status = fields.String(validate=validate.OneOf(API_STATUSES), metadata={
        "description": "pending: no reviewer yet; assigned: with a reviewer, not decided; overdue: open and "
                       "past its due date; decided"})
    assignee = fields.String(validate=validate.OneOf(["me"]), metadata={"description": "`me`: assigned to the caller"})
    body = fields.String(validate=validate.Length(equal=18), metadata={
        "description": "credit code of the assessment body"})
    grade = fields.String(validate=validate.OneOf(GRADES), metadata={"description": "the filed grade"})
    region = fields.String(validate=validate.Regexp(r"^\d{2,6}$"), metadata={
        "description": "region code or its prefix (2 digits: a province)"})
    due_from = fields.Date()
    due_to = fields.Date()


class ConfirmationFindingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    severity = fields.String(required=True, validate=validate.OneOf([s.value for s in Severity]))
    text = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    against = fields.String(required=True, validate=validate.OneOf([a.value for a in FindingAgainst]))
    person_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=32),
                              metadata={"description": "registry id of the person: required against a member "
                                                       "or a consultant; defaults to the lead against the lead"})


class ConfirmationDecisionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in Decision]))
    grade = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(GRADES),
                          metadata={"description": "the lower grade, for grade_adjusted only"})
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4000),
                           metadata={"description": "required unless the decision is confirmed"})
    version = fields.Integer(required=True, strict=True, metadata={
        "description": "the audit's version as you read it; a stale one is answered 409"})


class ConfirmationReassignmentIn(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(min=2, max=4000))


class ConfirmationDeclarationIn(Schema):
    class Meta:
        unknown = EXCLUDE

    conflict = fields.Boolean(load_default=False, metadata={
        "description": "false: sign that you have no tie to the parties; true: declare a tie (you are recused "
                       "and another reviewer is drawn)"})
    parties = fields.List(fields.String(validate=validate.OneOf(PARTIES)), load_default=list)
    reason = fields.String(load_default="", validate=validate.Length(max=4000))


class ConfirmationChecklistIn(Schema):
    class Meta:
        unknown = EXCLUDE

    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                          values=fields.String(validate=validate.OneOf(ANSWERS)), required=True,
                          metadata={"description": "yes, no or na per item key of the checklist in use "
                                                   "(`checklist_version`)"})
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4000))


# --- output -------------------------------------------------------------------------------
class ConfirmationBodyOut(Schema):
    credit_code = fields.String()
    name = fields.String()


class ConfirmationAssessmentOut(Schema):
    id = fields.Integer()
    status = fields.String()
    external_ref = fields.String()
    certificate_no = fields.String()
    grade = fields.String(metadata={"description": "the standing grade (the adjusted one after grade_adjusted)"})
    filed_grade = fields.String()
    enterprise_name = fields.String()
    region_code = fields.String()
    decision_date = fields.Date()
    body = fields.Nested(ConfirmationBodyOut)
    flags = fields.List(fields.String())


class ConfirmationAssigneeOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class ConfirmationFindingOut(Schema):
    id = fields.Integer()
    severity = fields.String()
    text = fields.String()
    against = fields.String()
    person_id = fields.String(allow_none=True)
    person_name = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ConfirmationSummaryOut(Schema):
    id = fields.Integer()
    status = fields.String()
    round = fields.Integer(metadata={"description": "1, then 2, 3 … for re-reviews after a return"})
    due_date = fields.Date(metadata={"description": "in Chinese working days from the filing"})
    overdue = fields.Boolean()
    working_days_left = fields.Integer(allow_none=True)
    decision = fields.String(allow_none=True)
    adjusted_grade = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    assignee = fields.Nested(ConfirmationAssigneeOut, allow_none=True)
    assessment = fields.Nested(ConfirmationAssessmentOut)


class ConfirmationOut(ConfirmationSummaryOut):
    assigned_at = fields.DateTime(allow_none=True)
    declaration_signed_at = fields.DateTime(allow_none=True)
    checklist = fields.Dict(keys=fields.String(), values=fields.String())
    checklist_version = fields.Dict(metadata={
        "description": "the checklist in use: its id (null: the built-in), version (0: built-in), grade, items"})
    findings = fields.List(fields.Nested(ConfirmationFindingOut))
    reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ConfirmationPageOut(Schema):
    items = fields.List(fields.Nested(ConfirmationSummaryOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
