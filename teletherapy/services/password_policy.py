"""What a password must be (NIST SP 800-63B): long enough, not a known or guessable one.

At least 12 characters and no composition rules (no "one digit, one symbol"): a
long passphrase is both easier to remember and harder to guess. Refused: passwords
that zxcvbn, a maintained strength estimator with the common-password lists of
real breaches, scores below 3 (fewer than 10^8 guesses): common passwords and
their variants, repeats ("passwordpassword"), keyboard walks, and passwords made
of the person's own name or e-mail address.

zxcvbn is imported where a password is judged: its word lists take a noticeable
part of every command's start-up, and most commands never judge a password.
"""

from .errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10^8 guesses
# zxcvbn refuses longer input; a longer password is judged by its first 72
# characters (anything guessable there is guessable as a whole)
ESTIMATOR_MAX = 72

RULE = (
    f"at least {MIN_LENGTH} characters, not a common or easily guessed password "
    "(a few unrelated words make a good one)"
)


def problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why the password is refused, in words for the person choosing it, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters (got {len(password)})"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not password.strip():
        return "must not be only spaces"
    from zxcvbn import zxcvbn

    inputs = [part for text in user_inputs for part in _words(text)]
    result = zxcvbn(password[:ESTIMATOR_MAX], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or ""
        why = f" ({warning.rstrip('.')})" if warning else ""
        return (
            "is too easy to guess" + why + ": try a few unrelated words, "
            f"at least {MIN_LENGTH} characters in all"
        )
    return None


def check(
    password: str, *, user_inputs: tuple[str, ...] = (), field: str = "password"
) -> None:
    """Raise Invalid naming ``field`` when the password is refused."""
    why = problem(password, user_inputs=user_inputs)
    if why:
        raise Invalid(f"The new password {why}.", {field: why})


def _words(text: str) -> list[str]:
    """A name or e-mail address as the pieces someone might build a password from."""
    pieces = [text.lower()]
    for sep in ("@", ".", " ", "-", "_", "+"):
        pieces = [p for piece in pieces for p in piece.split(sep)]
    return [p for p in pieces if len(p) >= 3] + [text.lower()]
