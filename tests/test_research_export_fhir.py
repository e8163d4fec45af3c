"""FHIR: the research Bundle parses back with fhir.resources' R4B models, carries
LOINC codes for PHQ-9 and GAD-7 and the project's code system for the alliance."""

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from teletherapy.research.fhir import ALLIANCE_SYSTEM

from .research_export_helpers import dyads


@pytest.fixture
def bundle_text(app, client, make_user, token_for):  # type: ignore[no-untyped-def]
    dyads(app, make_user, 5, sessions=2)
    r = client.get(
        "/api/v1/research/fhir.json", headers=token_for(make_user("researcher"))
    )
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    return r.get_data(as_text=True)


def _resources(bundle: Bundle, kind: str) -> list:  # type: ignore[type-arg]
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


def test_fhir_bundle_round_trips_through_r4b(bundle_text):
    bundle = Bundle.model_validate_json(bundle_text)
    assert bundle.type == "collection"
    again = json.loads(bundle.model_dump_json(exclude_none=True))
    assert again == json.loads(bundle_text)


def test_fhir_bundle_holds_questionnaires_and_responses(bundle_text):
    bundle = Bundle.model_validate_json(bundle_text)
    questionnaires = _resources(bundle, "Questionnaire")
    responses = _resources(bundle, "QuestionnaireResponse")
    urls = {f"{q.url}|{q.version}" if q.version else q.url for q in questionnaires}
    assert all(r.questionnaire in urls for r in responses)
    alliance = [
        r
        for r in responses
        if "alliance" in r.questionnaire or "dta" in r.questionnaire
    ]
    assert len(alliance) == 20  # 10 sessions, client and therapist
    assert all(r.subject.identifier.value.startswith("D-") for r in responses)
    assert all(r.encounter.identifier.value.startswith("S-") for r in responses)
    assert all(r.authored is None for r in responses)  # dates by week only
    weeks = {
        e.valueString
        for r in responses
        for e in r.extension
        if e.url.endswith("iso-week")
    }
    assert weeks == {"2026-W10", "2026-W11"}


def test_fhir_outcomes_carry_loinc_codes(bundle_text):
    bundle = Bundle.model_validate_json(bundle_text)
    codes = {
        (c.system, c.code)
        for q in _resources(bundle, "Questionnaire")
        for c in q.code or []
    }
    assert ("http://loinc.org", "44249-1") in codes  # PHQ-9 panel
    assert ("http://loinc.org", "69737-5") in codes  # GAD-7 panel
    phq9 = [
        r
        for r in _resources(bundle, "QuestionnaireResponse")
        if r.questionnaire == "http://loinc.org/q/44249-1"
    ]
    assert len(phq9) == 10
    assert all(r.item[0].linkId == "44261-6" for r in phq9)  # PHQ-9 total score
    gad7 = [
        r
        for r in _resources(bundle, "QuestionnaireResponse")
        if r.questionnaire == "http://loinc.org/q/69737-5"
    ]
    assert len(gad7) == 5  # skipped at the second session: no response


def test_alliance_items_use_the_project_code_system_and_no_item_text(bundle_text):
    bundle = Bundle.model_validate_json(bundle_text)
    alliance = [q for q in _resources(bundle, "Questionnaire") if not q.code]
    assert {q.url for q in alliance} == {
        "urn:teletherapy:questionnaire:dta-c",
        "urn:teletherapy:questionnaire:dta-t",
    }
    for q in alliance:
        assert all(i.text is None for i in q.item)
        assert {c.system for i in q.item for c in i.code} == {ALLIANCE_SYSTEM}
        assert {i.linkId for i in q.item} == {"total", "goal", "bond"}
