"""Directory loading and the registry: lookups, versions, and cross-file checks."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ratings import (
    InstrumentError,
    InstrumentNotFound,
    Registry,
    load_directory,
)

Definition = dict[str, Any]
Write = Callable[..., Path]


def _as_template(definition: Definition) -> Definition:
    template = copy.deepcopy(definition)
    template["kind"] = "template"
    for item in template["items"]:
        del item["text"]
    return template


def test_directory_loads_pair_and_resolves_both_ways(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    write: Write,
    tmp_path: Path,
) -> None:
    write(definition, "demo-c.toml")
    write(partner(definition), "demo-t.toml")
    registry = load_directory(tmp_path)
    client = registry.get("demo-c", "1.0")
    therapist = registry.pair_of(client)
    assert therapist is not None
    assert (therapist.id, therapist.perspective) == ("demo-t", "therapist")
    back = registry.pair_of(therapist)
    assert back is not None and back.id == "demo-c"
    assert [i.id for i in registry] == ["demo-c", "demo-t"]
    assert len(registry) == 2
    assert ("demo-c", "1.0") in registry


def test_pair_naming_an_unknown_instrument_is_rejected(
    definition: Definition, write: Write
) -> None:
    path = write(definition, "demo-c.toml")
    with pytest.raises(InstrumentError) as caught:
        load_directory(path.parent)
    assert str(caught.value) == (
        f"{path}: 'pair' must name a known instrument, one of ['demo-c'] (got 'demo-t')"
    )


def test_pair_with_the_same_perspective_is_rejected(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    write: Write,
    tmp_path: Path,
) -> None:
    other = partner(definition)
    other["perspective"] = "client"
    write(definition, "a-demo-c.toml")
    write(other, "b-demo-t.toml")
    with pytest.raises(InstrumentError) as caught:
        load_directory(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "a-demo-c.toml"))
    assert (
        "'pair' must name a therapist form (got 'demo-t' 1.0, perspective 'client')"
        in message
    )


def test_pairs_must_name_each_other(
    definition: Definition, partner: Callable[[Definition], Definition], write: Write
) -> None:
    third = copy.deepcopy(definition)
    third.update(id="demo-c2", pair="demo-t")  # demo-t pairs with demo-c, not demo-c2
    write(definition, "demo-c.toml")
    write(partner(definition), "demo-t.toml")
    path = write(third, "demo-c2.toml")
    with pytest.raises(InstrumentError) as caught:
        load_directory(path.parent)
    assert str(caught.value).startswith(f"{path}: ")
    assert "but 'demo-t' 1.0 pairs with 'demo-c': pairs must name each other" in str(
        caught.value
    )


def test_an_instrument_may_not_pair_with_a_meta_perception_set(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    write: Write,
    tmp_path: Path,
) -> None:
    meta = partner(definition)
    meta["kind"] = "meta_perception"
    write(definition, "demo-c.toml")
    write(meta, "demo-t.toml")
    with pytest.raises(InstrumentError, match="must not name a meta-perception set"):
        load_directory(tmp_path)


def test_meta_perception_set_pairs_one_way_with_the_client_form(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    write: Write,
    tmp_path: Path,
) -> None:
    meta = partner(definition)
    meta.update(id="demo-meta", kind="meta_perception", pair="demo-c")
    write(definition, "demo-c.toml")
    write(partner(definition), "demo-t.toml")
    write(meta, "demo-meta.toml")
    registry = load_directory(tmp_path)
    paired = registry.pair_of(registry.latest("demo-meta"))
    assert paired is not None and paired.id == "demo-c"
    partner_of_client = registry.pair_of(registry.latest("demo-c"))
    assert partner_of_client is not None and partner_of_client.id == "demo-t"


def test_same_id_and_version_twice_is_rejected(
    definition: Definition, partner: Callable[[Definition], Definition], write: Write
) -> None:
    first = write(definition, "a.toml")
    write(partner(definition), "t.toml")
    second = write(definition, "b.toml")
    with pytest.raises(InstrumentError) as caught:
        load_directory(first.parent)
    assert str(caught.value) == (
        f"{second}: duplicate instrument 'demo-c' version '1.0' (also in {first})"
    )


def test_latest_version_compares_numbers_not_strings(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    write: Write,
    tmp_path: Path,
) -> None:
    for version in ("1.9", "1.10", "1.2"):
        write({**definition, "version": version}, f"demo-c-{version}.toml")
    write(partner(definition), "demo-t.toml")
    registry = load_directory(tmp_path)
    assert registry.latest("demo-c").version == "1.10"
    assert [i.version for i in registry.versions("demo-c")] == ["1.2", "1.9", "1.10"]
    assert registry.get("demo-c", "1.9").version == "1.9"


def test_unknown_lookups_raise_instrument_not_found(
    definition: Definition, partner: Callable[[Definition], Definition]
) -> None:
    registry = Registry([])
    with pytest.raises(InstrumentNotFound, match="'nope'"):
        registry.latest("nope")
    with pytest.raises(InstrumentNotFound, match=r"'nope' 2\.0"):
        registry.get("nope", "2.0")
    assert registry.versions("nope") == []
    assert registry.all() == []


def test_completed_instrument_replaces_its_template(
    definition: Definition, partner: Callable[[Definition], Definition], write: Write
) -> None:
    write(_as_template(definition), "demo-c-template.toml")
    write(partner(definition), "demo-t.toml")
    completed = write(definition, "demo-c.toml")
    registry = load_directory(completed.parent)
    chosen = registry.get("demo-c", "1.0")
    assert chosen.kind == "instrument" and chosen.is_showable
    assert chosen.source == str(completed)
    assert len(registry.versions("demo-c")) == 1


def test_completed_instrument_must_match_its_template(
    definition: Definition, partner: Callable[[Definition], Definition], write: Write
) -> None:
    template = _as_template(definition)
    template["items"][0]["reversed"] = True
    template_path = write(template, "demo-c-template.toml")
    write(partner(definition), "demo-t.toml")
    completed = write(definition, "demo-c.toml")
    with pytest.raises(InstrumentError) as caught:
        load_directory(completed.parent)
    assert str(caught.value) == (
        f"{completed}: instrument 'demo-c' version '1.0' differs from its template "
        f"in {template_path} in more than item text"
    )


def test_several_directories_load_together(
    definition: Definition,
    partner: Callable[[Definition], Definition],
    tmp_path: Path,
    toml: Callable[[Definition], str],
) -> None:
    shipped, instance = tmp_path / "config", tmp_path / "instance"
    shipped.mkdir()
    instance.mkdir()
    (shipped / "demo-c.toml").write_text(toml(_as_template(definition)))
    (shipped / "demo-t.toml").write_text(toml(partner(definition)))
    (instance / "demo-c.toml").write_text(toml(definition))
    registry = load_directory(shipped, instance)
    assert registry.latest("demo-c").is_showable


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match=r"nowhere: not a directory"):
        load_directory(tmp_path / "nowhere")


def test_a_bad_file_in_a_directory_names_that_file(
    definition: Definition, write: Write
) -> None:
    definition["scoring"] = "total"
    path = write(definition, "demo-c.toml")
    with pytest.raises(InstrumentError, match=rf"^{re.escape(str(path))}: 'scoring'"):
        load_directory(path.parent)
