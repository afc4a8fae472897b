from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from auditbo.complaints.models import SOURCE_TITLES

KIND_TITLES = {
    "assessment_body": _l("Assessment body"),
    "consulting_body": _l("Consulting body"),
    "person": _l("Person (assessor or consultant)"),
}
MOVE_TITLES = {
    "investigating": _l("Start the investigation"),
    "substantiated": _l("Close as substantiated"),
    "unsubstantiated": _l("Close as unsubstantiated"),
}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ComplaintForm(FlaskForm):
    kind = SelectField(
        _l("Complaint against"), choices=choices(KIND_TITLES.items()), validators=[InputRequired()]
    )
    party = StringField(_l("Credit code or person id"), validators=[DataRequired(), Length(max=32)])
    certificate_no = StringField(_l("Certificate number (optional)"), validators=[Optional(), Length(max=64)])
    source = SelectField(
        _l("Source"), choices=choices((k, v) for k, v in SOURCE_TITLES.items() if k != "public")
    )
    received_on = DateField(_l("Received on"), validators=[Optional()])
    complainant = StringField(_l("Complainant (office only)"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("Contact (office only)"), validators=[Optional(), Length(max=200)])
    text = TextAreaField(_l("What the complaint says"), validators=[DataRequired(), Length(max=10_000)])
    files = MultipleFileField(_l("Evidence (PDF, PNG, JPEG)"))
    submit = SubmitField(_l("Register the complaint"))


class TransitionForm(FlaskForm):
    to = SelectField(_l("Next step"), choices=[], validators=[InputRequired()])
    assignee_id = SelectField(_l("Assignee"), choices=[], validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])
    version = HiddenField()
    submit = SubmitField(_l("Save"))


class PublicComplaintForm(FlaskForm):
    name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=200)])
    contact = StringField(
        _l("How we can reach you (telephone or e-mail)"), validators=[DataRequired(), Length(max=200)]
    )
    certificate_no = StringField(_l("Certificate number"), validators=[Optional(), Length(max=64)])
    body = StringField(_l("Or the body's name or credit code"), validators=[Optional(), Length(max=200)])
    text = TextAreaField(_l("Your complaint"), validators=[DataRequired(), Length(max=10_000)])
    files = MultipleFileField(_l("Evidence (PDF, PNG, JPEG; optional)"))
    submit = SubmitField(_l("Send the complaint"))


class TrackForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Tracking code"), validators=[DataRequired(), Length(max=24)])
