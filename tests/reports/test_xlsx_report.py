"""The assessment workbook: verdict sheets in front, the B.1 register with verdict columns, and the whole
file re-imports as the same snapshot (the product's own register round-trips unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import RESULT_SHEETS, VERDICT_COLUMNS, read_xlsx
from carbonmeter.reports.xlsx import write_assessment_xlsx
from carbonmeter.rules.loader import load_pack

MINI = Path(__file__).parents[1] / "data" / "mini.json"


def test_assessment_workbook(tmp_path: Path) -> None:
    snap = parse_json(MINI.read_bytes(), "mini.json")
    a = assess(snap, load_pack())
    out = tmp_path / "result.xlsx"
    write_assessment_xlsx(a, snap, out)

    assert read_xlsx(out) == snap

    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[: len(RESULT_SHEETS)] == list(RESULT_SHEETS)
    rates = list(wb["配备率"].iter_rows(min_row=2, values_only=True))
    titles = [a.pack.row(x.row).title.zh for x in a.rows]  # the row's name, not its id
    assert [(r[0], r[1], r[2]) for r in rates] == [
        (t, x.required, x.equipped) for t, x in zip(titles, a.rows, strict=True)
    ]
    findings = list(wb["发现项"].iter_rows(min_row=2, values_only=True))
    assert len(findings) == len(a.findings)
    assert {row[3] for row in findings} == {f.code for f in a.findings}
    header = next(wb["发现项"].iter_rows(max_row=1, values_only=True))
    assert header[5] == "根源器具"
    # mini.json: I4 failed its recalibration and is P4's only in-use instrument (root cause of both); I3's
    # accuracy failure is its own problem, not a consequence of its expiry (no root cause).
    rooted = {(row[3], row[4]): row[5] for row in findings}
    assert rooted[("TRC-01-C", "I4")] == "I4" and rooted[("EQP-01-A", "P4")] == "I4"
    assert rooted[("ACC-01", "I3")] is None
    not_judged = list(wb["不予判定"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in not_judged] == [(n.subject, "准确度", n.code) for n in a.not_judged]
    assert a.not_judged and all(r[3] and r[4] for r in not_judged)

    register = list(wb["碳计量器具"].iter_rows(values_only=True))
    header = list(register[0])
    assert header[-len(VERDICT_COLUMNS) :] == list(VERDICT_COLUMNS)
    by_id = {row[header.index("编号")]: dict(zip(header, row, strict=True)) for row in register[1:]}
    assert by_id["I4"]["计入配备率"] == "否" and by_id["I4"]["溯源状态"] == "复检不合格"
    assert by_id["I1"]["计入配备率"] == "是" and by_id["I1"]["准确度结论"] == "合格"
    assert by_id["I3"]["准确度结论"] == "不合格"
    summary = dict(wb["评价结论"].iter_rows(min_row=2, values_only=True))
    assert summary["结论"] == "不符合"


def test_emissions_sheet_of_the_demo_carries_the_engine_numbers(tmp_path: Path) -> None:
    demo = Path(__file__).parents[2] / "examples" / "demo-cement-plant.json"
    snap = parse_json(demo.read_bytes(), demo.name)
    a = assess(snap, load_pack("cq-part2-cement"))
    out = tmp_path / "demo.xlsx"
    write_assessment_xlsx(a, snap, out)
    assert read_xlsx(out) == snap  # the result sheet is passed over on import
    rows = list(load_workbook(out, read_only=True)["排放量与不确定度"].iter_rows(values_only=True))
    assert rows[1][:3] == ("编号", "名称", "核算公式")
    acc = a.accounting
    assert acc is not None
    s05 = next(r for r in rows if r[0] == "S05")
    assert s05[2] == "熟料煅烧"  # the formula by its pack title, never its id
    # A cell keeps 15 significant digits.
    assert s05[4] == pytest.approx(acc.streams["S05"].computed_t, rel=1e-12) and s05[8] == 4
    assert s05[5] == pytest.approx(acc.streams["S05"].u95_t, rel=1e-12)
    total = next(r for r in rows if r[0] == "全厂")
    assert total[4] == pytest.approx(a.total_emissions_t, rel=1e-12)
    assert total[5] == pytest.approx(acc.total_u95_t, rel=1e-12)
    budget_rows = [r for r in rows if r[0] == "S05" and r[1] and str(r[1]).startswith("P05.")]
    assert {r[1] for r in budget_rows} == {b.point for b in acc.streams["S05"].evaluation.budget}  # type: ignore[union-attr]
    advice = rows[[r[0] for r in rows].index("改进建议") + 2 :]
    assert [r[1] for r in advice if r[0]] == [x.point for x in acc.advisor]
