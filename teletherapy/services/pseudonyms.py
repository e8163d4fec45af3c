"""Research pseudonyms: keyed HMAC-SHA256 of internal ids (docs/security.md, row 3).

The key (``PSEUDONYM_KEY``, which the caller passes) comes from the environment or
a file under instance/, never from the database, so a copy of the database alone
cannot link a pseudonym to a person. The input is the record's random id with a
label per kind (never an e-mail address), so the same person gets the same
pseudonym in every export of one deployment, and unrelated pseudonyms in another
deployment or after a key change.
"""

import hashlib
import hmac

PREFIXES = {"session": "S-", "dyad": "D-", "therapist": "T-", "client": "C-"}
HEX_DIGITS = 16  # 64 bits: collisions are negligible for any realistic study size
PATTERN = r"[SDTC]-[0-9a-f]{16}"


class PseudonymKeyMissing(RuntimeError):
    """No PSEUDONYM_KEY is configured: research data cannot be pseudonymized."""


def _key(key: str | bytes) -> bytes:
    if not key:
        raise PseudonymKeyMissing("set TELETHERAPY_PSEUDONYM_KEY")
    return key if isinstance(key, bytes) else key.encode()


def pseudonym(kind: str, *ids: str, key: str | bytes) -> str:
    """The pseudonym of one record under ``key`` (the configured PSEUDONYM_KEY):
    prefix + the first 16 hex digits of the HMAC."""
    message = ":".join((kind, *ids)).encode()
    digest = hmac.new(_key(key), message, hashlib.sha256).hexdigest()
    return PREFIXES[kind] + digest[:HEX_DIGITS]


class Pseudonymizer:
    """Pseudonyms under one key (PSEUDONYM_KEY, passed by the caller), each id
    hashed once (exports are long)."""

    def __init__(self, key: str) -> None:
        self.key = _key(key)
        self._cache: dict[tuple[str, ...], str] = {}

    def __call__(self, kind: str, *ids: str) -> str:
        found = self._cache.get((kind, *ids))
        if found is None:
            found = self._cache[(kind, *ids)] = pseudonym(kind, *ids, key=self.key)
        return found
