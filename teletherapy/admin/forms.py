from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
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


class InviteForm(FlaskForm):
    """Invite someone: they choose their own password from the link in the mail."""

    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    therapist_id = SelectField(
        "Therapist (for a client: joins this therapist's caseload)",
        choices=[],
        validate_choice=False,
    )
    submit = SubmitField("Send invitation")


class AssignForm(FlaskForm):
    therapist_id = SelectField("Therapist", validators=[DataRequired()])
    client_id = SelectField("Client", validators=[DataRequired()])
    submit = SubmitField("Add to caseload")
