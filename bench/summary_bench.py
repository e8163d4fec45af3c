"""summarize() over 100,000 synthetic pairs, timed against the plain library calls.

The baseline makes the same scipy / pingouin / statsmodels / pandas calls on the same arrays
(overall, per modality and per subscale) without our validation, null-with-reason handling and
JSON cleaning, so the ratio is the cost of the wrapping. The headline is timed on its own too:
at 100,000 pairs (200 therapists: the cluster-robust mean) against statsmodels' OLS with
cluster-robust errors, and on 15 dyads (the random-intercept model) against MixedLM called
directly. Imports and a warm-up run happen before timing; the two sides alternate and the best
run of each counts, since the machine may be shared. Prints a table and writes
bench/results/summary.json (with every run's time).

    python -m bench.summary_bench [--pairs 100000] [--repeats 5]
        [--multilevel-repeats 2] [--no-multilevel]
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bench._machine import describe, write_results
from ratings._stats_nested import headline
from ratings.analysis import prepare, summarize
from ratings.pairs_io import read_pairs_csv

SESSIONS = 10
STATS_PACKAGES = ("numpy", "pandas", "scipy", "pingouin", "statsmodels")
DYADS_PER_THERAPIST = 50
CONTRASTS = np.array(
    [[0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 1, -1, 0, 0, 0], [0, 0, 0, 1, -1, 1]],
    float,
)


def synthetic(n_pairs: int, seed: int = 0) -> pd.DataFrame:
    """Dyads of 10 sessions, 50 dyads per therapist, clients about .3 higher (ceiling at 7)."""
    rng = np.random.default_rng(seed)
    dyads = n_pairs // SESSIONS
    dyad = np.repeat(np.arange(dyads), SESSIONS)
    n = len(dyad)
    level = rng.normal(5.3, 0.6, dyads)[dyad]
    bias = rng.normal(0.3, 0.3, dyads)[dyad]
    client = np.clip(np.round(level + bias + rng.normal(0, 0.5, n), 1), 1, 7)
    therapist = np.clip(np.round(level + rng.normal(0, 0.5, n), 1), 1, 7)
    return pd.DataFrame(
        {
            "dyad_id": np.char.add("d", dyad.astype(str)),
            "session_number": np.tile(np.arange(1, SESSIONS + 1), dyads),
            "client_score": client,
            "therapist_score": therapist,
            "modality": np.array(["video", "audio", "chat"])[rng.integers(0, 3, dyads)][
                dyad
            ],
            "therapist_id": np.char.add("t", (dyad // DYADS_PER_THERAPIST).astype(str)),
            "outcome": 0.4 * client + 0.2 * therapist + rng.normal(0, 1, n),
            "predicted_client_score": np.clip(client + rng.normal(-0.2, 0.6, n), 1, 7),
            "rtt_ms": rng.gamma(2.0, 40.0, n),
            "client_bond": np.clip(client + rng.normal(0, 0.3, n), 1, 7),
            "therapist_bond": np.clip(therapist + rng.normal(0, 0.3, n), 1, 7),
        }
    )


def library_core(frame: pd.DataFrame) -> None:
    """The library calls behind one core block, on bare arrays."""
    import pingouin

    c = frame["client_score"].to_numpy(float)
    t = frame["therapist_score"].to_numpy(float)
    d = c - t
    stats.ttest_rel(c, t).confidence_interval(0.95)
    options = {"zero_method": "wilcox", "correction": True, "method": "asymptotic"}
    stats.wilcoxon(d, **options)
    stats.wilcoxon(d, alternative="greater", **options)
    stats.pearsonr(c, t).confidence_interval(0.95)
    stats.spearmanr(c, t)
    pingouin.compute_effsize(c, t, paired=True, eftype="cohen")
    pingouin.compute_effsize(c, t, paired=True, eftype="cohen_dz")
    wide = (
        pd.DataFrame({"client": c, "therapist": t}).rename_axis("_target").reset_index()
    )
    long = wide.melt(id_vars="_target", var_name="_rater", value_name="_rating")
    pingouin.intraclass_corr(
        long, targets="_target", raters="_rater", ratings="_rating"
    )
    stats.linregress((c + t) / 2, d)
    groups = frame.groupby("dyad_id", sort=False)
    xc = frame["client_score"] - groups["client_score"].transform("mean")
    yc = frame["therapist_score"] - groups["therapist_score"].transform("mean")
    stats.pearsonr(xc, yc)
    diff = pd.Series(d, index=frame.index).groupby(frame["dyad_id"], sort=False)
    diff.size(), diff.mean(), diff.transform("mean")


def library_extras(frame: pd.DataFrame, multilevel: bool) -> None:
    """The library calls behind the extra blocks."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = frame.assign(difference=frame["client_score"] - frame["therapist_score"])
    if multilevel:
        formula = "difference ~ session_number + C(modality)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm(formula, data, groups=data["dyad_id"]).fit(reml=True)
            smf.mixedlm(
                formula,
                data,
                groups=data["therapist_id"],
                re_formula="1",
                vc_formula={"dyad_id": "0 + C(dyad_id)"},
            ).fit(reml=True)
    centre = np.r_[data["client_score"], data["therapist_score"]].mean()
    cc, tc = data["client_score"] - centre, data["therapist_score"] - centre
    design = np.column_stack([np.ones(len(data)), cc, tc, cc**2, cc * tc, tc**2])
    codes = pd.factorize(data["dyad_id"])[0]
    fit = sm.OLS(data["outcome"].to_numpy(float), design).fit(
        cov_type="cluster", cov_kwds={"groups": codes}
    )
    fit.t_test(CONTRASTS)
    ordered = data.sort_values(["dyad_id", "session_number"])
    for column in ("client_score", "therapist_score"):
        g = ordered.groupby("dyad_id", sort=False)[column]
        g.shift(1), g.transform("std")
    stats.pearsonr(data["predicted_client_score"], data["client_score"])
    stats.ttest_1samp(
        data["predicted_client_score"] - data["client_score"], 0
    ).confidence_interval()
    stats.spearmanr(data["difference"].abs(), data["rtt_ms"])
    stats.spearmanr(data["difference"], data["rtt_ms"])


