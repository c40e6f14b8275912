"""Golden files: the text summary and the JSON document of a known plant, byte for byte.

A deliberate change to wording or layout is accepted by regenerating them:
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_golden.py`` — and the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.reports.document import to_document
from carbonmeter.reports.text import render_text
from carbonmeter.rules.loader import load_pack

DATA = Path(__file__).parents[1] / "data"
GOLDEN = Path(__file__).parent / "golden"


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("profile", ["cq-part1", "jjf2309-2025"])
def test_mini_plant_reports(profile: str) -> None:
    snap = parse_json((DATA / "mini.json").read_bytes(), "mini.json")
    a = assess(snap, load_pack(profile))
    check(f"mini.{profile}.txt", render_text(a, snap))
    doc = to_document(a)
    doc["profile"]["sha256"] = "<pinned by tests/rules>"
    check(f"mini.{profile}.json", json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
