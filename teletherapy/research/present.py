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
        "mark ruptures (a drop of at least 1 SD).",
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


def headline(s: Mapping[str, Any]) -> str:
    """The answer in one sentence: which way, how far, how sure."""
    diff = s.get("mean_difference")
    if diff is None:
        return "No difference can be given for these data."
    low, high = ((s.get("paired_t") or {}).get("mean_difference_ci95")) or (None, None)
    size = f"{abs(diff):.2f} points on average"
    if diff > 0:
        text = f"Clients rated the alliance higher than therapists, by {size}."
    elif diff < 0:
        text = f"Therapists rated the alliance higher than clients, by {size}."
    else:
        text = "Clients and therapists rated the alliance the same on average."
    if low is None or high is None:
        return text + " There are too few pairs for a confidence interval."
    if low > 0 or high < 0:
        return text + " The 95% confidence interval does not include zero."
    return (
        text + " The 95% confidence interval includes zero: the direction is uncertain."
    )


def helpers() -> dict[str, Any]:
    return {
        "num": num,
        "ci": ci,
        "pval": pval,
        "reason": reason,
        "headline": headline,
        "PLOTS": PLOTS,
        "MODALITY_LABELS": MODALITY_LABELS,
    }
