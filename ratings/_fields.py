"""Typed readers for parsed TOML tables; each raises Invalid(problem, where).

Messages say what was expected and what came: ``'min' must be an integer (got
'1')``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import cast

Table = Mapping[str, object]

# Ids become JSON keys, CSV column parts and CLI arguments: keep them plain.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")


class Invalid(Exception):
    """One problem in a definition, and where it is (``item 'q3'``) when known."""

    def __init__(self, problem: str, where: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where


def check_keys(
    data: Table, required: Sequence[str], optional: Sequence[str], where: str | None
) -> None:
    """Unknown keys first: a misspelt key is a better hint than the missing one."""
    allowed = [*required, *optional]
    for key in data:
        if key not in allowed:
            raise Invalid(
                f"unknown key {key!r} (expected one of {sorted(allowed)})", where
            )
    for key in required:
        if key not in data:
            raise Invalid(f"missing required key {key!r}", where)


def get_str(
    data: Table,
    key: str,
    where: str | None,
    *,
    default: str | None = None,
    allow_empty: bool = False,
) -> str:
    if key not in data and default is not None:
        return default
    value = data[key]
    if not isinstance(value, str):
        raise Invalid(f"{key!r} must be a string (got {show(value)})", where)
    if not allow_empty and not value.strip():
        raise Invalid(f"{key!r} must not be empty", where)
    return value


def get_ident(data: Table, key: str, where: str | None) -> str:
    value = get_str(data, key, where)
    if not _ID.match(value):
        raise Invalid(
            f"{key!r} must be 1-64 letters, digits, '-' or '_', starting with a "
            f"letter or digit (got {show(value)})",
            where,
        )
    return value


def get_int(data: Table, key: str, where: str | None) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{key!r} must be an integer (got {show(value)})", where)
    return value


def get_bool(
    data: Table, key: str, where: str | None, *, default: bool | None = None
) -> bool:
    if key not in data and default is not None:
        return default
    value = data[key]
    if not isinstance(value, bool):
        raise Invalid(f"{key!r} must be true or false (got {show(value)})", where)
    return value


def get_choice(data: Table, key: str, choices: Sequence[str], where: str | None) -> str:
    value = data[key]
    if not isinstance(value, str) or value not in choices:
        raise Invalid(
            f"{key!r} must be one of {list(choices)} (got {show(value)})", where
        )
    return value


def get_table(data: Table, key: str, where: str | None) -> Table:
    value = data[key]
    if not isinstance(value, dict):
        raise Invalid(f"{key!r} must be a table (got {show(value)})", where)
    return cast(Table, value)


def get_tables(data: Table, key: str) -> list[Table]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Invalid(
            f"{key!r} must be an array of tables, [[{key}]] (got {show(value)})"
        )
    if not value:
        raise Invalid(f"{key!r} must not be empty")
    return cast(list[Table], value)


def show(value: object) -> str:
    """repr() of a value echoed in a message, cut short: files can be large."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
