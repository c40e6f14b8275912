"""The assessment workbook (``--format xlsx``): verdict, Table A.1 rates, findings (with the instrument that
is their root cause, contract §6.4.4), what could not be judged (§6.4.3), and the plant's own sheets with the
Table B.1 register carrying verdict columns.

The register and the other snapshot sheets are the product's snapshot workbook, so the file re-imports as
a snapshot (the verdict columns and result sheets are recognised and left out on import).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from carbonmeter.core.accounting import Accounting
from carbonmeter.core.assess import Assessment, InstrumentVerdict
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.snapshot_xlsx import RESULT_SHEETS, VERDICT_COLUMNS, write_xlsx
from carbonmeter.io.terms import term_name
from carbonmeter.reports.emissions import formula_streams
from carbonmeter.rules.messages import label_text, render

_BOLD = Font(bold=True)
_BAD = PatternFill("solid", fgColor="F8CBAD")
_GOOD = PatternFill("solid", fgColor="C6EFCE")
_SEVERITY = {"nonconformity": "不符合", "observation": "观察"}
_YES_NO = {True: "是", False: "否", None: "—"}
#: A pack value's provenance tag, as the rates sheet names the basis of a row's required rate.
_BASIS = {"seed": "编制说明", "source": "标准原文", "provisional": "暂定值", "missing": "缺失"}
_PACK_STATUS = {"draft": "征求意见稿"}


def _sheet(ws: Worksheet, headers: list[str], rows: list[list[object]], widths: list[int]) -> None:
    ws.append(headers)
    for cell in ws[1]:
        cell.font = _BOLD
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = w


def _summary(ws: Worksheet, a: Assessment, s: Snapshot) -> None:
    n_nc = sum(f.severity == "nonconformity" for f in a.findings)
    rows: list[list[object]] = [
        ["单位名称", s.organization.name],
        ["规则包", f"{a.pack.title.zh} {a.pack.version}（{_PACK_STATUS.get(a.pack.status, '正式版')}）"],
        ["规则包 sha256", a.pack.sha256],
        ["评价日期", a.as_of],
        ["报告年度", s.reporting_year],
        ["排放总量(tCO2e)", a.total_emissions_t],
        ["结论", "符合" if a.conforms else "不符合"],
        ["不符合项", n_nc],
        ["观察项", len(a.findings) - n_nc],
        ["依据暂定值的发现项", sum(f.provisional for f in a.findings)],
        ["不予判定项", len(a.not_judged)],
    ]
    _sheet(ws, ["项目", "值"], rows, [22, 70])
    ws.cell(5, 2).number_format = "yyyy-mm-dd"
    ws.cell(8, 2).fill = _GOOD if a.conforms else _BAD


def _rates(ws: Worksheet, a: Assessment) -> None:
    rows: list[list[object]] = []
    for r in a.rows:
        title = a.pack.row(r.row).title.zh
        verdict = "—" if r.required == 0 else ("合格" if r.passed else "不合格")
        rows.append(
            [
                title,
                r.required,
                r.equipped,
                r.rate,
                r.required_rate,
                verdict,
                _BASIS.get(r.tag, r.tag),
                "、".join(r.unequipped_points),
            ]
        )
    _sheet(
        ws,
        ["表A.1 行", "应配备", "已配备", "配备率", "要求配备率", "结论", "依据", "未配备计量点"],
        rows,
        [36, 8, 8, 10, 12, 8, 10, 40],
    )
    for row in ws.iter_rows(min_row=2):
        for cell in (row[3], row[4]):
            cell.number_format = "0.0%"
        if row[5].value == "不合格":
            row[5].fill = _BAD


def _findings(ws: Worksheet, a: Assessment) -> None:
    rows: list[list[object]] = []
    for f in a.findings:
        clause = a.pack.clauses.get(f.clause)
        rows.append(
            [
                f.clause,
                clause.zh if clause else "",
                _SEVERITY[f.severity],
                f.code,
                term_name("document_kind", f.subject),  # a missing document is named, not coded
                f.root_cause or "",
                render(f.code, f.params, "zh"),
                render(f.code, f.params, "en"),
                "是" if f.provisional else "否",
                json.dumps(f.evidence, ensure_ascii=False, default=str),
            ]
        )
    _sheet(
        ws,
        ["条款", "条款名称", "类别", "代码", "对象", "根源器具", "说明", "Message", "依据暂定值", "证据"],
        rows,
        [8, 28, 8, 10, 14, 10, 70, 70, 10, 60],
    )
    for row in ws.iter_rows(min_row=2):
        row[6].alignment = Alignment(wrap_text=True, vertical="top")
        if row[2].value == "不符合":
            row[2].fill = _BAD


_WHAT = {"accuracy": "准确度", "uncertainty": "不确定度", "emissions": "排放量"}


def _not_judged(ws: Worksheet, a: Assessment) -> None:
    """What the engine could not judge (contract §6.4.3): not findings, and not part of the verdict."""
    rows: list[list[object]] = [
        [
            n.subject,
            _WHAT.get(n.what, n.what),
            n.code,
            render(n.code, n.params, "zh"),
            render(n.code, n.params, "en"),
            "是" if n.provisional else "否",
        ]
        for n in a.not_judged
    ]
    headers = ["对象", "未判定事项", "原因代码", "原因", "Message", "依据暂定值"]
    _sheet(ws, headers, rows, [14, 12, 10, 70, 70, 10])
    for row in ws.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")


def _verdict_cells(v: InstrumentVerdict) -> list[str | date | None]:
    rec = v.trace.record
    acc = v.accuracy
    acc_verdict = {True: "合格", False: "不合格", None: "未判定"}[acc.passed]
    return [
        label_text(f"trace.{v.trace.reason}", "zh"),
        rec.valid_until if rec else None,
        _YES_NO[v.counted],
        acc.required or "—",
        acc_verdict,
    ]


def _register_verdicts(ws: Worksheet, a: Assessment) -> None:
    """Append the verdict columns to the register, matched by instrument id (编号)."""
    headers = [c.value for c in ws[1]]
    id_col = headers.index("编号") + 1
    first = len(headers) + 1
    for j, name in enumerate(VERDICT_COLUMNS):
        cell = ws.cell(1, first + j, name)
        cell.font = _BOLD
    by_id = {v.id: v for v in a.instruments}
    for r in range(2, ws.max_row + 1):
        v = by_id.get(str(ws.cell(r, id_col).value))
        if v is None:
            continue
        for j, value in enumerate(_verdict_cells(v)):
            cell = ws.cell(r, first + j, value)
            if j == 1:
                cell.number_format = "yyyy-mm-dd"
            if value in ("否", "不合格") or (j == 0 and not v.trace.traceable):
                cell.fill = _BAD


def _block(
    ws: Worksheet, title: str, headers: list[str], rows: Sequence[Sequence[object]], percent: tuple[int, ...]
) -> None:
    """A titled table in a sheet of several; the columns in ``percent`` (0-based) are shown as %."""
    ws.append([title])
    ws.cell(ws.max_row, 1).font = _BOLD
    ws.append(headers)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    for row in rows:
        ws.append(list(row))
        for col in percent:
            ws.cell(ws.max_row, col + 1).number_format = "0.00%"
    ws.append([])


def _stream_rows(a: Assessment, s: Snapshot, acc: Accounting) -> list[list[object]]:
    rows: list[list[object]] = []
    for c, st, name, formula in formula_streams(a, s):
        rows.append(
            [
                c.stream,
                name,
                formula,
                st.declared_t,
                st.computed_t,
                st.u95_t if st.u95_t is not None else "未评定",
                st.u95_t / c.emissions_t if st.u95_t is not None and c.emissions_t else None,
                st.activity_u95_percent / 100 if st.activity_u95_percent is not None else None,
                st.tier,
            ]
        )
    total, u95 = a.total_emissions_t, acc.total_u95_t
    rows.append(["全厂", "净排放量", "", None, total, u95, u95 / abs(total) if u95 and total else None])
    return rows


def _emissions(ws: Worksheet, a: Assessment, s: Snapshot) -> None:
    """排放量与不确定度 (contract §6.3): each stream with its U95 and tier, every budget, the advisor."""
    acc = a.accounting
    if acc is None or not any(st.formula for st in acc.streams.values()):
        ws.append(["本快照的碳源流均未指定核算公式，未计算排放量与不确定度。"])
        return
    title = f"碳源流排放量与扩展不确定度（k = {acc.k:g}）"
    if not acc.complete:
        title += "；部分碳源流的不确定度未评定，未计入全厂"
    headers = ["编号", "名称", "核算公式", "申报排放量(t)", "计算排放量(t)", "U95(t)", "U95(%)"]
    _block(ws, title, [*headers, "活动数据U95(%)", "层级"], _stream_rows(a, s, acc), (6, 7))
    budget = [
        [
            c.stream,
            b.point,
            term_name("parameter", b.parameter),
            b.value,
            "—" if b.unit == "dimensionless" else b.unit,
            b.u_rel,
            b.instrument,
            b.certificate_no,
            b.contribution,
        ]
        for c in a.streams
        if (ev := acc.streams[c.stream].evaluation) is not None
        for b in ev.budget
    ]
    headers = ["碳源流", "计量点", "参数", "年度值", "单位", "相对标准不确定度", "器具", "证书编号", "贡献"]
    _block(ws, "不确定度预算", headers, budget, (5, 8))
    actions = {"upgrade": "提高测量准确度", "measure": "由缺省值改为实测"}
    advice = [
        [
            n,
            x.point,
            x.stream,
            term_name("parameter", x.parameter),
            x.contribution,
            actions[x.action],
            x.to or "—",
            x.reduction_t,
            x.max_reduction_t,
        ]
        for n, x in enumerate(acc.advisor, 1)
    ]
    headers = ["序号", "计量点", "碳源流", "参数", "贡献", "建议", "目标", "U95可减少(t)", "最多可减少(t)"]
    _block(ws, "改进建议", headers, advice, (4,))
    for i, w in enumerate([10, 30, 36, 16, 16, 16, 18, 18, 16]):
        ws.column_dimensions[get_column_letter(i + 1)].width = w


def write_assessment_xlsx(a: Assessment, s: Snapshot, path: Path) -> None:
    """Write the assessment workbook to ``path``."""
    write_xlsx(s, path)
    wb = load_workbook(path)
    builders = {
        "评价结论": lambda ws: _summary(ws, a, s),
        "配备率": lambda ws: _rates(ws, a),
        "发现项": lambda ws: _findings(ws, a),
        "排放量与不确定度": lambda ws: _emissions(ws, a, s),
        "不予判定": lambda ws: _not_judged(ws, a),
    }
    for index, name in enumerate(RESULT_SHEETS):
        builders[name](wb.create_sheet(name, index))
    _register_verdicts(wb["碳计量器具"], a)
    wb.active = 0
    wb.save(path)
