"""complete_template with a fake licensed items file, its errors; dump_instrument."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from ratings import (
    Instrument,
    InstrumentError,
    complete_template,
    dump_instrument,
    load_directory,
    load_instrument,
    parse_instrument,
    read_items_file,
)

FAKE = {f"q{n}": f"Template item text {n}" for n in range(1, 13)}


@pytest.fixture
def template(shipped_dir: Path) -> Instrument:
    return load_instrument(shipped_dir / "wai-sr-template.toml")


def _csv(tmp_path: Path, rows: list[str], name: str = "items.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _fake_rows(skip: str = "", extra: str = "") -> list[str]:
    rows = ["id,text"] + [f"{k},{v}" for k, v in FAKE.items() if k != skip]
    return rows + ([extra] if extra else [])


@pytest.mark.parametrize("name", ["licensed-wai-sr.csv", "licensed-wai-sr.toml"])
def test_template_is_completed_from_a_licensed_file(
    template: Instrument, fixtures_dir: Path, name: str
) -> None:
    text = complete_template(template, fixtures_dir / name)
    completed = parse_instrument(text, "completed.toml")
    assert completed.kind == "instrument"
    assert completed.is_showable
    assert (completed.id, completed.version, completed.pair) == (
        "wai-sr",
        "1.0",
        "wai-srt",
    )
    assert {item.id: item.text for item in completed.items} == FAKE
    assert [i.subscale for i in completed.items] == [i.subscale for i in template.items]
    assert completed.scale == template.scale
    assert "licensed item text" in completed.notes
    assert template.notes in completed.notes


def test_completed_file_replaces_the_template_in_the_registry(
    template: Instrument, shipped_dir: Path, fixtures_dir: Path, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    text = complete_template(template, fixtures_dir / "licensed-wai-sr.csv")
    (instance / "wai-sr.toml").write_text(text, encoding="utf-8")
    registry = load_directory(shipped_dir, instance)
    client = registry.latest("wai-sr")
    assert client.is_showable
    therapist = registry.pair_of(client)
    assert therapist is not None and not therapist.is_showable


def test_completion_is_deterministic(template: Instrument, fixtures_dir: Path) -> None:
    csv_text = complete_template(template, fixtures_dir / "licensed-wai-sr.csv")
    toml_text = complete_template(template, fixtures_dir / "licensed-wai-sr.toml")
    assert csv_text == toml_text


def test_missing_and_unknown_ids_are_named(
    template: Instrument, tmp_path: Path
) -> None:
    path = _csv(tmp_path, _fake_rows(skip="q7", extra="q13,Template item text 13"))
    with pytest.raises(InstrumentError) as caught:
        complete_template(template, path)
    assert str(caught.value) == (
        f"{path}: item ids do not match template 'wai-sr' 1.0: "
        "missing ['q7'], unknown ['q13']"
    )


def test_only_a_template_can_be_completed(
    shipped_dir: Path, fixtures_dir: Path
) -> None:
    instrument = load_instrument(shipped_dir / "dta-client.toml")
    with pytest.raises(InstrumentError, match=r"'dta-c' 1\.0 is not a template"):
        complete_template(instrument, fixtures_dir / "licensed-wai-sr.csv")


@pytest.mark.parametrize(
    ("rows", "where", "problem"),
    [
        (
            _fake_rows(extra="q1,Template item text again"),
            "item 'q1'",
            "duplicate item id 'q1'",
        ),
        (
            _fake_rows(skip="q2", extra="q2,   "),
            "item 'q2'",
            "'text' must be non-empty text",
        ),
        (_fake_rows(extra=",Template item text x"), "row 14", "'id' must not be empty"),
        (_fake_rows(extra="q13,a,b"), "row 14", "expected 2 columns (id,text), got 3"),
        (
            ["item,wording", "q1,Template item text 1"],
            None,
            "the first row must be 'id,text' (got 'item')",
        ),
        ([], None, "the first row must be 'id,text' (got an empty file)"),
    ],
)
def test_bad_csv_items_file_is_rejected(
    template: Instrument,
    tmp_path: Path,
    rows: list[str],
    where: str | None,
    problem: str,
) -> None:
    path = _csv(tmp_path, rows)
    with pytest.raises(InstrumentError) as caught:
        complete_template(template, path)
    place = f"{where}: " if where else ""
    assert str(caught.value) == f"{path}: {place}{problem}"


def test_missing_header_does_not_echo_licensed_text(
    template: Instrument, tmp_path: Path
) -> None:
    path = _csv(tmp_path, ["q1,Template item text that is long and licensed"])
    with pytest.raises(InstrumentError) as caught:
        complete_template(template, path)
    assert "licensed" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('[[items]]\nid = "q1"\n', "expected keys ['id', 'text'] (got ['id'])"),
        ('[[items]]\nid = 1\ntext = "x"\n', "'id' must be a string (got int)"),
        ('title = "x"\n', "expected only [[items]] tables (got keys ['title'])"),
        ("[[items]\n", "not valid TOML"),
        (
            'items = ["Template item text 1"]\n',
            "expected keys ['id', 'text'] (got str)",
        ),
    ],
)
def test_bad_toml_items_file_is_rejected(
    template: Instrument, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "items.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        complete_template(template, path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_items_file_needs_a_known_suffix(
    template: Instrument, fixtures_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "items.txt"
    shutil.copy(fixtures_dir / "licensed-wai-sr.csv", path)
    with pytest.raises(
        InstrumentError, match=r"must end in \.csv or \.toml \(got '\.txt'\)"
    ):
        complete_template(template, path)


def test_unreadable_items_file_is_reported(
    template: Instrument, tmp_path: Path
) -> None:
    with pytest.raises(
        InstrumentError, match=r"absent\.csv: cannot read the items file"
    ):
        complete_template(template, tmp_path / "absent.csv")


def test_csv_with_bom_quotes_and_commas_is_read(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        '\ufeffid,text\nq1,"Template, item ""1"""\n\nq2, x \n', encoding="utf-8"
    )
    assert read_items_file(path) == {"q1": 'Template, item "1"', "q2": "x"}


def test_dump_escapes_awkward_text(shipped_dir: Path) -> None:
    form = load_instrument(shipped_dir / "dta-client.toml")
    awkward = 'Quote " backslash \\ tab \t newline \n bell \x07 del \x7f ünïcødé'
    first = replace(form.items[0], text=awkward)
    odd = replace(form, title='Title with "quotes"', items=(first, *form.items[1:]))
    again = parse_instrument(dump_instrument(odd))
    assert again == odd
    assert again.items[0].text == awkward


def test_dump_writes_item_overrides_only_where_they_differ(shipped_dir: Path) -> None:
    form = load_instrument(shipped_dir / "dta-client.toml")
    first = replace(form.items[0], min=0, max=10, anchors={0: "None", 10: "All"})
    changed = replace(form, items=(first, *form.items[1:]))
    text = dump_instrument(changed)
    assert text.count("min = ") == 2  # [scale] and the one item
    assert 'anchors = { "0" = "None", "10" = "All" }' in text
    assert parse_instrument(text) == changed
