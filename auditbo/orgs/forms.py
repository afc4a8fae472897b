from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from auditbo.orgs.models import OrgKind

QUALIFICATION_TITLES = {
    "assessor": _l("Assessor"),
    "lead": _l("Lead assessor"),
    "senior_lead": _l("Senior lead assessor"),
    "consultant": _l("Consultant"),
}
PERSON_KIND_TITLES = {"assessor": _l("Assessor"), "consultant": _l("Consultant")}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in pairs]


class OrgForm(FlaskForm):
    """Create or edit a body. On edit the credit code and the kind are removed (they never change)."""

    credit_code = StringField(_l("Credit code"), validators=[DataRequired(), Length(min=18, max=18)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=lambda: choices((k.value, k.title) for k in OrgKind))
    region_code = StringField(_l("Region code"), validators=[DataRequired(), Length(min=6, max=6)])
    scope = TextAreaField(_l("Scope"), validators=[Optional(), Length(max=2000)])
    contact = StringField(_l("Contact (office only)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class PersonForm(FlaskForm):
    """Create or edit a person. On edit the person id and the kind are removed."""

    person_id = StringField(_l("Person id"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=lambda: choices(PERSON_KIND_TITLES.items()))
    org_credit_code = StringField(_l("Credit code of the employer"), validators=[DataRequired(),
                                                                              Length(min=18, max=18)])
    qualification = SelectField(_l("Qualification"), choices=lambda: choices(QUALIFICATION_TITLES.items()))
    valid_until = DateField(_l("Qualification valid until"), validators=[DataRequired()])
    id_number = StringField(_l("Identity number (stored only as a keyed hash; leave blank to keep)"),
                            validators=[Optional(), Length(max=18)], render_kw={"autocomplete": "off"})
    submit = SubmitField(_l("Save"))


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Change status"))


class ImportForm(FlaskForm):
    which = RadioField(_l("What the file holds"), default="orgs",
                       choices=lambda: choices([("orgs", _l("Bodies (orgs import)")),
                                                ("persons", _l("Staff (persons import)"))]))
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired(), FileAllowed(["csv", "xlsx"])])
    submit = SubmitField(_l("Import"))

