from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length

ROLE_CHOICES = [
    SelectChoice("client", "Client"),
    SelectChoice("therapist", "Therapist"),
    SelectChoice("researcher", "Researcher"),
    SelectChoice("admin", "Administrator"),
]


class CreateUserForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField(
        "Initial password (at least 12 characters)",
        validators=[DataRequired(), Length(12, 1024)],
    )
    submit = SubmitField("Create account")


class AssignForm(FlaskForm):
    therapist_id = SelectField("Therapist", validators=[DataRequired()])
    client_id = SelectField("Client", validators=[DataRequired()])
    submit = SubmitField("Add to caseload")
