from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf


class ConsentForm(FlaskForm):
    """CSRF token, the decision and the version of the text the person read."""

    decision = HiddenField(validators=[AnyOf(["give", "withdraw"])])
    version = HiddenField()
