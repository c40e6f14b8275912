"""The text report's v1.1 sections on the demo plant: rates per facility, emissions with U95, the budget of
the largest stream and the advisor, each carrying the engine's numbers."""

from __future__ import annotations

from pathlib import Path

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.reports.text import render_text
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import format_number

DEMO = Path(__file__).parents[2] / "examples" / "demo-cement-plant.json"


def test_demo_text_report_v11_sections() -> None:
    snap = parse_json(DEMO.read_bytes(), DEMO.name)
    a = assess(snap, load_pack("cq-part2-cement"))
    text = render_text(a, snap)
    lines = text.splitlines()
    acc = a.accounting
    assert acc is not None and acc.total_u95_t is not None
    # Rates per facility: 2#熟料生产线's activity data, where the failed belt scale L2-04 leaves P06.1 bare.
    row = next(
        f.result
        for f in a.by_facility
        if f.facility == "F2" and f.result.row == "calculation.major.activity_data"
    )
    line = next(x for x in lines if x.startswith("2#熟料生产线") and "主要源流·活动数据" in x)
    assert f"{row.equipped}/{row.required}" in line and "不合格" in line and not row.passed
    # Emissions: every formula stream with its computed figure and U95, the total with its U95.
    s05 = acc.streams["S05"]
    assert s05.computed_t is not None and s05.u95_t is not None
    line = next(x for x in lines if x.startswith("S05") and "熟料煅烧" in x)
    assert format_number(round(s05.computed_t)) in line and format_number(round(s05.u95_t)) in line
    assert f"U95 = {format_number(round(acc.total_u95_t))} t" in text
    # The budget of the largest stream names its inputs, the advisor its ranked points.
    assert "最大碳源流 S05 的不确定度预算" in text
    assert all(b.point in text for b in s05.evaluation.budget)  # type: ignore[union-attr]
    advice = [x for x in lines if x.lstrip().startswith(("1. ", "2. ", "3. "))]
    assert [x.split("（")[0].split(". ")[1] for x in advice[:3]] == [x.point for x in acc.advisor[:3]]
