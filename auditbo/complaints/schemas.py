"""Marshmallow schemas of the complaints API (spec/api.md, "Complaints")."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from auditbo.complaints.models import SOURCES, ComplaintStatus
from auditbo.complaints.queries import TABS
from auditbo.complaints.services import AGAINST_KINDS
from auditbo.inputs import INT_MAX

OFFICE_SOURCES = [s for s in SOURCES if s != "public"]


class AgainstIn(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(AGAINST_KINDS))
    credit_code = fields.String(
        validate=validate.Length(max=18), metadata={"description": "for an assessment or consulting body"}
    )
    person_id = fields.String(validate=validate.Length(max=32), metadata={"description": "for a person"})


class ComplaintIn(Schema):
    class Meta:
        unknown = EXCLUDE

    against = fields.Nested(AgainstIn, required=True)
    assessment_id = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=INT_MAX)
    )
    text = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    source = fields.String(required=True, validate=validate.OneOf(OFFICE_SOURCES))
    complainant = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    contact = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    received_on = fields.Date(allow_none=True, load_default=None, metadata={"description": "default today"})


class TransitionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    to = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in ComplaintStatus if s is not ComplaintStatus.received]),
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    version = fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "the complaint's version as you read it; a stale one is answered 409"},
    )
    assignee_id = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=INT_MAX),
        metadata={"description": "a supervisor or admin (default: the caller, when investigating)"},
    )


class ListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    tab = fields.String(load_default="all", validate=validate.OneOf(TABS))
    status = fields.String(validate=validate.OneOf([s.value for s in ComplaintStatus]))
    body = fields.String(validate=validate.Length(equal=18), metadata={"description": "credit code"})


class AgainstOut(Schema):
    kind = fields.String()
    credit_code = fields.String(allow_none=True)
    person_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class UserRefOut(Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()


class FileOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class ComplaintOut(Schema):
    id = fields.Integer()
    status = fields.String()
    against = fields.Nested(AgainstOut)
    assessment_id = fields.Integer(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    text = fields.String()
    source = fields.String()
    complainant = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    subject_hint = fields.String(allow_none=True)
    received_on = fields.Date()
    due_date = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    assignee = fields.Nested(UserRefOut, allow_none=True)
    resolution = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    tracking_code = fields.String(allow_none=True)
    version = fields.Integer()
    files = fields.List(fields.Nested(FileOut))


class ComplaintPageOut(Schema):
    items = fields.List(fields.Nested(ComplaintOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
