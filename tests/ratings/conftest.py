"""Shared helpers for the ratings tests: no app, no Flask, only the pure library."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ratings import Instrument, parse_instrument

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "instruments"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

Definition = dict[str, Any]


def base_definition() -> Definition:
    """A small valid client instrument; tests copy and break it."""
    return {
        "id": "demo-c",
        "version": "1.0",
        "title": "Demo client form",
        "perspective": "client",
        "kind": "instrument",
        "pair": "demo-t",
        "licence": "test fixture",
        "validated": False,
        "scoring": "sum",
        "scale": {"min": 1, "max": 5, "anchors": {"1": "Never", "5": "Always"}},
        "missing": {"max_missing_per_subscale": 1},
        "subscales": [
            {"id": "goal", "label": "Goal"},
            {"id": "task", "label": "Task"},
        ],
        "items": [
            {"id": "q1", "subscale": "goal", "text": "Fixture item one"},
            {"id": "q2", "subscale": "goal", "text": "Fixture item two"},
            {"id": "q3", "subscale": "task", "text": "Fixture item three"},
            {"id": "q4", "subscale": "task", "text": "Fixture item four"},
        ],
    }


def partner_of(definition: Definition) -> Definition:
    """The therapist partner of ``definition`` (same structure)."""
    partner = copy.deepcopy(definition)
    partner.update(id="demo-t", perspective="therapist", pair="demo-c")
    return partner


def to_toml(data: Definition) -> str:
    """A generic TOML writer for test data (independent of dump_instrument)."""
    lines: list[str] = []
    nested: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            nested += ["", f"[{key}]"] + [
                f"{k} = {_value(v)}" for k, v in value.items()
            ]
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, dict) for v in value)
        ):
            for entry in value:
                nested += ["", f"[[{key}]]"]
                nested += [f"{k} = {_value(v)}" for k, v in entry.items()]
        else:
            lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines + nested) + "\n"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items())
            + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value)


def build(definition: Definition, source: str = "<test>") -> Instrument:
    """Parse a definition dict through the real validator."""
    return parse_instrument(to_toml(definition), source)


@pytest.fixture
def definition() -> Definition:
    """A fresh copy of the base definition: a valid client instrument."""
    return base_definition()


@pytest.fixture
def partner() -> Callable[[Definition], Definition]:
    return partner_of


@pytest.fixture
def toml() -> Callable[[Definition], str]:
    return to_toml


@pytest.fixture
def parse() -> Callable[..., Instrument]:
    return build


@pytest.fixture
def shipped_dir() -> Path:
    return SHIPPED


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(data_or_text, name="bad.toml") -> path of the written file."""

    def _write(content: Definition | str | bytes, name: str = "bad.toml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            text = content if isinstance(content, str) else to_toml(content)
            path.write_text(text, encoding="utf-8")
        return path

    return _write
