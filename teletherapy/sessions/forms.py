from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SubmitField,
)
from wtforms.validators import DataRequired, NumberRange

MODALITY_CHOICES = [
    SelectChoice("video", "Video"),
    SelectChoice("audio", "Audio only"),
    SelectChoice("chat", "Text chat"),
    SelectChoice("in_person", "In person"),
]


class ScheduleForm(FlaskForm):
    client_id = SelectField("Client", validators=[DataRequired()])
    modality = SelectField("How you will meet", choices=MODALITY_CHOICES)
    scheduled_start = DateTimeLocalField(
        "Date and time (your time zone)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired()],
    )
    duration_minutes = IntegerField(
        "Length in minutes",
        default=50,
        validators=[DataRequired(), NumberRange(5, 240)],
    )
    submit = SubmitField("Schedule session")


class RescheduleForm(FlaskForm):
    """A new time for a scheduled session (the session row's small form)."""

    scheduled_start = DateTimeLocalField(
        "New date and time (your time zone)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired()],
    )
    duration_minutes = IntegerField(
        "Length in minutes", validators=[DataRequired(), NumberRange(5, 240)]
    )


class ActionForm(FlaskForm):
    """CSRF-only form for the small POST buttons (cancel, start, end)."""
