"""One instrument per summary: totals of different instruments are never pooled."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from ratings.analysis import summarize, summarize_records
from ratings.pairs import PairRecord, records_frame
from ratings.pairs_io import read_pairs_csv


def one_instrument(name: str, scale: float, shift: float, seed: int) -> pd.DataFrame:
    """8 dyads x 5 sessions on a scale of ``scale`` points; dyad ids carry the instrument."""
    rng = np.random.default_rng(seed)
    dyad = np.repeat(np.arange(8), 5)
    therapist = scale * 0.7 + rng.normal(0, scale / 20, len(dyad))
    return pd.DataFrame(
        {
            "dyad_id": [f"{name}-{i}" for i in dyad],
            "session_number": np.tile(range(1, 6), 8),
            "client_score": therapist + shift + rng.normal(0, scale / 40, len(dyad)),
            "therapist_score": therapist,
            "modality": np.where(dyad % 2 == 0, "video", "chat"),
            "instrument": name,
        }
    )


def mixed() -> pd.DataFrame:
    # WAI-SR-like totals (12-60) with clients higher, SRS-like (0-40) with therapists higher
    return pd.concat(
        [one_instrument("wai-sr", 60, 3.0, 1), one_instrument("srs", 40, -1.0, 2)],
        ignore_index=True,
    )


def test_several_instruments_give_blocks_per_instrument_and_nothing_pooled() -> None:
    summary = summarize(mixed(), include_multilevel=False)
    assert summary["headline"] is None
    assert summary["reasons"]["headline"] == "mixed_instruments"
    assert set(summary["by_instrument"]) == {"srs", "wai-sr"}
    for key in ("mean_difference", "paired_t", "icc", "bland_altman", "ruptures"):
        assert summary[key] is None
        assert summary["reasons"][key] == "mixed_instruments"
    assert summary["by_modality"] == {} and summary["per_subscale"] == {}
    assert summary["reasons"]["by_modality"] == "mixed_instruments"
    assert summary["n_pairs"] == 80 and summary["n_dyads"] == 16
    json.dumps(summary, allow_nan=False)


def test_each_instrument_block_equals_the_summary_of_its_rows_alone() -> None:
    data = mixed()
    summary = summarize(data, include_multilevel=False)
    for name, block in summary["by_instrument"].items():
        alone = summarize(
            data[data["instrument"] == name].reset_index(drop=True),
            include_multilevel=False,
        )
        assert block["headline"] == alone["headline"]
        assert block["headline"]["n_pairs"] == 40
        for key in ("mean_difference", "paired_t", "icc", "by_modality"):
            assert block[key] == alone[key]
    wai, srs = summary["by_instrument"]["wai-sr"], summary["by_instrument"]["srs"]
    assert wai["headline"]["estimate"] == pytest.approx(3.0, abs=0.5)
    assert srs["headline"]["estimate"] == pytest.approx(-1.0, abs=0.5)


def test_the_same_instrument_everywhere_is_one_summary() -> None:
    data = one_instrument("wai-sr", 60, 3.0, 1)
    summary = summarize(data, include_multilevel=False)
    assert summary["by_instrument"] == {}
    assert summary["reasons"]["by_instrument"] == "one instrument (wai-sr)"
    assert summary["headline"]["estimate"] is not None
    plain = summarize(data.drop(columns="instrument"), include_multilevel=False)
    assert "no instrument column" in plain["reasons"]["by_instrument"]
    assert plain["headline"] == summary["headline"]


def test_rows_without_an_instrument_beside_named_ones_are_not_pooled() -> None:
    data = mixed()
    data.loc[data["dyad_id"].str.startswith("srs"), "instrument"] = None
    summary = summarize(data, include_multilevel=False)
    assert summary["reasons"]["headline"] == "mixed_instruments"
    assert set(summary["by_instrument"]) == {"wai-sr"}
    assert "40 pairs without an instrument" in summary["reasons"]["by_instrument"]


def test_records_and_csv_carry_the_instrument() -> None:
    records = [
        PairRecord(
            dyad_id=str(row.dyad_id),
            session_number=int(row.session_number),
            client_score=float(row.client_score),
            therapist_score=float(row.therapist_score),
            modality=str(row.modality),
            instrument=str(row.instrument),
        )
        for row in mixed().itertuples()
    ]
    frame = records_frame(records)
    assert "instrument" in frame and "predicted_client_score" not in frame
    typed = summarize_records(records, include_multilevel=False)
    assert typed["reasons"]["headline"] == "mixed_instruments"
    df, problems = read_pairs_csv(io.StringIO(frame.to_csv(index=False)))
    assert problems == []
    from_csv = summarize(df, include_multilevel=False)
    assert json.dumps(from_csv, sort_keys=True) == json.dumps(typed, sort_keys=True)
