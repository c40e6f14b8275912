"""JSON and XLSX are two forms of one snapshot: any plant gives the same assessment from either."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings

from carbonmeter.core.assess import assess
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.snapshot_json import parse_json, to_jsonable
from carbonmeter.io.snapshot_xlsx import read_xlsx, write_xlsx
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from tests.core.strategies import plants

PACK = load_pack("cq-part1")


@settings(max_examples=25, deadline=None)
@given(plants())
def test_json_and_xlsx_forms_give_identical_assessments(plant: Snapshot) -> None:
    from_json = parse_json(json.dumps(to_jsonable(plant), ensure_ascii=False).encode(), "plant.json")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plant.xlsx"
        write_xlsx(plant, path)
        from_xlsx = read_xlsx(path)
    assert from_json == from_xlsx == plant
    assert to_document(assess(from_json, PACK)) == to_document(assess(from_xlsx, PACK))
