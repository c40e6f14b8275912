"""The demo plant: generated, in sync in both forms, and every planted defect found where a verifier would."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from carbonmeter.core.assess import Assessment, assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import read_xlsx
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack

EXAMPLES = Path(__file__).parents[2] / "examples"
JSON = EXAMPLES / "demo-cement-plant.json"
XLSX = EXAMPLES / "demo-cement-plant.xlsx"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_plant", EXAMPLES / "make_demo_plant.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo() -> Assessment:
    return assess(parse_json(JSON.read_bytes(), str(JSON)), load_pack("cq-part2-cement"))


def test_committed_json_is_what_the_generator_makes() -> None:
    assert generator().build() == json.loads(JSON.read_text(encoding="utf-8"))


def test_workbook_and_json_are_the_same_plant_with_the_same_verdict() -> None:
    from_json = parse_json(JSON.read_bytes(), str(JSON))
    from_xlsx = read_xlsx(XLSX)
    assert from_xlsx == from_json
    pack = load_pack("cq-part2-cement")
    assert to_document(assess(from_xlsx, pack)) == to_document(assess(from_json, pack))


def test_size_and_variety() -> None:
    snap = parse_json(JSON.read_bytes(), str(JSON))
    assert len(snap.source_streams) >= 25 and len(snap.instruments) >= 150
    kinds = {s.kind for s in snap.source_streams}
    assert {"fuel_combustion", "process", "purchased_electricity", "purchased_heat"} <= kinds
    assert any(s.emission_mode == "unorganized" for s in snap.source_streams)
    years = {c.date.year for c in snap.calibrations}
    assert {2023, 2024, 2025} <= years


EXPECTED = {
    "WB-03": {"TRC-01-B"},
    "L2-04": {"TRC-01-C"},
    "KS-02": {"ACC-01"},
    "P11.1": {"EQP-01-A"},
    "P08.2": {"EQP-01-A"},
    "KS-06": {"MGT-03"},
    "GY-02": {"ACC-01"},
    "P09.4": {"EQP-02"},
    "P10.4": {"EQP-02"},
    "陈静": {"MGT-02-C"},
    "records_archive": {"MGT-01-B"},
}


def test_every_planted_defect_is_found(demo: Assessment) -> None:
    module = generator()
    planted = {d[0] for d in module.DEFECTS} | {d[0] for d in module.MANAGEMENT_DEFECTS}
    assert planted == set(EXPECTED)
    by_subject: dict[str, set[str]] = {}
    for f in demo.findings:
        by_subject.setdefault(f.subject, set()).add(f.code)
    for subject, codes in EXPECTED.items():
        assert codes <= by_subject.get(subject, set()), subject


def test_nothing_but_the_planted_defects_is_a_nonconformity(demo: Assessment) -> None:
    planted = set(EXPECTED)
    linked_points = {"P06.1", "P07.1"}  # unequipped because of L2-04 and WB-03
    subjects = {f.subject for f in demo.findings if f.severity == "nonconformity"}
    assert subjects <= planted | linked_points
    assert not demo.conforms


def test_standby_meter_is_named_in_the_evidence(demo: Assessment) -> None:
    (f,) = [f for f in demo.findings if f.subject == "P11.1"]
    (linked,) = f.evidence["linked_instruments"]
    assert linked["status"] == "standby"
