"""The ICCs and Cohen's d computed in numpy agree with pingouin, the library they replace.

pingouin (0.7) stays a test dependency as the independent check; the summary path no longer
imports it (nor statsmodels, which it pulls in) when the multilevel models are off.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ratings._stats_agreement import ICC_FORMS, icc_pair, icc_table
from ratings._stats_paired import cohens_d_av, cohens_d_z

pingouin = pytest.importorskip("pingouin")

PUBLISHED = Path(__file__).parent / "fixtures" / "published"
REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-9


def pingouin_icc(values: np.ndarray) -> dict[str, dict[str, object]]:
    """pingouin.intraclass_corr of an n x k matrix, unrounded, keyed like icc_table."""
    from pingouin.config import _no_rounding

    long = (
        pd.DataFrame(values, columns=[f"rater{i}" for i in range(values.shape[1])])
        .rename_axis("target")
        .reset_index()
        .melt(id_vars="target", var_name="rater", value_name="rating")
    )
    with np.errstate(divide="ignore", invalid="ignore"), _no_rounding():
        table = pingouin.intraclass_corr(
            long, targets="target", raters="rater", ratings="rating"
        )
    return {
        ICC_FORMS[row.Type]: {
            "value": row.ICC,
            "ci95": list(row.CI95),
            "F": row.F,
            "df1": row.df1,
            "df2": row.df2,
            "p": row.pval,
        }
        for row in table.itertuples()
    }


def assert_same_table(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs)
    for form, expected in theirs.items():
        got = ours[form]
        assert (got["df1"], got["df2"]) == (expected["df1"], expected["df2"]), form
        for key in ("value", "F", "p"):
            assert got[key] == pytest.approx(expected[key], rel=TOLERANCE, abs=1e-12)
        assert got["ci95"] == pytest.approx(expected["ci95"], rel=TOLERANCE, abs=1e-12)


def random_ratings(seed: int) -> np.ndarray:
    """Targets that differ, raters with offsets and noise of varying size."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(3, 60)), int(rng.integers(2, 6))
    targets = rng.normal(0, rng.uniform(0, 3), (n, 1))
    raters = rng.normal(0, rng.uniform(0, 1), k)
    return targets + raters + rng.normal(0, 1, (n, k))


@pytest.mark.parametrize("seed", range(40))
def test_icc_table_equals_pingouin_on_random_data(seed: int) -> None:
    values = random_ratings(seed)
    ours = icc_table(pd.DataFrame(values))
    assert list(ours) == ["1", "A1", "C1", "1k", "Ak", "Ck"]
    assert_same_table(ours, pingouin_icc(values))


def test_icc_table_equals_pingouin_on_shrout_fleiss_table_2() -> None:
    wide = pd.read_csv(PUBLISHED / "shrout_fleiss_1979_table2.csv", comment="#")
    wide = wide.set_index("target")
    assert_same_table(icc_table(wide), pingouin_icc(wide.to_numpy(dtype=float)))


def test_two_rater_icc_equals_pingouin_on_rating_scale_data() -> None:
    # Scores on a 1-7 scale in steps of 0.1, as the summary sees them.
    rng = np.random.default_rng(7)
    level = rng.normal(5.3, 0.6, 500)
    client = np.clip(np.round(level + 0.3 + rng.normal(0, 0.5, 500), 1), 1, 7)
    therapist = np.clip(np.round(level + rng.normal(0, 0.5, 500), 1), 1, 7)
    ours = icc_pair(client, therapist, {})
    theirs = pingouin_icc(np.column_stack([client, therapist]))
    assert_same_table(ours, {form: theirs[form] for form in ("A1", "C1")})


def test_constant_offset_gives_the_same_nulls_as_pingouin() -> None:
    # MSE = 0: F and the CIs are not finite; both give None there and value/df/p as numbers.
    client = np.array([3.0, 4, 5, 6, 7])
    ours = icc_pair(client, client - 1, {})
    theirs = pingouin_icc(np.column_stack([client, client - 1]))
    for form in ("A1", "C1"):
        assert ours[form]["F"] is None and ours[form]["ci95"] == [None, None]
        assert not np.isfinite(theirs[form]["F"])
        assert not np.isfinite(theirs[form]["ci95"]).any()
        assert ours[form]["value"] == pytest.approx(
            theirs[form]["value"], rel=TOLERANCE
        )
        assert ours[form]["p"] == theirs[form]["p"]


@pytest.mark.parametrize("seed", range(10))
def test_cohens_d_equal_pingouin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 200))
    client = rng.normal(5, 1, n)
    therapist = client * rng.uniform(0, 1) + rng.normal(4.5, 1, n)
    d_av = pingouin.compute_effsize(client, therapist, paired=True, eftype="cohen")
    d_z = pingouin.compute_effsize(client, therapist, paired=True, eftype="cohen_dz")
    assert cohens_d_av(client, therapist) == pytest.approx(d_av, rel=TOLERANCE)
    assert cohens_d_z(client, therapist) == pytest.approx(d_z, rel=TOLERANCE)


def test_summary_without_models_imports_neither_pingouin_nor_statsmodels() -> None:
    # 30 dyads (>= 20 clusters): the headline takes the cluster-robust route, which needs no
    # statsmodels either. A fresh interpreter, since other tests import both.
    script = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        import pandas as pd
        from ratings.analysis import summarize

        rng = np.random.default_rng(0)
        dyads = np.repeat(np.arange(30), 6)
        level = rng.normal(5, 0.6, 30)[dyads]
        frame = pd.DataFrame({
            "dyad_id": [f"d{d}" for d in dyads],
            "session_number": np.tile(np.arange(1, 7), 30),
            "client_score": np.round(level + 0.3 + rng.normal(0, 0.5, len(dyads)), 1),
            "therapist_score": np.round(level + rng.normal(0, 0.5, len(dyads)), 1),
        })
        out = summarize(frame, include_multilevel=False)
        print(json.dumps({
            "loaded": [m for m in ("pingouin", "statsmodels") if m in sys.modules],
            "icc": out["icc"]["A1"]["value"],
            "d": out["cohens_d"],
        }))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["icc"] is not None and report["d"] is not None
