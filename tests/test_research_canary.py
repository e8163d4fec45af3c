"""docs/security.md, row 3: researchers see pseudonyms only.

Seeds distinctive names, e-mail addresses and chat text, then fetches every research
page, plot, API answer and export (web, API and CLI) and greps all of it. The list of
routes comes from the URL map, so a new research route that is not fetched here fails.
A PNG hides its text in pixels, so for every plot the data behind it is grepped too:
the table and summary the figure is drawn from, and every text the figure holds.
"""

import hashlib
import hmac
import json
import uuid

import pytest
from matplotlib.text import Text

from ratings import plots
from teletherapy.extensions import db
from teletherapy.models import ChatMessage
from teletherapy.research import cli as research_cli
from teletherapy.services.pseudonyms import pseudonym

from .research_helpers import T0, consent, history

PEOPLE = {
    "therapist": ("Zebulon Canarywood", "zebulon.canarywood@canary-clinic.example"),
    "client": ("Philippa Quillfeather", "philippa.quillfeather@canary-mail.example"),
}
CHAT = "CANARY-CHAT: my sister Marguerite Oddfellow must never know"
PLOTS = ("scatter", "bland_altman", "trajectories", "modality")


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def seeded(app, make_user):  # type: ignore[no-untyped-def]
    therapist = make_user("therapist", *reversed(PEOPLE["therapist"]))
    patient = make_user("client", *reversed(PEOPLE["client"]))
    consent(app, therapist, patient)
    sessions = history(app, therapist, patient, 4, quality=[(80.0, 0.4)])
    with app.app_context():
        for n, sid in enumerate(sessions, start=1):
            db.session.add(
                ChatMessage(
                    session_id=sid,
                    sender_id=patient.id,
                    seq=1,
                    client_msg_id=str(uuid.uuid4()),
                    text=f"{CHAT} #{n}",
                    sent_at=T0,
                )
            )
        db.session.commit()
    return therapist, patient, sessions


@pytest.fixture
def plot_inputs(monkeypatch):  # type: ignore[no-untyped-def]
    """Everything each figure is built from and shows, as text, in drawing order."""
    seen: list[tuple[str, int, str]] = []
    build = plots.figure

    def spy(kind, df, summary=None):  # type: ignore[no-untyped-def]
        fig = build(kind, df, summary)
        texts = [t.get_text() for t in fig.findobj(Text)]
        dump = "\n".join([df.to_csv(), repr(summary), *texts])
        seen.append((kind, len(df), dump))
        return fig

    monkeypatch.setattr(plots, "figure", spy)
    return seen


def _canaries(therapist, patient, sessions) -> list[str]:  # type: ignore[no-untyped-def]
    words = ["CANARY-CHAT", "Marguerite", "Oddfellow", "canary-clinic", "canary-mail"]
    for name, email in PEOPLE.values():
        words += [*name.split(), email, email.split("@")[0]]
        words.append(hashlib.sha256(email.encode()).hexdigest()[:16])
    words += [therapist.id, patient.id, *sessions]  # internal ids link back to people
    words += [
        hashlib.sha256(u.id.encode()).hexdigest()[:16] for u in (therapist, patient)
    ]
    return words


def _research_urls(app, filters: str) -> dict[str, list[str]]:
    """Every research route (web and API) with the URLs that exercise it."""
    urls = {
        "research.index": ["/research/", f"/research/?{filters}"],
        "research.plot": [
            f"/research/plots/{k}.{f}?{filters}" for k in PLOTS for f in ("svg", "png")
        ],
        "research.export": [
            f"/research/export.csv?shape={s}" for s in ("wide", "long", "dyadic")
        ],
        "research.codebook": ["/research/codebook"],
        "api.research_pairs": [
            "/api/v1/research/pairs",
            f"/api/v1/research/pairs?{filters}",
        ],
        "api.research_summary": [
            "/api/v1/research/summary",
            f"/api/v1/research/summary?{filters}",
        ],
        "api.research_export_csv": [
            f"/api/v1/research/export.csv?shape={s}&{filters}"
            for s in ("wide", "long", "dyadic")
        ],
        "api.research_codebook": ["/api/v1/research/codebook"],
        "api.research_redcap_dictionary": [
            f"/api/v1/research/redcap/dictionary.csv?{filters}"
        ],
        "api.research_redcap_records": [
            f"/api/v1/research/redcap/records.csv?{filters}"
        ],
        "api.research_fhir": [f"/api/v1/research/fhir.json?{filters}"],
    }
    routes = {r.endpoint for r in app.url_map.iter_rules()}
    research = {e for e in routes if e.startswith(("research.", "api.research"))}
    assert research == set(urls), "a research route is not covered by this test"
    return urls


