"""The data ledger as a workbook (openpyxl): 月度台账, 日台账, 完整性 — the sheets a verifier asks for.

The workbook holds exactly the numbers of the ledger page (the same :mod:`ledger` shapes), with headers in
Chinese as the plants file them; a month or day without readings is an empty cell, never a zero.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from carbonmeter.readings.model import quantities
from carbonmeter.web.readings.ledger import YearLedger, unit_of
from carbonmeter.web.registry.templatetags.labels import unit_label

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBE6")
#: Availability below the rule pack's ``readings_low_availability`` (``YearLedger.low``) is shaded in the
#: 完整性 sheet (the page marks it red too); a month without data is a blank cell, never a shaded 0.
LOW_FILL = PatternFill("solid", fgColor="F8D7DA")


def quantity_name(code: str) -> str:
    """The quantity's Chinese name (the workbook is a Chinese filing); an unknown code as written."""
    q = quantities().get(code)
    return q.name("zh") if q is not None else code


def _header(ws: Worksheet, titles: Sequence[str]) -> None:
    ws.append(list(titles))
    for cell in next(ws.iter_rows(min_row=ws.max_row, max_row=ws.max_row)):
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = f"C{ws.max_row + 1}"


def _widths(ws: Worksheet, widths: Iterable[int]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _title(ws: Worksheet, text: str) -> None:
    ws.append([text])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)


def ledger_workbook(book: YearLedger, days: Sequence[dict[str, Any]]) -> bytes:
    """The year's ledger of one organization: monthly totals (per point, then per stream), daily totals of
    every point, and availability per point and month."""
    wb = Workbook()
    monthly = wb.active
    assert monthly is not None
    monthly.title = "月度台账"
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    months = [f"{m.month}月" for m in book.months]

    _title(monthly, f"{book.org.name}（{book.org.credit_code}）{book.year} 年计量数据月度台账 · 导出 {stamp}")
    _header(monthly, ["计量点", "名称", "碳源流", "量", "单位", *months, "全年合计"])
    for p in book.points:
        monthly.append(
            [
                p.code,
                p.name,
                p.stream,
                quantity_name(p.quantity),
                unit_label(p.unit),
                *[c.total if c is not None else None for c in p.months],
                p.year_total,
            ]
        )
    monthly.append([])
    monthly.append(["按碳源流合计"])
    monthly.cell(row=monthly.max_row, column=1).font = HEADER_FONT
    _header(monthly, ["碳源流", "名称", "计量点", "量", "单位", *months, "全年合计"])
    monthly.freeze_panes = "C3"
    for s in book.streams:
        monthly.append(
            [
                s.code,
                s.name,
                "、".join(s.points),
                quantity_name(s.quantity),
                unit_label(s.unit),
                *[c.total if c is not None else None for c in s.months],
                s.year_total,
            ]
        )
    _widths(monthly, [12, 28, 10, 20, 8, *([12] * 12), 14])

    daily = wb.create_sheet("日台账")
    _title(daily, f"{book.org.name} {book.year} 年计量数据日台账（北京时间自然日）")
    _header(daily, ["计量点", "量", "单位", "日期", "合计", "读数", "应有读数", "可用率"])
    for r in days:
        quantity = str(r["quantity"])
        daily.append(
            [
                r["point"],
                quantity_name(quantity),
                unit_label(unit_of(quantity)),
                r["period_start"],
                r.get("total"),
                r.get("n"),
                r.get("expected"),
                r.get("availability"),
            ]
        )
        daily.cell(row=daily.max_row, column=4).number_format = "yyyy-mm-dd"
        daily.cell(row=daily.max_row, column=8).number_format = "0.0%"
    _widths(daily, [12, 20, 8, 12, 14, 8, 10, 10])

    complete = wb.create_sheet("完整性")
    note = "空白：该月无读数或尚未开始；全年：自首个有数据的月份起至今"
    _title(complete, f"{book.org.name} {book.year} 年数据可用率（{note}）")
    _header(complete, ["计量点", "名称", "量", *months, "全年"])
    for p in book.points:
        complete.append(
            [
                p.code,
                p.name,
                quantity_name(p.quantity),
                *[c.availability if c is not None else None for c in p.months],
                p.year_availability,
            ]
        )
        for cell in complete[complete.max_row][3:]:
            cell.number_format = "0.0%"
            if isinstance(cell.value, float) and cell.value < book.low:
                cell.fill = LOW_FILL
    _widths(complete, [12, 28, 20, *([9] * 12), 9])

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
