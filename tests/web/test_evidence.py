"""A finding's evidence as the run page reads it (web/assessment/evidence.py): every key the validators
write has a name in both languages, and values are formatted by their key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_file import read_snapshot
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack, pack_for
from carbonmeter.rules.messages import catalogue
from carbonmeter.web.assessment.evidence import HIDDEN, Entry, Part, Reader

ROOT = Path(__file__).parents[2]


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


@pytest.mark.parametrize("snapshot", ["examples/demo-cement-plant.json", "tests/data/mini.json"])
def test_every_evidence_key_has_a_name(snapshot: str) -> None:
    snap = read_snapshot(ROOT / snapshot)
    pack = load_pack(pack_for(snap.organization.industry))
    doc = to_document(assess(snap, pack, date(2026, 12, 7)))
    keys = {k for f in doc["findings"] for k in _keys(f["evidence"])}
    named = set(catalogue()["labels"]["evidence"])
    assert keys - HIDDEN <= named, keys - HIDDEN - named
    assert all(set(entry) == {"zh", "en"} for entry in catalogue()["labels"]["evidence"].values())


def _links(kind: str, ident: str) -> str | None:
    return f"/{kind}/{ident}/" if ident != "GONE" else None


def test_values_are_formatted_by_their_key() -> None:
    reader = Reader("zh", _links, load_pack())
    with translation.override("zh-hans"):
        entries = reader.entries(
            {
                "rate": 0.5,
                "emissions_t": 118600.0,
                "horizon_days": 30,
                "traceable": False,
                "tag": "provisional",
                "row": "measurement.organized",
                "purpose": "weighing_dynamic",
                "portable_instruments": ["BX-01", "GONE"],
                "missing": ["serial_no", "location"],
                "usable": [],
                "note": "pack author's note",
                "failure": None,
            }
        )
    shown = {e.key: [p.text for p in e.parts] for e in entries}
    assert "note" not in shown
    assert shown["rate"] == ["50%"] and shown["emissions_t"] == ["118,600 tCO₂"]
    assert shown["horizon_days"] == ["30 天"] and shown["traceable"] == ["否"]
    assert shown["tag"] == ["暂定值"] and shown["row"] == ["实测法·有组织"]
    assert shown["purpose"][0] != "weighing_dynamic"
    assert shown["missing"] == ["出厂编号", "安装使用地点"] and shown["usable"] == ["无"]
    assert shown["failure"] == ["—"]
    portable = next(e for e in entries if e.key == "portable_instruments")
    assert portable.parts == (Part("BX-01", "/instrument/BX-01/"), Part("GONE"))


def test_records_nest_and_lists_of_records_are_tables() -> None:
    with translation.override("en"):  # the page's language: terms come from Django's catalogue
        entries = Reader("en", _links).entries(
            {
                "record": {"instrument": "I1", "kind": "calibration", "date": "2025-03-01", "result": "pass"},
                "components": [{"type": "electricity_meter", "mpe_percent": 0.5}, {"type": "x_unknown"}],
            }
        )
    record, components = entries
    assert record.label == "passing record relied on"
    assert [(e.label, e.parts[0].text) for e in record.entries][1:] == [
        ("kind", "Calibration"),
        ("date", "2025-03-01"),
        ("result", "Pass"),
    ]
    assert record.entries[0].parts == (Part("I1", "/instrument/I1/"),)
    assert components.columns == ("type", "maximum permissible error")
    assert components.rows[0][1] == (Part("0.5%"),) and components.rows[1][1] == (Part("—"),)
    assert isinstance(components, Entry) and not components.parts


def test_period_and_method_evidence_reads_as_terms() -> None:
    """TRC-02 (untraceable periods, the required points it serves) and MTH-01 (stream kind, method)."""
    with translation.override("en"):
        entries = Reader("en", _links).entries(
            {
                "untraceable_periods": [{"from": "2025-11-20", "to": "2025-12-31"}],
                "required_points": ["P4"],
                "stream_kind": "purchased_electricity",
                "method": "measurement",
            }
        )
    periods, points, kind, method = entries
    assert periods.label == "untraceable periods" and periods.columns == ("from", "to")
    assert periods.rows == (((Part("2025-11-20"),), (Part("2025-12-31"),)),)
    assert points.parts == (Part("P4", "/point/P4/"),)
    assert (kind.label, kind.parts[0].text) == ("source stream kind", "Purchased electricity")
    assert (method.label, method.parts[0].text) == ("method", "Measurement method")
