"""Marshmallow schemas of the ratings API (spec/api.md, "Ratings")."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

SUBJECT_TYPES = ("assessment_body", "consulting_body", "assessor", "consultant")
GRADES = ("AAA", "AA", "A", "B", "C", "NR")


class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class RatingListArgs(PageArgs):
    subject_type = fields.String(validate=validate.OneOf(SUBJECT_TYPES))
    grade = fields.String(validate=validate.OneOf(GRADES))


class PublicArgs(PageArgs):
    period = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be YYYY-MM"),
                           metadata={"description": "YYYY-MM; default: the latest published month"})
    subject_type = fields.String(validate=validate.OneOf(SUBJECT_TYPES[:2]),
                                 metadata={"description": "assessment_body or consulting_body (persons are never public)"})


class RunIn(Schema):
    period = fields.String(required=True, validate=validate.Length(max=20),
                           metadata={"description": "a finished month, YYYY-MM"})


class ValidationOut(Schema):
    auroc = fields.Float(allow_none=True)
    psi = fields.Float(allow_none=True)
    grade_changes = fields.Integer(allow_none=True)
    changed_share = fields.Float(allow_none=True)


class RunOut(Schema):
    id = fields.Integer()
    period = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "draft, published or failed (with `error`)"})
    error = fields.String(allow_none=True)
    run_by = fields.String(allow_none=True)
    published_by = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    computed_at = fields.DateTime(allow_none=True)
    engine_version = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    validation = fields.Nested(ValidationOut)


class RunPageOut(Schema):
    items = fields.List(fields.Nested(RunOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class RatingOut(Schema):
    id = fields.Integer()
    run_id = fields.Integer()
    period = fields.String(allow_none=True)
    subject_type = fields.String()
    subject_id = fields.String(metadata={"description": "credit code (bodies) or person id (staff)"})
    name = fields.String(allow_none=True)
    grade = fields.String()
    score = fields.Float(allow_none=True)
    score_low = fields.Float(allow_none=True)
    score_high = fields.Float(allow_none=True)
    effective_n = fields.Float()
    contributions = fields.Dict(allow_none=True)
    reasons = fields.Dict()
    change = fields.Dict(allow_none=True)
    version = fields.Integer()
    superseded = fields.Boolean()
    correction_reason = fields.String(allow_none=True)


class RatingPageOut(RunPageOut):
    items = fields.List(fields.Nested(RatingOut))


class PublicRatingOut(Schema):
    subject_type = fields.String()
    subject_id = fields.String()
    name = fields.String()
    grade = fields.String()
    score = fields.Float(allow_none=True)
    version = fields.Integer()
    period = fields.String()
    published_at = fields.DateTime(allow_none=True)


class PublicPageOut(RunPageOut):
    items = fields.List(fields.Nested(PublicRatingOut))
    period = fields.String(allow_none=True)


class MineOut(Schema):
    period = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(RatingOut))


class ObjectionIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "dismissed"]))
    grade = fields.String(validate=validate.OneOf(GRADES[:-1]), metadata={"description": "for upheld"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ObjectionFileOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class ObjectionOut(Schema):
    id = fields.Integer()
    rating_id = fields.Integer()
    status = fields.String(metadata={"description": "open, upheld or dismissed"})
    reason = fields.String()
    lodged_on = fields.Date()
    deadline = fields.Date(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    corrected_rating_id = fields.Integer(allow_none=True)
    files = fields.List(fields.Nested(ObjectionFileOut), metadata={"description": "attachments (PDF, PNG, JPEG)"})
