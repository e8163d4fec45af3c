"""A plain-text report of a summary: the answer first (how far apart, which way, how sure).

The answer is the headline (sessions nested in dyads respected); the session-level tests
follow in a section labelled descriptive. Several instruments give one report each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Summary = Mapping[str, Any]
RULE = "-" * 72


def format_report(summary: Summary, events: int = 20) -> str:
    """Readable text of summarize()'s result, leading with the headline: the gap with sessions
    nested in dyads respected. The session-level tests follow, labelled descriptive. At most
    ``events`` rupture events are listed (their count is always given)."""
    if summary.get("by_instrument") and summary.get("headline") is None:
        return _mixed(summary, events)
    return _single(summary, events, "Client vs therapist alliance ratings")


def _single(summary: Summary, events: int, title: str) -> str:
    parts = [
        _headline(summary, title),
        _descriptive(summary),
        _agreement(summary),
        _groups("By modality", summary.get("by_modality") or {}),
        _groups("Per subscale", summary.get("per_subscale") or {}),
        _ruptures(summary.get("ruptures"), events),
        _multilevel(summary.get("multilevel")),
        _surface(summary.get("response_surface")),
        _outcome(summary.get("outcome")),
        _not_computed(summary),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _mixed(summary: Summary, events: int) -> str:
    names = list(summary["by_instrument"])
    lines = [
        "Client vs therapist alliance ratings",
        RULE,
        f"n = {summary.get('n_pairs', 0)} session pairs from {summary.get('n_dyads', 0)}"
        f" dyads on {len(names)} instruments ({', '.join(names)}).",
        "Totals of different instruments are on different scales and are never pooled:"
        " one summary per instrument follows.",
    ]
    note = (summary.get("reasons") or {}).get("by_instrument")
    if note:
        lines.append(f"Note: {note}.")
    blocks = [
        _single(block, events, f"Instrument {name}")
        for name, block in summary["by_instrument"].items()
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(blocks)


def _headline(s: Summary, title: str) -> str:
    lines = [
        title,
        RULE,
        f"n = {s.get('n_pairs', 0)} session pairs from {s.get('n_dyads', 0)} dyads"
        f" (differences are client - therapist).",
    ]
    head = s.get("headline")
    if head is None or head.get("estimate") is None:
        lines.append(
            "No estimate respecting the nesting of sessions in dyads: "
            + _reason(s, "headline")
        )
        return "\n".join(lines)
    diff, ci = head["estimate"], head.get("ci95")
    lines.append(_direction(diff, ci) + f" by {abs(diff):.2f} points on average")
    lines.append(
        f"  (95% CI {_ci(ci)}, {_p(head.get('p'))}; {head.get('n_clusters')}"
        f" {head.get('cluster', 'dyad')}s, t({_f(head.get('df'), 0)}))."
    )
    lines.append(f"Method: {head.get('method')}.")
    note = (s.get("reasons") or {}).get("headline.method")
    if note:
        lines.append(f"Note: {note}.")
    return "\n".join(lines)


def _descriptive(s: Summary) -> str:
    lines = [
        "Session-level statistics (descriptive: treats sessions as independent)",
        RULE,
    ]
    diff = s.get("mean_difference")
    if diff is None:
        lines.append("No difference can be given: " + _reason(s, "mean_difference"))
        return "\n".join(lines)
    t = s.get("paired_t") or {}
    lines.append(
        f"Mean of the session differences {diff:.2f}"
        f" (95% CI {_ci(t.get('mean_difference_ci95'))};"
        f" d_av = {_f(s.get('cohens_d'))}, d_z = {_f(s.get('cohens_d_z'))})."
    )
    if t.get("t") is None:
        lines.append(f"  No paired test: {_reason(s, 'paired_t')}.")
    else:
        lines.append(
            f"  Paired t({_f(t.get('df'), 0)}) = {_f(t.get('t'))}, {_p(t.get('p'))};"
            f" Wilcoxon {_p((s.get('wilcoxon') or {}).get('p'))}: these count every"
            " session as an independent pair, so their p values are too small when dyads"
            " differ."
        )
    ba = s.get("bland_altman") or {}
    if ba.get("loa_lower") is not None:
        lines.append(
            f"In a single session, 95% of differences are expected between {ba['loa_lower']:.2f}"
            f" and {ba['loa_upper']:.2f} (Bland–Altman limits; CIs {_ci(ba['loa_lower_ci95'])}"
            f" and {_ci(ba['loa_upper_ci95'])})."
        )
    return "\n".join(lines)


def _direction(diff: float, ci: list[float | None] | None) -> str:
    if diff == 0:
        return "Clients and therapists rated the alliance the same"
    who = "Clients rated the alliance higher than therapists"
    if diff < 0:
        who = "Therapists rated the alliance higher than clients"
    low, high = ci if ci else (None, None)
    if low is not None and high is not None and low <= 0 <= high:
        who += " (but the 95% CI includes 0: no clear direction)"
    return who


def _agreement(s: Summary) -> str:
    icc = s.get("icc") or {}
    rm = s.get("rm_corr") or {}
    prop = (s.get("bland_altman") or {}).get("proportional_bias") or {}
    rmba = s.get("repeated_measures_bland_altman") or {}
    rows = [
        ("ICC(A,1) absolute agreement", _with_ci((icc.get("A1") or {}), "value")),
        ("ICC(C,1) consistency", _with_ci((icc.get("C1") or {}), "value")),
        ("Pearson r", f"{_f(s.get('pearson_r'))} [{_ci(s.get('pearson_ci95'))}]"),
        ("Spearman rho", f"{_f(s.get('spearman_rho'))}, {_p(s.get('spearman_p'))}"),
        (
            "Within-dyad r_rm",
            f"{_f(rm.get('r'))} [{_ci(rm.get('ci95'))}], df = {_f(rm.get('df'), 0)},"
            f" {_p(rm.get('p'))}",
        ),
        ("Proportional bias slope", f"{_f(prop.get('slope'))}, {_p(prop.get('p'))}"),
        (
            "Limits, sessions nested in dyads",
            f"{_f(rmba.get('loa_lower'))} to {_f(rmba.get('loa_upper'))}"
            f" (Bland & Altman 2007)",
        ),
    ]
    return "Agreement\n" + RULE + "\n" + "\n".join(f"{k:<34}{v}" for k, v in rows)


def _groups(title: str, groups: Mapping[str, Summary]) -> str:
    if not groups:
        return ""
    head = (
        f"{'':<14}{'pairs':>6}{'dyads':>6}  {'mean diff [95% CI]':<26}{'ICC(A,1)':>9}"
    )
    lines = [title, RULE, head]
    for name, block in groups.items():
        t = block.get("paired_t") or {}
        icc = (block.get("icc") or {}).get("A1") or {}
        ci = _ci(t.get("mean_difference_ci95"))
        lines.append(
            f"{name[:13]:<14}{block.get('n_pairs', 0):>6}{block.get('n_dyads', 0):>6}  "
            f"{_f(block.get('mean_difference')) + ' [' + ci + ']':<26}"
            f"{_f(icc.get('value')):>9}"
        )
    return "\n".join(lines)


def _ruptures(block: Summary | None, events: int) -> str:
    if not block:
        return ""
    lines = ["Ruptures", RULE, f"Rule: {block.get('definition', 'not named')}"]
    threshold = block.get("threshold") or {}
    numbers = [
        f"{k} {_value(v)}"
        for k, v in threshold.items()
        if v is not None and not isinstance(v, str)
    ]
    if numbers:
        lines.append("Threshold: " + "; ".join(numbers))
    share = block.get("share_of_dyads")
    by_side = block.get("share_of_dyads_by_perspective") or {}
    sides = ", ".join(f"{k} {_pct(v)}" for k, v in by_side.items())
    listed = block.get("events") or []
    lines.append(
        f"{block.get('n_events', len(listed))} events in {_pct(share)} of"
        f" {block.get('n_dyads_evaluated', 'n/a')} dyads evaluated"
        + (f" ({sides})" if sides else "")
        + f"; repaired: {block.get('n_repaired', 'n/a')}"
    )
    for event in listed[:events]:
        repaired = event.get("repaired_session")
        lines.append(
            f"  {event.get('dyad_id')} session {event.get('session_number')}"
            f" {event.get('perspective')}: drop {_f(event.get('drop'))},"
            f" {'repaired at session ' + str(repaired) if repaired else 'not repaired'}"
        )
    total = block.get("n_events", len(listed))
    if isinstance(total, int) and total > min(len(listed), events):
        lines.append(f"  ... {total - min(len(listed), events)} more not listed here")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _pct(share: Any) -> str:
    return "n/a" if share is None else f"{100 * share:.0f}%"


def _multilevel(block: Summary | None) -> str:
    if not block:
        return ""
    lines = [f"Multilevel model: {block['formula']} ({block['estimation']})", RULE]
    if block.get("session_centring"):
        lines.append(str(block["session_centring"]))
    for key in ("dyad_model", "therapist_model"):
        model = block.get(key)
        if not model:
            continue
        lines.append(
            f"{key}: {model['n_obs']} pairs in {model['n_groups']} {model['groups']}"
        )
        for name, fe in model["fixed_effects"].items():
            lines.append(
                f"  {name:<28}{_f(fe['coef']):>8} (SE {_f(fe['se'])}), {_p(fe['p'])}"
            )
        variances = ", ".join(
            f"{k} {_f(v, 3)}" for k, v in model["variance_components"].items()
        )
        lines.append(f"  variances: {variances}")
    return "\n".join(lines)


def _surface(block: Summary | None) -> str:
    if not block:
        return ""
    lines = [
        f"Response surface (centre {block['centre']:.2f}, {block['se_kind']})",
        RULE,
    ]
    for name, a in block["surface"].items():
        lines.append(
            f"  {name} {_f(a['estimate']):>8} (SE {_f(a['se'])}), {_p(a['p'])}"
        )
    return "\n".join(lines)


def _outcome(block: Summary | None) -> str:
    """The gap and each perspective against the next session's outcome (the
    ``outcome`` block), with intervals, never a verdict beyond them."""
    if not block:
        return ""
    lines = [
        "Alliance gap and the next session's outcome",
        RULE,
        f"{block.get('n_pairs')} lagged session pairs from {block.get('n_dyads')} dyads;"
        f" predictor {block.get('predictor')}; {block.get('method')}",
    ]
    rows = [("gap", block)] + [
        (f"{side} rating", parts or {})
        for side, parts in (block.get("by_perspective") or {}).items()
    ]
    for label, parts in rows:
        for level in ("within", "between"):
            effect = parts.get(level)
            if isinstance(effect, dict):
                lines.append(
                    f"  {label + ', ' + level + '-dyad':<30}"
                    f"{_f(effect.get('estimate')):>8} [{_ci(effect.get('ci95'))}],"
                    f" {_p(effect.get('p'))}"
                )
    truth_bias = block.get("truth_bias")
    if isinstance(truth_bias, dict):
        lines.append(f"Truth and bias ({truth_bias.get('method')}):")
        for name in ("directional_bias", "temporal_congruence", "between_congruence"):
            effect = truth_bias.get(name)
            if isinstance(effect, dict):
                lines.append(
                    f"  {name:<28}{_f(effect.get('estimate')):>8}"
                    f" [{_ci(effect.get('ci95'))}], {_p(effect.get('p'))}"
                )
    lines.append(
        "An interval that includes zero is not evidence of no relation: it says the data"
        " cannot tell."
    )
    return "\n".join(lines)


def _not_computed(s: Summary) -> str:
    reasons = sorted(set(_all_reasons(s, "")))
    if not reasons:
        return ""
    return (
        "Not computed / notes\n"
        + RULE
        + "\n"
        + "\n".join(f"- {p}: {r}" for p, r in reasons)
    )


def _all_reasons(block: Summary, prefix: str) -> Iterator[tuple[str, str]]:
    for path, reason in (block.get("reasons") or {}).items():
        yield prefix + path, reason
    for key, value in block.items():
        for child_key, child in _blocks(key, value):
            yield from _all_reasons(child, f"{prefix}{child_key}.")


def _blocks(key: str, value: Any) -> Iterator[tuple[str, Summary]]:
    if isinstance(value, Mapping) and key != "reasons":
        if "reasons" in value:
            yield key, value
        else:
            for sub, child in value.items():
                yield from _blocks(f"{key}.{sub}", child)


def _reason(s: Summary, key: str) -> str:
    return str((s.get("reasons") or {}).get(key, "not available"))


def _with_ci(stat: Summary, key: str) -> str:
    return f"{_f(stat.get(key))} [{_ci(stat.get('ci95'))}]"


def _f(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ci(ci: Any) -> str:
    if not ci or None in ci:
        return "n/a"
    return f"{ci[0]:.2f} to {ci[1]:.2f}"


def _p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)
