"""Forms of the ratings pages (CSRF by Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class RunForm(FlaskForm):
    period = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])


class PublishForm(FlaskForm):
    """No fields: the button and its CSRF token."""


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])
    files = MultipleFileField(_l("Attachments (PDF, PNG, JPEG; optional)"))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[SelectChoice("upheld", _l("Upheld: correct the grade")),
                                                    SelectChoice("dismissed", _l("Dismissed"))])
    grade = SelectField(_l("Corrected grade"), validators=[Optional()],
                        choices=[SelectChoice("", "—")] + [SelectChoice(g, g) for g in ("AAA", "AA", "A", "B", "C")])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])
