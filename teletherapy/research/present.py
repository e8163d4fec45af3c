"""How the research pages word and format numbers (used through a context processor)."""

from collections.abc import Mapping
from typing import Any

PLOTS = (
    (
        "scatter",
        "Client against therapist ratings",
        "One dot per session; the dashed line marks identical ratings. Dots below it: "
        "the client rated higher.",
    ),
    (
        "bland_altman",
        "Bland–Altman: how far apart, at each level",
        "The solid line is the average gap (client − therapist), the dashed lines the "
        "range holding 95% of single-session gaps; a tilt means the gap depends on the level.",
    ),
    (
        "modality",
        "Discrepancy by modality",
        "Boxes show the client − therapist gaps in each modality; the dotted line is no "
        "gap, n per modality under each box.",
    ),
    (
        "trajectories",
        "Ratings over sessions, per dyad",
        "Each panel is one dyad (pseudonym): client solid, therapist dashed; triangles "
        "mark ruptures by the rule stated under Ruptures and repairs.",
    ),
)
MODALITY_LABELS = {
    "video": "Video",
    "audio": "Audio only",
    "chat": "Text chat",
    "in_person": "In person",
}


def num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}".replace("-", "−")


def ci(pair: Any, digits: int = 2) -> str:
    if not pair or None in pair:
        return "—"
    return f"[{num(pair[0], digits)}, {num(pair[1], digits)}]"


def pval(p: Any) -> str:
    if p is None:
        return "—"
    return "< .001" if p < 0.001 else f"{p:.3f}".lstrip("0")


def reason(block: Mapping[str, Any], key: str) -> str | None:
    """Why a value is null: the entry for its dotted path or a parent path."""
    reasons = block.get("reasons") or {}
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        found = reasons.get(".".join(parts[:n]))
        if found:
            return str(found)
    return None


def _direction(diff: float, size: str) -> str:
    if diff > 0:
        return f"clients rated the alliance higher than therapists, by {size}"
    if diff < 0:
        return f"therapists rated the alliance higher than clients, by {size}"
    return "clients and therapists rated the alliance the same on average"


def headline(block: Mapping[str, Any]) -> str:
    """The nested estimate in one or two plain sentences (never a pooled test's claim).

    ``block`` is a summary (or one instrument's block of it); its ``headline`` holds
    the estimate that respects sessions nested in dyads, else its reason says why
    there is none."""
    h = block.get("headline")
    if not h or h.get("estimate") is None:
        why = reason(block, "headline") or "no estimate for these data"
        if why == MIXED:
            return (
                "These data mix instruments, and totals of different instruments are "
                "never pooled: each instrument has its own answer below."
            )
        return (
            f"No estimate that respects the nesting of sessions in dyads: {why}. "
            "The numbers below describe these sessions only and support no claim "
            "beyond them."
        )
    estimate = float(h["estimate"])
    size = f"{num(abs(estimate))} points"
    text = _direction(estimate, size)
    text = text[0].upper() + text[1:]
    low, high = h.get("ci95") or (None, None)
    if low is not None and high is not None:
        text += f" (95% CI {num(low)} to {num(high)}; p {pval(h.get('p'))})."
        if low <= 0 <= high:
            text += (
                " The interval includes zero: these data cannot tell which side "
                "rates the alliance higher."
            )
    else:
        text += "."
    return text


def headline_basis(h: Mapping[str, Any] | None) -> str:
    """From how much data the headline comes (the method is shown beside it)."""
    if not h:
        return ""
    therapists = h.get("n_therapists")
    who = f", {therapists} therapists" if therapists else ""
    return (
        f"From {h.get('n_dyads')} dyads ({h.get('n_pairs')} sessions{who}). Sessions "
        "of the same dyad are treated as related, not as independent observations, so "
        "this average can differ from the plain session average below."
    )


def descriptive(s: Mapping[str, Any]) -> str:
    """What these sessions show, said as a description (no inference)."""
    diff = s.get("mean_difference")
    if diff is None:
        return "No difference can be given for these sessions."
    size = f"{num(abs(float(diff)))} points"
    return f"Across these sessions, {_direction(float(diff), size + ' on average')}."


def per_side(value: Any, digits: int = 2) -> str:
    """A number, or a {"client", "therapist"} map of numbers, in words."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {num(v, digits)}" for k, v in value.items())
    return num(value, digits)


def share(value: Any) -> str:
    """0.4667 -> '47%'."""
    return "—" if value is None else f"{round(float(value) * 100):d}%"


def ba_method(s: Mapping[str, Any]) -> str | None:
    """The named method of the Bland–Altman confidence intervals, where given."""
    block = s.get("bland_altman") or {}
    for key in ("limits_ci_method", "ci_method", "method"):
        if block.get(key):
            return str(block[key])
    conventions = s.get("conventions") or {}
    found = conventions.get("limits_of_agreement")
    return str(found) if found else None


MIXED = "mixed_instruments"


def helpers() -> dict[str, Any]:
    return {
        "num": num,
        "ci": ci,
        "pval": pval,
        "reason": reason,
        "headline": headline,
        "headline_basis": headline_basis,
        "descriptive": descriptive,
        "share": share,
        "per_side": per_side,
        "ba_method": ba_method,
        "MIXED": MIXED,
        "PLOTS": PLOTS,
        "MODALITY_LABELS": MODALITY_LABELS,
    }
