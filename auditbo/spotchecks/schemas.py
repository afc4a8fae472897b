"""Marshmallow schemas of the sampling-plan and spot-check API (spec/api.md, "Spot checks and sampling plans").

Shapes only: the services validate the values (every error at once, 422 naming each field).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from auditbo.confirmations.models import FindingAgainst, Severity
from auditbo.filings.models import Grade
from auditbo.spotchecks.models import CheckOutcome, Consequence


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class PopulationIn(_In):
    decided_from = fields.String(required=True, metadata={"description": "first decision day, YYYY-MM-DD"})
    decided_to = fields.String(required=True, metadata={"description": "last decision day, YYYY-MM-DD"})
    grades = fields.List(fields.String(), load_default=list)
    region_codes = fields.List(fields.String(), load_default=list,
                               metadata={"description": "region codes or prefixes (2 digits: a province)"})
    body_credit_codes = fields.List(fields.String(), load_default=list)
    assessment_types = fields.List(fields.String(), load_default=list)


class PrecisionIn(_In):
    half_width = fields.Float(required=True)
    expected_rate = fields.Float(required=True)
    confidence = fields.Float(load_default=0.95)


class AttributeIn(_In):
    materiality = fields.Float(required=True)
    confidence = fields.Float(load_default=0.95)
    expected = fields.Float(load_default=0.0)


class PlanIn(_In):
    name = fields.String(required=True, validate=validate.Length(max=200))
    population = fields.Nested(PopulationIn, required=True)
    size = fields.Integer(allow_none=True, load_default=None, strict=True)
    precision = fields.Nested(PrecisionIn, allow_none=True, load_default=None,
                              metadata={"description": "size from the engine's planner: the interval half-width"})
    attribute = fields.Nested(AttributeIn, allow_none=True, load_default=None,
                              metadata={"description": "size from an attribute test (jfa's planning())"})
    uniform_share = fields.Float(allow_none=True, load_default=None)
    strata = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(["province", "body", "rating"]))
    budgets = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=18)), values=fields.Integer(),
                          allow_none=True, load_default=None, validate=validate.Length(max=500),
                          metadata={"description": "records per stratum, summing to the size: with strata province "
                                                   "{\"35\": 10, …} or body {credit code: n, …}"})


class PageArgs(_In):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PlanListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["draft", "approved", "drawn", "closed"]))


class UnitListArgs(PageArgs):
    selected = fields.Boolean()


class CheckListArgs(PageArgs):
    plan_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(["open", "closed"]))
    inspector = fields.String(validate=validate.OneOf(["me"]))
    disclosure = fields.String(validate=validate.OneOf(["due", "overdue"]))
    unassigned = fields.Boolean()


class FindingIn(_In):
    severity = fields.String(required=True, validate=validate.OneOf([s.value for s in Severity]))
    text = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    against = fields.String(required=True, validate=validate.OneOf([a.value for a in FindingAgainst]))
    person_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=32))


class OutcomeIn(_In):
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in CheckOutcome]))
    consequence = fields.String(load_default="none", validate=validate.OneOf([c.value for c in Consequence]))
    grade = fields.String(allow_none=True, load_default=None, validate=validate.OneOf([g.value for g in Grade]))
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4000))
    version = fields.Integer(required=True, strict=True)


class VisitIn(_In):
    visit_on = fields.Date(required=True)
    version = fields.Integer(required=True, strict=True)


class ReasonIn(_In):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=4000))


# --- output: the services' dicts, described loosely ---------------------------------------------
class PlanOut(Schema):
    id = fields.Integer()
    status = fields.String()
    name = fields.String()
    population = fields.Dict()
    size = fields.Integer()
    uniform_share = fields.Float()
    strata = fields.String(allow_none=True)
    budgets = fields.Dict(allow_none=True, metadata={"description": "records per stratum, as given"})
    plan_date = fields.Date(allow_none=True)
    author = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    frame_size = fields.Integer(allow_none=True)
    mandatory = fields.Integer(allow_none=True)
    mandatory_reasons = fields.Dict(allow_none=True)
    expected_yield = fields.Float(allow_none=True)
    uniform_expected_yield = fields.Float(allow_none=True)
    planner = fields.Dict(allow_none=True)
    model = fields.Dict(allow_none=True, metadata={"description": "kind (learned or rule), auroc, average_precision, "
                                                                  "brier, labels"})
    seed = fields.Integer(allow_none=True)
    frame_hash = fields.String(allow_none=True)
    drawn_at = fields.DateTime(allow_none=True)
    model_version = fields.String(allow_none=True)
    estimate = fields.Dict(allow_none=True, metadata={"description": "rate, ci_low, ci_high, closed, selected, "
                                                                     "complete (null rate while partly closed), "
                                                                     "method, model_slope (the slope the frame's "
                                                                     "model risks were taken at on the interval's "
                                                                     "far side; 0: not relied on)"})


class PlanPageOut(Schema):
    items = fields.List(fields.Nested(PlanOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class PreviewOut(Schema):
    frame_size = fields.Integer()
    mandatory = fields.Integer()
    mandatory_reasons = fields.Dict()
    excluded_recently_checked = fields.Integer()
    plan_date = fields.String()
    size = fields.Integer()
    planner = fields.Dict(allow_none=True)
    model = fields.Dict()
    expected_yield = fields.Float()
    uniform_expected_yield = fields.Float()
    effective_uniform_share = fields.Float()


class UnitOut(Schema):
    assessment_id = fields.Integer()
    risk = fields.Float()
    inclusion_probability = fields.Float()
    selected = fields.Boolean()
    mandatory = fields.Boolean()
    reasons = fields.String(allow_none=True)


class UnitPageOut(Schema):
    items = fields.List(fields.Nested(UnitOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class VerificationOut(Schema):
    matches = fields.Boolean()
    seed = fields.Integer(allow_none=True)
    frame_hash = fields.String(allow_none=True)
    units = fields.Integer()
    selected = fields.Integer()
    differs = fields.Dict()


class CheckOut(Schema):
    id = fields.Integer()
    status = fields.String()
    plan_id = fields.Integer(allow_none=True)
    version = fields.Integer()
    inclusion_probability = fields.Float()
    outcome = fields.String(allow_none=True)
    consequence = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    visit_on = fields.Date(allow_none=True)
    opened_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    disclose_by = fields.Date(allow_none=True, metadata={"description": "closing day + 20 Chinese working days"})
    disclosed_on = fields.Date(allow_none=True)
    assign_seed = fields.Integer(allow_none=True)
    assessment = fields.Dict()
    inspectors = fields.List(fields.Dict())
    findings = fields.List(fields.Dict())
    files = fields.List(fields.Dict(), metadata={"description": "evidence: id, filename, content_type, size, sha256"})


class ConflictIn(_In):
    parties = fields.List(fields.String(validate=validate.OneOf(["body", "consulting_body", "enterprise"])),
                          required=True, validate=validate.Length(min=1, max=3),
                          metadata={"description": "the record's parties you are tied to"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class CheckPageOut(Schema):
    items = fields.List(fields.Dict())
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class PublicYearOut(Schema):
    year = fields.Integer()
    checked = fields.Integer()
    conforming = fields.Integer()
    minor_findings = fields.Integer()
    major_findings = fields.Integer()
    downgrade = fields.Integer()
    suspend = fields.Integer()
    revoke = fields.Integer()


class PublicResultsOut(Schema):
    credit_code = fields.String()
    name = fields.String()
    years = fields.List(fields.Nested(PublicYearOut))
