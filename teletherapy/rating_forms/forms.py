"""Reading a posted rating form, and saying what went wrong in plain language.

No FlaskForm: the questions come from the instrument, and CSRFProtect already
checks the token of every POST.
"""

from collections.abc import Mapping

ANSWER_PREFIX = "answers-"
META_PREFIX = "meta-"


def _number(raw: str) -> int | str:
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    return int(text) if digits.isdigit() and len(digits) <= 9 else text


def posted_answers(form: Mapping[str, str]) -> dict[str, object]:
    """The body the rating service reads ({"answers", "meta_answers"}, as the API
    posts it) from fields named answers-<item> and meta-<item>. An empty value
    ("skip" on an optional question) counts as unanswered."""
    answers: dict[str, object] = {}
    meta: dict[str, object] = {}
    for name, raw in form.items():
        for prefix, target in ((ANSWER_PREFIX, answers), (META_PREFIX, meta)):
            if name.startswith(prefix) and raw.strip():
                target[name.removeprefix(prefix)] = _number(raw)
    return {"answers": answers, "meta_answers": meta or None}


def plain_errors(details: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(messages per field name, general messages) for people, from 422 details."""
    per_item: dict[str, str] = {}
    general: list[str] = []
    for key, message in details.items():
        section, _, item = key.partition(".")
        field = {"answers": ANSWER_PREFIX, "meta_answers": META_PREFIX}.get(section)
        if field is None or not item:
            general.append("The form could not be read. Please reload the page.")
        elif message.startswith("is required"):
            per_item[field + item] = "Please choose an answer for this question."
        elif message.startswith("must be"):
            per_item[field + item] = "Please choose one of the answers shown."
        else:
            general.append(
                "The form did not match this session's questions. "
                "Please reload the page and answer again."
            )
    return per_item, sorted(set(general))
