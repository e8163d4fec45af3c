"""The definitions shipped in config/instruments load, pair up and say what they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratings import (
    InstrumentError,
    Registry,
    dump_instrument,
    load_directory,
    load_instrument,
    parse_instrument,
    score,
)

DTA_ANCHORS = {
    1: "Not at all",
    2: "A little",
    3: "Somewhat",
    4: "Mostly",
    5: "Completely",
}
WAI_ANCHORS = {
    1: "Seldom",
    2: "Sometimes",
    3: "Fairly often",
    4: "Very often",
    5: "Always",
}
# Hatcher & Gillaspy 2006 key of the WAI-SR.
WAI_SR_KEY = {
    "task": ["q1", "q2", "q10", "q12"],
    "bond": ["q3", "q5", "q7", "q9"],
    "goal": ["q4", "q6", "q8", "q11"],
}


@pytest.fixture
def registry(shipped_dir: Path) -> Registry:
    return load_directory(shipped_dir)


def test_shipped_directory_holds_the_expected_forms(registry: Registry) -> None:
    found = {(i.id, i.version, i.kind, i.perspective) for i in registry}
    assert found == {
        ("dta-c", "1.0", "instrument", "client"),
        ("dta-t", "1.0", "instrument", "therapist"),
        ("dta-meta", "1.0", "meta_perception", "therapist"),
        ("phq9", "1.0", "outcome", "client"),
        ("gad7", "1.0", "outcome", "client"),
        ("wai-sr", "1.0", "template", "client"),
        ("wai-srt", "1.0", "template", "therapist"),
    }


@pytest.mark.parametrize(
    ("first", "second"), [("dta-c", "dta-t"), ("wai-sr", "wai-srt")]
)
def test_pairs_resolve_both_ways(registry: Registry, first: str, second: str) -> None:
    one, other = registry.latest(first), registry.latest(second)
    assert registry.pair_of(one) == other
    assert registry.pair_of(other) == one
    assert {one.perspective, other.perspective} == {"client", "therapist"}


def test_meta_set_points_at_the_client_form_and_mirrors_its_subscales(
    registry: Registry,
) -> None:
    meta = registry.latest("dta-meta")
    client = registry.pair_of(meta)
    assert client is not None and client.id == "dta-c"
    assert meta.subscales == client.subscales
    assert [item.subscale for item in meta.items] == [s.id for s in meta.subscales]
    assert dict(meta.scale.anchors) == DTA_ANCHORS
    assert meta.scoring == "mean"


def test_templates_are_never_showable(registry: Registry) -> None:
    showable = {i.id for i in registry if i.is_showable}
    assert showable == {"dta-c", "dta-t", "dta-meta", "phq9", "gad7"}
    for template in (registry.latest("wai-sr"), registry.latest("wai-srt")):
        assert not template.is_showable
        assert all(item.text == "" for item in template.items)
        assert "Society for Psychotherapy Research" in template.licence


@pytest.mark.parametrize("form_id", ["dta-c", "dta-t"])
def test_dta_forms_follow_the_brief(registry: Registry, form_id: str) -> None:
    form = registry.latest(form_id)
    assert [s.id for s in form.subscales] == ["goal", "task", "bond", "digital"]
    assert all(len(form.items_in(s.id)) == 3 for s in form.subscales)
    assert (form.scale.min, form.scale.max) == (1, 5)
    assert all(dict(item.anchors) == DTA_ANCHORS for item in form.items)
    reversed_items = [item for item in form.items if item.reversed]
    assert 1 <= len(reversed_items) <= 2
    assert {item.subscale for item in reversed_items} == {"digital"}
    assert form.scoring == "sum"
    assert form.max_missing_per_subscale == 1
    assert form.validated is False
    assert form.licence.startswith("Project-authored, CC BY 4.0; not validated")


def test_dta_client_and_therapist_forms_mirror_each_other(registry: Registry) -> None:
    client, therapist = registry.latest("dta-c"), registry.latest("dta-t")
    shape = [(i.id, i.subscale, i.reversed) for i in client.items]
    assert shape == [(i.id, i.subscale, i.reversed) for i in therapist.items]
    assert all(a.text != "" for a in client.items)
    assert [a.text for a in client.items] != [b.text for b in therapist.items]


@pytest.mark.parametrize("form_id", ["wai-sr", "wai-srt"])
def test_wai_templates_carry_the_published_structure(
    registry: Registry, form_id: str
) -> None:
    template = registry.latest(form_id)
    assert [item.id for item in template.items] == [f"q{n}" for n in range(1, 13)]
    for subscale, ids in WAI_SR_KEY.items():
        assert [item.id for item in template.items_in(subscale)] == ids
    assert dict(template.scale.anchors) == WAI_ANCHORS
    assert not any(item.reversed for item in template.items)
    assert template.scoring == "sum"
    assert template.validated is True


def test_wai_sr_scores_12_to_60(registry: Registry) -> None:
    # Hatcher & Gillaspy 2006: total 12-60, each subscale 4-20.
    template = registry.latest("wai-sr")
    low = score(template, {item.id: 1 for item in template.items})
    high = score(template, {item.id: 5 for item in template.items})
    assert (low.total, high.total) == (12.0, 60.0)
    assert set(low.subscales.values()) == {4.0}
    assert set(high.subscales.values()) == {20.0}


def test_dta_extremes_account_for_reversed_items(registry: Registry) -> None:
    form = registry.latest("dta-c")
    # All answers 5: digital = d1 5 + d2, d3 reversed to 1 = 7; the total leaves
    # the digital subscale out: goal + task + bond = 9 plain items x 5 = 45.
    all_fives = score(form, {item.id: 5 for item in form.items})
    assert all_fives.total == 45.0
    assert all_fives.subscales["digital"] == 7.0
    best = score(form, {item.id: 1 if item.reversed else 5 for item in form.items})
    assert (best.total, best.subscales["digital"]) == (45.0, 15.0)


@pytest.mark.parametrize("form_id", ["dta-c", "dta-t", "dta-meta"])
def test_dta_total_leaves_the_digital_subscale_out(
    registry: Registry, form_id: str
) -> None:
    form = registry.latest(form_id)
    assert [s.id for s in form.subscales if not s.in_total] == ["digital"]
    in_person = {i.id: 4 for i in form.items if i.subscale != "digital"}
    online = {**in_person, **{i.id: 2 for i in form.items_in("digital")}}
    # Same goal/task/bond answers give the same total with or without the medium.
    assert score(form, in_person).total == score(form, online).total
    assert score(form, in_person).subscales["digital"] is None


@pytest.mark.parametrize(
    "name",
    [
        "dta-client.toml",
        "dta-therapist.toml",
        "dta-meta.toml",
        "wai-sr-template.toml",
        "wai-srt-template.toml",
    ],
)
def test_shipped_file_survives_a_dump_and_reload(shipped_dir: Path, name: str) -> None:
    original = load_instrument(shipped_dir / name)
    assert parse_instrument(dump_instrument(original)) == original


def test_form_dict_has_the_contract_fields(registry: Registry) -> None:
    form = registry.latest("dta-c").form_dict()
    assert {"id", "version", "title", "items"} <= set(form)
    items = form["items"]
    assert isinstance(items, list)
    first = items[0]
    assert {"id", "text", "subscale", "min", "max", "anchors"} <= set(first)
    assert first["anchors"] == {str(k): v for k, v in DTA_ANCHORS.items()}


def test_fixture_bad_files_are_rejected(fixtures_dir: Path) -> None:
    with pytest.raises(InstrumentError, match=r"bad-syntax\.toml: not valid TOML"):
        load_instrument(fixtures_dir / "bad-syntax.toml")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(fixtures_dir / "bad-template-with-text.toml")
    assert str(caught.value).endswith(
        "bad-template-with-text.toml: item 'q2': "
        "a template must not contain item text (import it instead)"
    )


def test_meta_sets_are_looked_up_by_the_form_they_pair_with(
    registry: Registry,
) -> None:
    assert [(i.id, i.kind) for i in registry.meta_sets("dta-c")] == [
        ("dta-meta", "meta_perception")
    ]
    assert registry.meta_sets("dta-t") == []
    assert registry.meta_sets("no-such-form") == []
    # a copy: a caller's list never changes the registry's
    registry.meta_sets("dta-c").clear()
    assert len(registry.meta_sets("dta-c")) == 1
