from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from carbonmeter.io.problems import SnapshotError
from carbonmeter.io.snapshot_json import parse_json, to_jsonable

MINI = Path(__file__).parents[1] / "data" / "mini.json"


def doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINI.read_text(encoding="utf-8"))
    return data


def problems(d: dict[str, Any]) -> list[str]:
    with pytest.raises(SnapshotError) as err:
        parse_json(json.dumps(d, ensure_ascii=False).encode(), "plant.json")
    return err.value.problems


def test_mini_reads_and_writes_back_unchanged() -> None:
    snap = parse_json(MINI.read_bytes(), "mini.json")
    assert parse_json(json.dumps(to_jsonable(snap)).encode(), "again") == snap
    assert len(snap.instruments) == 6


def test_unknown_key_is_located_by_json_pointer() -> None:
    d = doc()
    d["instruments"][2]["acuracy_class"] = "0.5"
    (line,) = problems(d)
    assert line.startswith("plant.json: /instruments/2/acuracy_class: unknown key")


def test_extra_holds_anything() -> None:
    d = doc()
    d["instruments"][0]["extra"] = {"采购日期": "2019-05-01", "资产原值": 180000}
    snap = parse_json(json.dumps(d).encode(), "x")
    assert snap.instruments[0].extra["资产原值"] == 180000


def test_every_problem_is_reported_at_once() -> None:
    d = doc()
    d["source_streams"][1]["annual_emissions_t"] = -5
    d["calibrations"][0]["date"] = "2025-02-30"
    d["instruments"][0]["status"] = "broken"
    lines = problems(d)
    assert any("/source_streams/1/annual_emissions_t" in x and "-5" in x for x in lines)
    assert any("/calibrations/0/date" in x for x in lines)
    assert any("/instruments/0/status" in x and "broken" in x for x in lines)
    assert len(lines) == 3


def test_dangling_references_and_duplicates() -> None:
    d = doc()
    d["measuring_points"][0]["stream"] = "S99"
    d["instruments"][1]["points"] = ["P2", "P77"]
    d["calibrations"][0]["instrument"] = "I42"
    d["instruments"][2]["id"] = "I1"
    lines = problems(d)
    assert "plant.json: /measuring_points/0/stream: unknown source stream 'S99' (碳源流不存在)" in lines
    assert any(
        x.startswith("plant.json: /instruments/1/points/1: unknown measuring point 'P77'") for x in lines
    )
    assert any(
        x.startswith("plant.json: /calibrations/0/instrument: unknown instrument 'I42'") for x in lines
    )
    assert sum("duplicate id 'I1'" in x for x in lines) == 2


def test_impossible_date_order_and_pass_without_validity() -> None:
    d = doc()
    d["calibrations"][0]["valid_until"] = "2024-01-01"
    del d["calibrations"][1]["valid_until"]
    lines = problems(d)
    assert any("/calibrations/0/valid_until" in x and "before the date" in x for x in lines)
    assert any("/calibrations/1/valid_until" in x and "needs valid_until" in x for x in lines)


def test_cems_role_needs_a_measurement_stream() -> None:
    d = doc()
    d["measuring_points"][0]["role"] = "cems"
    (line,) = problems(d)
    assert "/measuring_points/0/role" in line


def test_not_json_at_all() -> None:
    with pytest.raises(SnapshotError, match=r"plant\.json: not valid JSON"):
        parse_json(b'{"schema": ', "plant.json")
