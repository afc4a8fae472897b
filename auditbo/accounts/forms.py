from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from auditbo.accounts.models import Role


def role_choices():
    return [SelectChoice(r.value, r.title) for r in Role]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Sign in"))


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=role_choices)
    org = StringField(_l("Body's credit code"), validators=[Optional(), Length(max=18)],
                      description=_l("Required for assessment-body clerks and consulting-body users"))
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Create user"))


class EditUserForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=role_choices)
    org = StringField(_l("Body's credit code"), validators=[Optional(), Length(max=18)])
    active = BooleanField(_l("Active"))
    submit = SubmitField(_l("Save"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Change password"))


class NewTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. the system that will use it"))
    submit = SubmitField(_l("Create token"))


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons."""
