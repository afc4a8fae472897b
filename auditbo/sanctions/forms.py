from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from auditbo.filings.models import Grade

SUBJECT_TITLES = {
    "certificate": _l("A certificate (by number)"),
    "organisation": _l("A body (by credit code)"),
    "person": _l("A person (by person id)"),
}
ACTION_TITLES = {
    "suspension": _l("Suspend"),
    "reinstatement": _l("Reinstate a suspended certificate"),
    "downgrade": _l("Downgrade a certificate"),
    "warning": _l("Warn a body or person"),
    "revocation": _l("Revoke (needs a second admin to confirm)"),
}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class SanctionForm(FlaskForm):
    subject = SelectField(
        _l("Sanction on"), choices=choices(SUBJECT_TITLES.items()), validators=[InputRequired()]
    )
    ref = StringField(
        _l("Certificate number, credit code or person id"), validators=[DataRequired(), Length(max=64)]
    )
    kind = SelectField(_l("Measure"), choices=choices(ACTION_TITLES.items()), validators=[InputRequired()])
    grade = SelectField(
        _l("Lower grade (for a downgrade)"),
        choices=choices([("", "—")] + [(g.value, g.value) for g in Grade]),
        validators=[Optional()],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional(), Length(max=2000)])
    ends_on = DateField(_l("Ends on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Apply"))


class DecideForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    confirm = SubmitField(_l("Confirm"))
    decline = SubmitField(_l("Decline"))
    lift = SubmitField(_l("Lift now"))
