"""The filing form: the same fields as the API, flattened for a web page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import SelectChoice as C
from wtforms.validators import Optional

from auditbo.filings.models import AssessmentType, Grade

TYPE_CHOICES = [
    C("initial", _l("Initial assessment")), C("surveillance", _l("Surveillance")),
    C("reassessment", _l("Reassessment")), C("upgrade", _l("Upgrade")),
]
SIZE_CHOICES = [C("large", _l("Large")), C("medium", _l("Medium")), C("small", _l("Small")), C("micro", _l("Micro"))]
LEVEL_CHOICES = [C("", "—")] + [C(f"CL{i}", f"CL{i}") for i in range(1, 6)]
ROLE_CHOICES = [C("", "—"), C("lead", _l("Lead assessor")), C("member", _l("Team member"))]

assert {c.value for c in TYPE_CHOICES} == {t.value for t in AssessmentType}


class Needed:
    """Marks a field required on the page (label and attribute) without checking it here: the filing
    service checks every field at once and names each problem, so a page never shows half the errors."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class TeamRow(Form):
    person_id = StringField(_l("Person id"), validators=[Optional()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[Optional()])


class CapabilityRow(Form):
    name = StringField(_l("Capability"), validators=[Optional()])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES, validators=[Optional()])


class FilingForm(FlaskForm):
    external_ref = StringField(_l("Your reference"), validators=[Needed()])
    assessment_type = SelectField(_l("Assessment type"), choices=TYPE_CHOICES, validators=[Needed()])
    enterprise_name = StringField(_l("Enterprise name"), validators=[Needed()])
    enterprise_credit_code = StringField(_l("Unified social credit code"), validators=[Needed()])
    enterprise_region_code = StringField(_l("Region code"), validators=[Needed()],
                                         description=_l("6 digits (GB/T 2260); pick a province or type the code"))
    enterprise_industry_code = StringField(_l("Industry code"), validators=[Needed()],
                                           description=_l("GB/T 4754: a section letter, optionally 2-4 digits"))
    enterprise_size = SelectField(_l("Enterprise size"), choices=SIZE_CHOICES, validators=[Needed()])
    enterprise_employees = IntegerField(_l("Employees"), validators=[Optional(), Needed()])
    grade = SelectField(_l("Grade"), choices=[C(g.value, g.value) for g in Grade], validators=[Needed()])
    capabilities = FieldList(FormField(CapabilityRow), min_entries=4, max_entries=10)
    consulting_body_credit_code = StringField(_l("Consulting body's credit code"), validators=[Optional()])
    consultant_ids = StringField(_l("Consultant ids"), validators=[Optional()],
                                 description=_l("Separate several with commas"))
    team = FieldList(FormField(TeamRow), min_entries=5, max_entries=15)
    person_days = DecimalField(_l("Person-days on site"), places=1, validators=[Optional(), Needed()])
    reduction_reason = TextAreaField(_l("Justification for fewer person-days"), validators=[Optional()])
    onsite_start = DateField(_l("On-site from"), validators=[Optional(), Needed()])
    onsite_end = DateField(_l("On-site to"), validators=[Optional(), Needed()])
    decision_date = DateField(_l("Decision date"), validators=[Optional(), Needed()])
    certificate_no = StringField(_l("Certificate number"), validators=[Needed()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()],
                            description=_l("Leave empty for the decision date + 3 years"))
    reason = TextAreaField(_l("Reason for the amendment"), validators=[Optional()])
    submit = SubmitField(_l("File"))

    def to_payload(self) -> dict:
        def s(field):
            return (field.data or "").strip() if isinstance(field.data, str) or field.data is None else field.data

        def d(field):
            return field.data.isoformat() if field.data else raw(field)

        def raw(field):
            """What was typed, when it did not parse: the service then names the field's problem."""
            return (field.raw_data[0].strip() if field.raw_data and field.raw_data[0] else None) or None

        def num(field, kind):
            return kind(field.data) if field.data is not None else raw(field)

        cons = s(self.consulting_body_credit_code)
        return {
            "external_ref": s(self.external_ref), "assessment_type": self.assessment_type.data,
            "enterprise": {"name": s(self.enterprise_name), "credit_code": s(self.enterprise_credit_code),
                           "region_code": s(self.enterprise_region_code),
                           "industry_code": s(self.enterprise_industry_code), "size": self.enterprise_size.data,
                           "employees": num(self.enterprise_employees, int)},
            "grade": self.grade.data,
            "capabilities": [{"name": (r.form.name.data or "").strip(), "level": r.form.level.data}
                             for r in self.capabilities if (r.form.name.data or "").strip() or r.form.level.data],
            "consulting_body": {"credit_code": cons, "consultant_ids": [
                c.strip() for c in (self.consultant_ids.data or "").replace("，", ",").split(",") if c.strip()]}
            if cons else None,
            "team": [{"person_id": (r.form.person_id.data or "").strip(), "role": r.form.role.data}
                     for r in self.team if (r.form.person_id.data or "").strip() or r.form.role.data],
            "person_days": num(self.person_days, float),
            "reduction_reason": s(self.reduction_reason) or None,
            "onsite_start": d(self.onsite_start), "onsite_end": d(self.onsite_end),
            "decision_date": d(self.decision_date), "certificate_no": s(self.certificate_no),
            "valid_until": d(self.valid_until),
        }

    def fill(self, payload: dict) -> None:
        """Pre-fill from a stored filing (for an amendment)."""
        from datetime import date

        e = payload["enterprise"]
        self.external_ref.data = payload["external_ref"]
        self.assessment_type.data = payload["assessment_type"]
        self.enterprise_name.data, self.enterprise_credit_code.data = e["name"], e["credit_code"]
        self.enterprise_region_code.data, self.enterprise_industry_code.data = e["region_code"], e["industry_code"]
        self.enterprise_size.data, self.enterprise_employees.data = e["size"], e["employees"]
        self.grade.data = payload["grade"]
        for row, cap in zip(self.capabilities, payload["capabilities"], strict=False):
            row.form.name.data, row.form.level.data = cap["name"], cap["level"]
        cb = payload.get("consulting_body")
        if cb:
            self.consulting_body_credit_code.data = cb["credit_code"]
            self.consultant_ids.data = ", ".join(cb["consultant_ids"])
        for row, m in zip(self.team, payload["team"], strict=False):
            row.form.person_id.data, row.form.role.data = m["person_id"], m["role"]
        self.person_days.data = payload["person_days"]
        self.reduction_reason.data = payload.get("reduction_reason")
        for key in ("onsite_start", "onsite_end", "decision_date", "valid_until"):
            getattr(self, key).data = date.fromisoformat(payload[key]) if payload.get(key) else None
        self.certificate_no.data = payload["certificate_no"]

    def clear_errors(self) -> None:
        for field in self:
            if field.name == "csrf_token":
                continue
            field.errors = []
            for entry in getattr(field, "entries", []):
                for sub in entry.form:
                    sub.errors = []

    def show_errors(self, errors) -> list[str]:
        """Attach the service's errors to their fields; return those that belong to no field."""
        self.clear_errors()
        loose = []
        from auditbo.messages import field_name, localise

        for err in errors:
            target = self._field_for(err.field)
            if target is not None:
                target.errors = list(target.errors or []) + [localise(err.message)]
            else:
                loose.append(f"{field_name(err.field)}:{localise(err.message)}")
        return loose

    def _field_for(self, path: str):
        import re

        m = re.match(r"^(team|capabilities)\[(\d+)\]\.(\w+)$", path)
        if m:
            rows = [r for r in getattr(self, m.group(1))
                    if any((getattr(r.form, f).data or "") for f in ("person_id", "role", "name", "level")
                           if hasattr(r.form, f))]
            i = int(m.group(2))
            return getattr(rows[i].form, m.group(3), None) if i < len(rows) else None
        if path.startswith("consulting_body.consultant_ids"):
            return self.consultant_ids
        name = path.replace(".", "_")
        if path in ("team", "capabilities"):
            return None
        return getattr(self, name, None) if hasattr(getattr(self, name, None), "errors") else None


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file in the template"), validators=[FileRequired()])
    submit = SubmitField(_l("Check the file"))