def library_headline(frame: pd.DataFrame) -> None:
    """The headline's library equivalent at many clusters: OLS on a constant, clustered."""
    import statsmodels.api as sm

    d = (frame["client_score"] - frame["therapist_score"]).to_numpy(float)
    level = "therapist_id" if frame["therapist_id"].nunique() >= 5 else "dyad_id"
    groups = pd.factorize(frame[level])[0]
    fit = sm.OLS(d, np.ones((len(d), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    fit.conf_int()


def library_model_headline(frame: pd.DataFrame) -> None:
    """The headline's library equivalent at few dyads: MixedLM with centred sessions."""
    import statsmodels.api as sm

    d = (frame["client_score"] - frame["therapist_score"]).to_numpy(float)
    s = frame["session_number"].to_numpy(float)
    exog = np.column_stack([np.ones(len(d)), s - s.mean()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm.MixedLM(d, exog, groups=pd.factorize(frame["dyad_id"])[0]).fit(reml=True)


def library_summary(frame: pd.DataFrame, multilevel: bool) -> None:
    library_core(frame)
    library_headline(frame)
    for _, group in frame.groupby("modality"):
        library_core(group)
    bond = frame.assign(
        client_score=frame["client_bond"], therapist_score=frame["therapist_bond"]
    )
    library_core(bond)
    library_extras(frame, multilevel)


def interleaved(
    repeats: int, ours: Callable[[], Any], library: Callable[[], Any]
) -> dict[str, Any]:
    """Alternate the two runs (the machine may be shared) and keep the best of each."""
    times: dict[str, list[float]] = {"ours": [], "library": []}
    for _ in range(repeats):
        for name, run in (("ours", ours), ("library", library)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    best_ours, best_library = min(times["ours"]), min(times["library"])
    return {
        "ours_s": best_ours,
        "library_s": best_library,
        "ratio": best_ours / best_library,
        "all_s": times,
    }


def measure(frame: pd.DataFrame, repeats: int, multilevel: bool) -> dict[str, Any]:
    return interleaved(
        repeats,
        lambda: summarize(frame, include_multilevel=multilevel),
        lambda: library_summary(frame, multilevel),
    )


def measure_headline(frame: pd.DataFrame, repeats: int) -> dict[str, Any]:
    prepared, _ = prepare(frame)
    return interleaved(
        repeats, lambda: headline(prepared, {}), lambda: library_headline(frame)
    )


def measure_model_headline(frame: pd.DataFrame, repeats: int) -> dict[str, Any]:
    small = frame[frame["dyad_id"].isin([f"d{i}" for i in range(15)])]
    small = small.drop(columns="therapist_id").reset_index(drop=True)
    prepared, _ = prepare(small)
    return interleaved(
        repeats, lambda: headline(prepared, {}), lambda: library_model_headline(small)
    )


def measure_csv(frame: pd.DataFrame, repeats: int) -> dict[str, Any]:
    text = frame.to_csv(index=False)
    return interleaved(
        repeats,
        lambda: read_pairs_csv(io.StringIO(text)),
        lambda: pd.read_csv(io.StringIO(text)),
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--multilevel-repeats", type=int, default=2)
    parser.add_argument("--no-multilevel", action="store_true")
    args = parser.parse_args(argv)
    frame = synthetic(args.pairs)
    summarize(frame.iloc[:500])  # warm-up: imports and first-call caches, untimed
    library_summary(frame.iloc[:500], multilevel=True)
    rows = {
        "headline (cluster-robust)": measure_headline(frame, args.repeats),
        "headline, 15 dyads (MixedLM)": measure_model_headline(frame, args.repeats),
        "read_pairs_csv vs pandas.read_csv": measure_csv(frame, args.repeats),
        "summary without multilevel": measure(frame, args.repeats, multilevel=False),
    }
    if not args.no_multilevel:  # MixedLM dominates (tens of seconds): fewer rounds
        rows["full summary (with MixedLM)"] = measure(
            frame, args.multilevel_repeats, multilevel=True
        )
    report = {
        "n_pairs": len(frame),
        "n_dyads": int(frame["dyad_id"].nunique()),
        "rows": rows,
    }
    report["machine"] = describe(STATS_PACKAGES)
    _print(report)
    print(f"written: {write_results('summary', report)}")
    return report


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['n_pairs']} pairs, {report['n_dyads']} dyads (best of interleaved runs)"
    )
    print(f"{'case':<36}{'ours (s)':>10}{'library (s)':>13}{'ratio':>8}")
    for name, row in report["rows"].items():
        print(
            f"{name:<36}{row['ours_s']:>10.4f}{row['library_s']:>13.4f}{row['ratio']:>8.2f}"
        )


if __name__ == "__main__":
    main()
