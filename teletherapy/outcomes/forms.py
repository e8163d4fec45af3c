"""The therapist's outcome settings (Flask-WTF) and reading a posted questionnaire."""

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, SubmitField, widgets
from wtforms.validators import InputRequired, NumberRange

from ..models import MAX_EVERY_N

ANSWER_PREFIX = "answers-"


class OutcomeSettingsForm(FlaskForm):
    measures = SelectMultipleField(
        "Questionnaires your clients fill in before a session",
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=True,
    )
    every_n = IntegerField(
        "Ask before every n-th session (1 = every session)",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_EVERY_N)],
    )
    submit = SubmitField("Save questionnaire settings")


def posted_answers(form: Mapping[str, str]) -> dict[str, object]:
    """{item id: value} from fields named answers-<item>; a value that is not a
    small integer is passed on as text, for the scorer to refuse."""
    answers: dict[str, object] = {}
    for name, raw in form.items():
        if name.startswith(ANSWER_PREFIX) and raw.strip():
            text = raw.strip()
            answers[name.removeprefix(ANSWER_PREFIX)] = (
                int(text) if text.isdigit() and len(text) <= 3 else text
            )
    return answers


def plain_errors(details: Mapping[str, str]) -> dict[str, str]:
    """Field name → a message for people, from the scorer's item messages."""
    return {
        ANSWER_PREFIX + item: (
            "Please choose an answer for this question."
            if message.startswith("is required")
            else "Please choose one of the answers shown."
        )
        for item, message in details.items()
        if item
    }
