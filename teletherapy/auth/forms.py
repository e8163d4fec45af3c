from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..services import password_policy


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class SettingsForm(FlaskForm):
    timezone = SelectField("Your time zone", validators=[DataRequired()])
    submit = SubmitField("Save")


# Own passwords (auth/passwords.py)


def _new_password(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), Length(max=password_policy.MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )


def _confirm() -> PasswordField:
    return PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="The two new passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=password_policy.MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password()
    confirm_password = _confirm()
    submit = SubmitField("Change password")


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField("Send me a link")


class ResetForm(FlaskForm):
    new_password = _new_password()
    confirm_password = _confirm()
    submit = SubmitField("Set my new password")
