"""ratings.pairs: typed records give the same summary as the same data read from a CSV."""

import io
import json
import random

from ratings.analysis import summarize, summarize_records
from ratings.pairs import PairRecord, records_frame
from ratings.pairs_io import read_pairs_csv


def _records() -> list[PairRecord]:
    rng = random.Random(7)
    out = []
    for d in range(4):
        for n in range(1, 6):
            c = round(rng.uniform(3, 6), 2)
            out.append(
                PairRecord(
                    dyad_id=f"D-{d}",
                    session_number=n,
                    client_score=c,
                    therapist_score=round(c - rng.uniform(-0.5, 1), 2),
                    modality="video" if n % 2 else "audio",
                    therapist_id=f"T-{d // 2}",
                    rtt_ms=round(rng.uniform(40, 200), 1),
                    packet_loss_pct=0.5,
                    client_subscales={"bond": round(rng.uniform(3, 6), 2), "score": c},
                    therapist_subscales={
                        "bond": round(rng.uniform(3, 6), 2),
                        "score": None,
                    },
                )
            )
    return out


def _csv(records: list[PairRecord]) -> io.StringIO:
    return io.StringIO(records_frame(records).to_csv(index=False))


def test_records_and_their_csv_give_the_same_summary() -> None:
    records = _records()
    df, problems = read_pairs_csv(_csv(records))
    assert {p.message for p in problems} == {"blank; cell ignored"}  # the None cells
    from_csv = summarize(df, include_multilevel=False)
    typed = summarize_records(records, include_multilevel=False)
    assert json.dumps(typed, sort_keys=True) == json.dumps(from_csv, sort_keys=True)
    assert typed["per_subscale"].keys() == {"bond", "score_subscale"}


def test_a_caller_gives_its_own_reason_for_skipping_the_multilevel_models() -> None:
    summary = summarize_records(
        _records(), include_multilevel=False, multilevel_reason="too slow here"
    )
    assert summary["multilevel"] is None
    assert summary["reasons"]["multilevel"] == "too slow here"


def test_no_records_give_an_empty_summary_with_reasons() -> None:
    summary = summarize_records([], include_multilevel=False)
    assert summary["n_pairs"] == 0
    assert "mean_difference" in summary["reasons"]
