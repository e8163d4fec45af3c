"""A small TOML writer for instrument definitions (tomllib only reads)."""

from __future__ import annotations

from collections.abc import Mapping

from ._model import Instrument, Item

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dump_instrument(instrument: Instrument) -> str:
    """Write an instrument as definition-format TOML that ``parse_instrument`` reads
    back to an equal Instrument. Per-item ``min``, ``max`` and ``anchors`` are
    written only where they differ from ``[scale]``; ``source`` is not written."""
    lines = [f"id = {quote(instrument.id)}", f"version = {quote(instrument.version)}"]
    lines += [
        f"title = {quote(instrument.title)}",
        f"perspective = {quote(instrument.perspective)}",
        f"kind = {quote(instrument.kind)}",
    ]
    if instrument.pair is not None:
        lines.append(f"pair = {quote(instrument.pair)}")
    lines += [
        f"licence = {quote(instrument.licence)}",
        f"validated = {_bool(instrument.validated)}",
        f"scoring = {quote(instrument.scoring)}",
    ]
    if instrument.notes:
        lines.append(f"notes = {quote(instrument.notes)}")
    scale = instrument.scale
    lines += ["", "[scale]", f"min = {scale.min}", f"max = {scale.max}"]
    if scale.anchors:
        lines.append(f"anchors = {_anchors(scale.anchors)}")
    rule = instrument.max_missing_per_subscale
    lines += ["", "[missing]", f"max_missing_per_subscale = {rule}"]
    for sub in instrument.subscales:
        lines += ["", "[[subscales]]", f"id = {quote(sub.id)}"]
        lines.append(f"label = {quote(sub.label)}")
        if not sub.in_total:
            lines.append("in_total = false")
    for item in instrument.items:
        lines += ["", "[[items]]", *_item_lines(item, instrument)]
    return "\n".join(lines) + "\n"


def quote(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out: list[str] = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _item_lines(item: Item, instrument: Instrument) -> list[str]:
    scale = instrument.scale
    lines = [f"id = {quote(item.id)}", f"subscale = {quote(item.subscale)}"]
    if item.text:
        lines.append(f"text = {quote(item.text)}")
    if item.reversed:
        lines.append("reversed = true")
    if item.optional:
        lines.append("optional = true")
    if item.min != scale.min:
        lines.append(f"min = {item.min}")
    if item.max != scale.max:
        lines.append(f"max = {item.max}")
    if dict(item.anchors) != dict(scale.anchors):
        lines.append(f"anchors = {_anchors(item.anchors)}")
    return lines


def _anchors(anchors: Mapping[int, str]) -> str:
    pairs = ", ".join(f"{quote(str(k))} = {quote(v)}" for k, v in anchors.items())
    return "{ " + pairs + " }" if pairs else "{}"


def _bool(value: bool) -> str:
    return "true" if value else "false"
