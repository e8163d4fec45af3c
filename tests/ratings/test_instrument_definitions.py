"""The definition validator, file-level mistakes: the message names the file and
what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ratings import InstrumentError, load_instrument

Mutation = Callable[[dict[str, Any]], object]


CASES: list[tuple[str, Mutation, str | None, str]] = [
    ("missing top key", lambda d: d.pop("title"), None, "missing required key 'title'"),
    (
        "unknown top key",
        lambda d: d.update(colour="blue"),
        None,
        "unknown key 'colour' (expected one of",
    ),
    (
        "bool as string",
        lambda d: d.update(validated="yes"),
        None,
        "'validated' must be true or false (got 'yes')",
    ),
    (
        "version as number",
        lambda d: d.update(version=1),
        None,
        "'version' must be a string (got 1)",
    ),
    (
        "version format",
        lambda d: d.update(version="v1"),
        None,
        "'version' must look like '1.0' (got 'v1')",
    ),
    (
        "scale not table",
        lambda d: d.update(scale=5),
        None,
        "'scale' must be a table (got 5)",
    ),
    (
        "items not tables",
        lambda d: d.update(items=["q1"]),
        None,
        "'items' must be an array of tables",
    ),
    ("no items", lambda d: d.update(items=[]), None, "'items' must not be empty"),
    ("bad id", lambda d: d.update(id="demo c"), None, "'id' must be 1-64 letters"),
    ("empty title", lambda d: d.update(title="  "), None, "'title' must not be empty"),
    (
        "unknown perspective",
        lambda d: d.update(perspective="patient"),
        None,
        "'perspective' must be one of ['client', 'therapist'] (got 'patient')",
    ),
    (
        "unknown kind",
        lambda d: d.update(kind="form"),
        None,
        "'kind' must be one of ['instrument', 'template', 'meta_perception', "
        "'outcome'] (got 'form')",
    ),
    (
        "unknown scoring",
        lambda d: d.update(scoring="median"),
        None,
        "'scoring' must be one of ['sum', 'mean'] (got 'median')",
    ),
    (
        "instrument without pair",
        lambda d: d.pop("pair"),
        None,
        "missing required key 'pair' (required for kind 'instrument')",
    ),
    (
        "pair is itself",
        lambda d: d.update(pair="demo-c"),
        None,
        "'pair' must name another instrument (got its own id 'demo-c')",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_definition_is_rejected_naming_file_and_problem(
    definition: dict[str, Any],
    write: Callable[..., Path],
    mutate: Mutation,
    where: str | None,
    problem: str,
) -> None:
    mutate(definition)
    path = write(definition, "broken.toml")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert caught.value.where == where
    if where is not None:
        assert message.startswith(f"{path}: {where}: ")


def test_message_matches_the_documented_style(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    definition["items"][2]["subscale"] = "bnd"
    path = write(definition, "x.toml")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert str(caught.value) == (
        f"{path}: item 'q3': 'subscale' must be one of ['goal', 'task'] (got 'bnd')"
    )


def test_base_definition_is_valid(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    # Guards the table above: each case fails for its own mutation only.
    instrument = load_instrument(write(definition, "good.toml"))
    assert [item.id for item in instrument.items] == ["q1", "q2", "q3", "q4"]
    assert instrument.source.endswith("good.toml")


def test_unreadable_toml_names_the_file(write: Callable[..., Path]) -> None:
    path = write('id = "demo-c"\ntitle = \n', "syntax.toml")
    with pytest.raises(
        InstrumentError, match=r"syntax\.toml: not valid TOML \(.*line 2"
    ):
        load_instrument(path)


def test_file_that_is_not_utf8_is_rejected(write: Callable[..., Path]) -> None:
    path = write(b'title = "\xff\xfe"\n', "latin.toml")
    with pytest.raises(InstrumentError, match=r"latin\.toml: not UTF-8 text"):
        load_instrument(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(InstrumentError, match=r"absent\.toml: cannot read the file"):
        load_instrument(path)
