"""Identifiers with a trailing space or full-width characters are the ids people meant, in every reader.

``'P08.2 '``, ``Ｐ08.2`` and ``'赵敏 '`` from LibreOffice, WPS or a Chinese input method imported as new rows
beside the existing ones and changed the verdict.  Readers normalise ids (carbonmeter.io.ids).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from carbonmeter.io.problems import SnapshotError
from carbonmeter.io.snapshot_file import read_snapshot
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import write_xlsx

MINI = Path(__file__).parent.parent / "data" / "mini.json"


def mini() -> Any:
    return parse_json(MINI.read_bytes(), str(MINI))


def messy_doc() -> dict[str, Any]:
    """The mini plant as typed by someone else's program: blanks around ids, full-width letters and digits."""
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["organization"]["credit_code"] = " ９１５００００００００００００００Ｘ "
    doc["source_streams"][0]["id"] = "S1 "
    doc["measuring_points"][0]["id"] = "Ｐ１"
    doc["measuring_points"][1]["stream"] = "\u3000S1"
    doc["instruments"][0]["id"] = "I1 "
    doc["instruments"][2]["points"] = ["Ｐ3 "]
    doc["calibrations"][0]["instrument"] = "Ｉ1"
    doc["calibrations"][0]["certificate_no"] = "JD2025-001 "
    doc["personnel"][0]["name"] = "张伟 "
    return doc


def test_json_reader_normalises_ids_and_references(tmp_path: Path) -> None:
    path = tmp_path / "messy.json"
    path.write_text(json.dumps(messy_doc(), ensure_ascii=False), encoding="utf-8")
    assert read_snapshot(path) == mini()


def test_xlsx_reader_normalises_ids_and_references(tmp_path: Path) -> None:
    clean = tmp_path / "clean.xlsx"
    write_xlsx(mini(), clean)
    book = load_workbook(clean)
    book["碳源流"]["A2"] = "S1 "
    book["计量点"]["A2"] = "Ｐ１"
    book["计量点"]["C3"] = "\u3000S1"
    book["碳计量器具"]["B2"] = "I1 "
    book["碳计量器具"]["O4"] = "Ｐ3 、"
    book["检定校准记录"]["A2"] = "Ｉ1"
    book["检定校准记录"]["F2"] = "JD2025-001 "
    book["人员"]["A2"] = "张伟 "
    book["单位信息"]["B3"] = " ９１５００００００００００００００Ｘ "
    headers = {ws.title: [c.value for c in ws[1]] for ws in book.worksheets}
    assert headers["计量点"][2] == "碳源流" and headers["碳计量器具"][14] == "计量点"
    assert headers["检定校准记录"][5] == "证书编号" and book["单位信息"]["A3"].value == "统一社会信用代码"
    messy = tmp_path / "messy.xlsx"
    book.save(messy)
    assert read_snapshot(messy) == mini()


def test_ids_that_normalise_to_one_are_a_duplicate_at_their_place(tmp_path: Path) -> None:
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["instruments"][1]["id"] = "Ｉ1"
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(path)
    assert f"{path}: /instruments/0/id: duplicate id 'I1'" in caught.value.problems[0]
    assert f"{path}: /instruments/1/id: duplicate id 'I1'" in caught.value.problems[1]


def test_an_id_of_only_blanks_is_refused(tmp_path: Path) -> None:
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["source_streams"][3]["id"] = "\u3000 "
    doc["measuring_points"][4]["stream"] = "\u3000 "
    path = tmp_path / "blank.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(path)
    assert (
        f"{path}: /source_streams/3/id: the id is blank (only spaces) / 编号为空（只有空格）"
        in caught.value.problems
    )
