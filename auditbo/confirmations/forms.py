from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget


def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3+: SelectChoice objects, not tuples (a lazy label is rendered in the request's language)."""
    return [SelectChoice(value, label) for value, label in pairs]


SEVERITY_TITLES = {"major": _l("Major"), "minor": _l("Minor"), "observation": _l("Observation")}
AGAINST_TITLES = {"body": _l("The assessment body"), "lead": _l("The lead assessor"),
                  "member": _l("A team member"), "consultant": _l("A consultant")}
DECISION_TITLES = {"confirmed": _l("Confirmed"), "grade_adjusted": _l("Grade adjusted"),
                   "returned": _l("Returned for correction"), "rejected": _l("Rejected")}
PARTY_TITLES = {"body": _l("The assessment body"), "consulting_body": _l("The consulting body"),
                "enterprise": _l("The enterprise")}
ANSWER_TITLES = {"yes": _l("Yes"), "no": _l("No"), "na": _l("Not applicable")}


class PrefixedForm(FlaskForm):
    """The review page holds several forms: each has its own prefix, so that ids stay unique."""

    PREFIX = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DeclarationForm(PrefixedForm):
    PREFIX = "decl"

    conflict = RadioField(_l("Your declaration"), default="no", choices=lambda: choices([
        ("no", _l("I have no tie to the assessment body, the consulting body or the enterprise of this record "
                  "(no employment, consulting, shareholding or family tie within the look-back period)")),
        ("yes", _l("I have a tie and must not review this record")),
    ]), validators=[InputRequired()])
    parties = MultiCheckboxField(_l("Tied to"), choices=lambda: choices(PARTY_TITLES.items()), validators=[Optional()])
    reason = TextAreaField(_l("The tie"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Sign the declaration"))


class ChecklistForm(PrefixedForm):
    PREFIX = "cl"

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save the checklist"))


def checklist_form(items: list[dict], **kwargs) -> ChecklistForm:
    """A checklist form with one yes / no / n.a. field per item of the checklist version in use."""
    fields = {f"item_{i['key']}": RadioField(i["text"], choices=lambda: choices(ANSWER_TITLES.items()),
                                             validators=[Optional()]) for i in items}
    return type("ChecklistVersionForm", (ChecklistForm,), fields)(**kwargs)


class FindingForm(PrefixedForm):
    PREFIX = "fd"

    severity = SelectField(_l("Severity"), choices=lambda: choices(SEVERITY_TITLES.items()))
    against = SelectField(_l("Held against"), choices=lambda: choices(AGAINST_TITLES.items()))
    person_id = SelectField(_l("Person"), choices=[], validate_choice=False, validators=[Optional()])
    text = TextAreaField(_l("Finding"), validators=[DataRequired(), Length(min=2, max=4000)])
    submit = SubmitField(_l("Add the finding"))


class DecisionForm(PrefixedForm):
    PREFIX = "dc"

    decision = SelectField(_l("Decision"), choices=lambda: choices(DECISION_TITLES.items()))
    grade = SelectField(_l("Adjusted grade"), choices=[], validate_choice=False, validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=4000)],
                           description=_l("Required unless the result is confirmed; the body sees it."))
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField(_l("Record the decision"))


class ReassignForm(PrefixedForm):
    PREFIX = "ra"

    reason = TextAreaField(_l("Reason for the reassignment"), validators=[DataRequired(), Length(min=2, max=4000)])
    submit = SubmitField(_l("Draw another reviewer"))


class RecusalForm(FlaskForm):
    user_id = SelectField(_l("Supervisor"), choices=[], coerce=int)
    party = SelectField(_l("Recused from"), choices=lambda: choices([
        ("org", _l("A body (credit code)")), ("enterprise", _l("An enterprise (credit code)"))]))
    credit_code = StringField(_l("Credit code"), validators=[DataRequired(), Length(min=18, max=18)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=2, max=4000)])
    submit = SubmitField(_l("Add to the list"))


class RemoveRecusalForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(min=2, max=4000)])
    submit = SubmitField(_l("Remove"))