def test_no_name_email_chat_or_internal_id_reaches_a_researcher(
    app, client, auth, make_user, token_for, seeded, runner, tmp_path, plot_inputs
):
    therapist, patient, sessions = seeded
    researcher = make_user("researcher", "rey@example.org", "Rey Searcher")
    headers = token_for(researcher)
    auth.login(researcher)
    with app.app_context():
        pid = pseudonym("therapist", therapist.id, key=app.config["PSEUDONYM_KEY"])
        filters = f"therapist={pid}&modality=video"
    outputs: dict[str, bytes] = {}
    for _endpoint, urls in _research_urls(app, filters).items():
        for url in urls:
            r = client.get(url, headers=headers if url.startswith("/api/") else {})
            assert r.status_code == 200, (url, r.status_code)
            outputs[url] = r.data
    assert b"D-" in outputs["/api/v1/research/pairs"]  # the data really is there
    assert b"<svg" in outputs[f"/research/plots/trajectories.svg?{filters}"]
    assert sorted(k for k, _, _ in plot_inputs) == sorted(PLOTS * 2)  # svg and png
    assert all(n == 4 for _, n, _ in plot_inputs)  # every plot drew the four sessions
    for n, (kind, _, dump) in enumerate(plot_inputs):
        outputs[f"plot-data:{n}:{kind}"] = dump.encode()
    out = tmp_path / "export"
    formats = [
        a for f in ("long", "wide", "dyadic", "redcap", "fhir") for a in ("--format", f)
    ]
    assert (
        runner.invoke(research_cli.export, ["--out", str(out), *formats]).exit_code == 0
    )
    for path in out.iterdir():
        outputs[f"cli:{path.name}"] = path.read_bytes()
    analyzed = runner.invoke(research_cli.analyze, [str(out / "wide.csv"), "--json"])
    outputs["cli:analyze"] = analyzed.output.encode()
    assert json.loads(analyzed.stdout)["n_pairs"] == 4
    leaks = [
        (where, word)
        for where, body in outputs.items()
        for word in _canaries(therapist, patient, sessions)
        if word.lower().encode() in body.lower()
    ]
    assert leaks == []


def test_pseudonyms_are_keyed_hmacs_not_hashes(
    app, client, make_user, token_for, seeded
):
    therapist, patient, sessions = seeded
    headers = token_for(make_user("researcher"))
    rows = client.get("/api/v1/research/pairs", headers=headers).get_json()["items"]
    key = app.config["PSEUDONYM_KEY"].encode()

    def mac(message: str) -> str:
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:16]

    assert {r["dyad_pid"] for r in rows} == {
        f"D-{mac(f'dyad:{therapist.id}:{patient.id}')}"
    }
    assert {r["therapist_pid"] for r in rows} == {
        f"T-{mac(f'therapist:{therapist.id}')}"
    }
    assert sorted(r["session_pid"] for r in rows) == sorted(
        f"S-{mac(f'session:{s}')}" for s in sessions
    )
    plain = {
        hashlib.sha256(v.encode()).hexdigest()[:16]
        for v in (therapist.email, therapist.id, f"therapist:{therapist.id}")
    }
    assert rows[0]["therapist_pid"][2:] not in plain
    app.config["PSEUDONYM_KEY"] = "another deployment's key"
    moved = client.get("/api/v1/research/pairs", headers=headers).get_json()["items"]
    assert {r["therapist_pid"] for r in moved}.isdisjoint(
        {r["therapist_pid"] for r in rows}
    )
    assert {r["session_pid"] for r in moved}.isdisjoint(
        {r["session_pid"] for r in rows}
    )
    again = client.get("/api/v1/research/pairs", headers=headers).get_json()["items"]
    assert again == moved  # stable for one key
