"""Reading and writing the workbook form of a snapshot (contract §3).

Most plants keep their register in Excel and type it by hand, so the reader takes what people type:
Chinese headers or the §2 keys, in any order; Chinese terms or §2 values; dates as Excel dates or ISO text;
numbers typed as text.  It is still as strict as the JSON reader.  It builds the same document, validates it
with the same models and the same integrity check, and reports *every* problem at once.  Each problem is
located as ``sheet!cell (header)``, because that is where the user will look.  Nothing is guessed: an empty
cell means "not given" (the model default applies), never zero.  A column the snapshot has no field for is
kept under ``extra``.

The writer is the reader's inverse: ``read_xlsx`` of what ``write_xlsx`` wrote equals the snapshot (see
:func:`write_xlsx` for the few values a cell cannot hold).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from carbonmeter.core.integrity import check_integrity
from carbonmeter.core.snapshot import (
    Person,
    Record,
    Snapshot,
)
from carbonmeter.core.terms import ENUM_TERMS, EXTRA_TERMS
from carbonmeter.io.ids import normalize_id, normalize_ids
from carbonmeter.io.problems import Located, Reason, SnapshotError, located, quote
from carbonmeter.io.snapshot_schema import SchemaProblems, convert, value_problems
from carbonmeter.io.terms import OPEN_KINDS, normalize_terms, term_name
from carbonmeter.io.xlsx_cells import EMPTY, BadCell, header_first, refuse_doctype, sheet_rows

# --------------------------------------------------------------------------------------------------------
# The workbook's vocabulary (contract §3).  Everything the reader accepts and the writer writes is here.
# --------------------------------------------------------------------------------------------------------

#: Sheet name → the §2 list it holds (its §2 key is accepted as the name too), in workbook order.
SHEETS: Final[dict[str, str]] = {
    "单位信息": "organization",
    "碳源流": "source_streams",
    "计量点": "measuring_points",
    "碳计量器具": "instruments",
    "器具组成": "components",
    "检定校准记录": "calibrations",
    "人员": "personnel",
    "管理制度": "documents",
    "生产设施": "facilities",
}
#: Sheets a snapshot cannot do without; every other list sheet may be left out (= an empty list).
REQUIRED_SHEETS: Final[tuple[str, ...]] = ("单位信息", "碳源流")

#: Accepted spellings of a boolean (compared case-insensitively); the writer writes 是 / 否.
BOOLEAN_TERMS: Final[dict[str, bool]] = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
}
BOOLEAN_TEXT: Final[dict[bool, str]] = {True: "是", False: "否"}

#: The columns of each list sheet: §2 key → (Chinese header, kind).  A kind is ``text``, ``id`` (text read
#: as an identifier, :func:`~carbonmeter.io.ids.normalize_id`), ``int``, ``float``, ``bool``, ``date``,
#: ``refs`` (ids joined by 、), the name of an enumeration in :data:`ENUM_TERMS` or of an open vocabulary
#: (:mod:`carbonmeter.io.terms`: free text, a known value written as its Chinese name).
COLUMNS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "碳源流": {
        "id": ("编号", "id"),
        "name": ("名称", "text"),
        "kind": ("类型", "stream_kind"),
        "method": ("计量方式", "method"),
        "emission_mode": ("排放方式", "emission_mode"),
        "annual_emissions_t": ("年排放量(tCO2e)", "float"),
        "facility": ("生产设施", "id"),
        "formula": ("核算公式", "formula"),
    },
    "计量点": {
        "id": ("编号", "id"),
        "name": ("名称", "text"),
        "stream": ("碳源流", "id"),
        "role": ("数据类型", "role"),
        "parameter": ("参数", "parameter"),
        "determination": ("确定方式", "determination"),
        "purpose": ("用途", "purpose"),
        "trade_settlement": ("贸易结算", "bool"),
        "operating_value": ("运行值", "float"),
        "value": ("年度值", "float"),
        "unit": ("单位", "text"),
        "u_rel": ("相对标准不确定度", "float"),
        "factor": ("缺省值键", "id"),
        "availability": ("数据可用率", "float"),
        "substituted_share": ("替代数据占比", "float"),
    },
    "碳计量器具": {
        "id": ("编号", "id"),
        "name": ("器具名称", "text"),
        "type": ("类型", "instrument_type"),
        "model": ("型号规格", "text"),
        "accuracy_class": ("准确度等级", "text"),
        "mpe_percent": ("最大允许误差(%)", "float"),
        "mpe_abs": ("最大允许误差(绝对值)", "float"),
        "mpe_abs_unit": ("绝对误差单位", "text"),
        "measuring_range": ("测量范围", "text"),
        "manufacturer": ("生产厂家", "text"),
        "serial_no": ("出厂编号", "text"),
        "asset_no": ("管理编号", "text"),
        "location": ("安装使用地点", "text"),
        "points": ("计量点", "refs"),
        "status": ("状态", "status"),
        "portable": ("便携式", "bool"),
        "smart": ("智能化", "bool"),
        "seal_intact": ("铅封完好", "bool"),
        "ownership": ("归属", "ownership"),
        "traceability_basis": ("溯源依据", "text"),
        "interval_months": ("检定周期(月)", "int"),
        "in_service_from": ("投用日期", "date"),
    },
    "器具组成": {
        "instrument": ("器具编号", "id"),
        "type": ("组成类型", "instrument_type"),
        "accuracy_class": ("准确度等级", "text"),
        "mpe_percent": ("最大允许误差(%)", "float"),
    },
    "检定校准记录": {
        "instrument": ("器具编号", "id"),
        "kind": ("方式", "calibration_kind"),
        "date": ("日期", "date"),
        "valid_until": ("有效期至", "date"),
        "result": ("结论", "result"),
        "certificate_no": ("证书编号", "id"),
        "agency": ("机构", "text"),
        "restricted_range": ("限用范围", "text"),
        "expanded_uncertainty_percent": ("扩展不确定度(%)", "float"),
        "coverage_factor": ("包含因子", "float"),
    },
    "人员": {
        "name": ("姓名", "id"),
        "role": ("岗位", "text"),
        "responsible": ("碳计量负责人", "bool"),
        "certificate_name": ("证书名称", "text"),
        "certificate_valid_until": ("证书有效期至", "date"),
    },
    "管理制度": {
        "kind": ("类别", "document_kind"),
        "title": ("名称", "text"),
        "approved": ("批准日期", "date"),
    },
    "生产设施": {
        "id": ("编号", "id"),
        "name": ("名称", "text"),
        "level": ("层级", "facility_level"),
    },
}

#: The 单位信息 sheet is a list of 项目 / 值 rows rather than a table; these are its two columns.
ITEM_COLUMNS: Final[dict[str, tuple[str, str]]] = {"item": ("项目", "text"), "value": ("值", "text")}
#: Its items: §2 key → (Chinese item name, kind).  The item may be named by either.
ORGANIZATION_ITEMS: Final[dict[str, tuple[str, str]]] = {
    "name": ("单位名称", "text"),
    "credit_code": ("统一社会信用代码", "id"),
    "industry": ("行业", "text"),
    "key_emission_unit": ("重点排放单位", "bool"),
    "region": ("所属地区", "text"),
    "reporting_year": ("报告年度", "int"),
    "as_of": ("评价日期", "date"),
}
#: Items that belong to the snapshot itself rather than to the organization.
SNAPSHOT_ITEMS: Final[frozenset[str]] = frozenset({"reporting_year", "as_of"})

#: Columns the product's assessment workbook adds to the register; its verdicts, never input, so the reader
#: skips them (they are not put under ``extra``) and the register re-imports unchanged.
VERDICT_COLUMNS: Final[tuple[str, ...]] = (
    "溯源状态",
    "有效期至(最近)",
    "计入配备率",
    "准确度要求",
    "准确度结论",
)
#: Sheets the assessment workbook puts before the snapshot's own: results, never input, so the reader passes
#: them over and the assessment workbook re-imports as the snapshot it was made from.
RESULT_SHEETS: Final[tuple[str, ...]] = ("评价结论", "配备率", "发现项", "不予判定", "排放量与不确定度")
#: The register's first column: the row number of Table B.1, written 1..n and ignored on read.
ROW_NUMBER_HEADER: Final = "序号"
IGNORED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"碳计量器具": (ROW_NUMBER_HEADER, *VERDICT_COLUMNS)}

#: In 人员, one row carries a person and one certificate, so a certificate's own ``extra`` needs a mark:
#: a column headed ``证书.备注`` is the certificate's extra ``备注``; any other extra column is the person's.
CERTIFICATE_EXTRA_PREFIX: Final = "证书."
#: In 单位信息, an unknown item is the organization's extra; an item ``快照.X`` is the snapshot's extra ``X``.
SNAPSHOT_EXTRA_PREFIX: Final = "快照."
_EXTRA_PREFIX_OF_SHEET: Final[dict[str, str]] = {
    "人员": CERTIFICATE_EXTRA_PREFIX,
    "单位信息": SNAPSHOT_EXTRA_PREFIX,
}
#: 人员 columns that belong to the person, and those that belong to the certificate (→ its field).
PERSON_KEYS: Final[tuple[str, ...]] = ("name", "role", "responsible")
CERTIFICATE_KEYS: Final[dict[str, str]] = {
    "certificate_name": "name",
    "certificate_valid_until": "valid_until",
}
_CERTIFICATE_COLUMNS: Final = {key: column for column, key in CERTIFICATE_KEYS.items()}

#: The writer joins an instrument's points with 、; the reader also splits on ASCII and full-width commas.
REF_SEPARATOR: Final = "、"
_REF_SPLIT: Final = re.compile("[、,，]")

DATE_FORMAT: Final = "yyyy-mm-dd"
#: Earlier dates are written as ISO text: spreadsheet programs disagree on serial numbers before this day
#: (Excel's phantom 1900-02-29), and Excel has none before 1900.
FIRST_EXCEL_DATE: Final = date(1900, 3, 1)

REQUIRED: Final = Reason("IMP-20")
_MISSING_COLUMN: Final = "IMP-21"
_MISSING_ITEM: Final = "IMP-22"
_MISSING_SHEET: Final = Reason("IMP-23")


def _norm(text: str) -> str:
    """How headers, item names and terms are compared: full-width folded to ASCII, spaces dropped, no case.

    People type ``年排放量（tCO2e）`` with a Chinese input method; that is still the column they mean.
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _lookup(columns: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Normalized header or §2 key → §2 key."""
    table = {_norm(key): key for key in columns}
    table.update({_norm(header): key for key, (header, _) in columns.items()})
    return table


_SHEET_LOOKUP: Final = {_norm(name): name for name in SHEETS} | {
    _norm(key): name for name, key in SHEETS.items()
}
_RESULT_SHEET_NAMES: Final = frozenset(_norm(name) for name in RESULT_SHEETS)
_COLUMN_LOOKUP: Final = {sheet: _lookup(columns) for sheet, columns in COLUMNS.items()}
_ITEM_LOOKUP: Final = _lookup(ORGANIZATION_ITEMS)
_ENUM_LOOKUP: Final = {
    kind: {_norm(term): value for value, term in terms.items()} | {_norm(value): value for value in terms}
    for kind, terms in ENUM_TERMS.items()
}


#: A known extra's normalized Chinese header → (key, normalized value name → value).
_EXTRA_HEADERS: Final = {
    _norm(header): (key, {_norm(name): value for value, name in names.items()})
    for key, (header, names) in EXTRA_TERMS.items()
}


def _known_extra(header: str, value: Any) -> tuple[str, Any]:
    """An extra column as its key and value: a known extra's Chinese header and value names read back."""
    known = _EXTRA_HEADERS.get(_norm(header))
    if known is None:
        return header, value
    key, values = known
    return key, values.get(_norm(value), value) if isinstance(value, str) else value


#: Per sheet, the normalized names an ``extra`` key must not take: they would read back as a known column.
_RESERVED: Final = {
    sheet: set(lookup) | {_norm(h) for h in IGNORED_COLUMNS.get(sheet, ())}
    for sheet, lookup in _COLUMN_LOOKUP.items()
} | {"单位信息": set(_ITEM_LOOKUP)}


# --------------------------------------------------------------------------------------------------------
# Locating problems
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a value lives, or would live: a cell, a row, a missing column or item, or a whole sheet."""

    sheet: str
    header: str = ""
    row: int = 0
    column: int = 0
    #: A catalogue code said before the reason when there is no cell to point at (e.g. "column is missing").
    note: str = ""

    def describe(self) -> str:
        if self.row and self.column:
            cell = f"{self.sheet}!{get_column_letter(self.column)}{self.row}"
            return f"{cell} ({self.header})" if self.header else cell
        if self.row:
            return f"{self.sheet} row {self.row}"
        return f"{self.sheet} ({self.header})" if self.header else self.sheet

    def order(self) -> tuple[int, int, int]:
        return (
            list(SHEETS).index(self.sheet) if self.sheet in SHEETS else len(SHEETS),
            self.row,
            self.column,
        )


class _Problems:
    """Every problem of one workbook, each said once, reported in workbook order so it can be fixed top-down.

    A cell that could not be read is left out of the document; the "missing" that validation then reports
    for it would only repeat the first problem, so a validation problem at an already blamed place is dropped.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._lines: dict[str, tuple[tuple[int, int, int], Located]] = {}
        self._blamed: set[_Place] = set()

    def add(self, place: _Place, reason: Reason | str) -> None:
        """A problem found while reading the workbook itself."""
        self._blamed.add(place)
        self._put(place, reason)

    def add_derived(self, place: _Place | None, pointer: str, reason: str) -> None:
        """A problem found by validation, at ``place`` (``None``: no place known, say the pointer)."""
        if place is None:
            problem = Located(self.source, pointer or "/", reason)
            self._lines.setdefault(problem.line(), ((-1, 0, 0), problem))
        elif place not in self._blamed:
            self._put(place, reason)

    def _put(self, place: _Place, reason: Reason | str) -> None:
        said = Reason(place.note, then=reason) if place.note else reason
        column = get_column_letter(place.column) if place.column else ""
        problem = Located(self.source, place.describe(), said, place.sheet, place.row, column, place.header)
        self._lines.setdefault(problem.line(), (place.order(), problem))

    def __bool__(self) -> bool:
        return bool(self._lines)

    def error(self) -> SnapshotError:
        return SnapshotError(problem for _, problem in sorted(self._lines.values(), key=lambda v: v[0]))


# --------------------------------------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------------------------------------


class _Unreadable(ValueError):
    """A cell whose content is not of its column's kind (or not readable at all); ``reason`` says why."""

    def __init__(self, reason: Reason | str) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _is_blank(value: Any) -> bool:
    """An empty cell: not given.  Whitespace is content (a typed space is kept, not taken for nothing)."""
    return value is None or value == ""


def _number_text(value: float, number_format: str | None) -> str:
    """A number in a text column as the user sees it: ``1.0`` shown with format ``0.0`` stays ``"1.0"``."""
    decimals = re.fullmatch(r"0\.(0+)", number_format or "")
    if decimals:
        return f"{value:.{len(decimals.group(1))}f}"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _as_text(value: Any, number_format: str | None = None) -> str:
    """Any cell value as text (an accuracy class typed as a number, a serial number, a header)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_text(value, number_format)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _parse_text(cell: Any) -> str:
    value = cell.value
    return _as_text(value, cell.number_format if isinstance(value, float) else None)


def _parse_int(cell: Any) -> int:
    value = cell.value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if number.is_integer():
            return int(number)
    raise _Unreadable(Reason("IMP-24", {"value": quote(value)}))


def _parse_float(cell: Any) -> float:
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _Unreadable(Reason("IMP-25", {"value": quote(value)}))


def _parse_bool(cell: Any) -> bool:
    value = cell.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and _norm(value) in BOOLEAN_TERMS:
        return BOOLEAN_TERMS[_norm(value)]
    accepted = ", ".join(term.upper() if term.isascii() else term for term in BOOLEAN_TERMS)
    raise _Unreadable(Reason("IMP-26", {"value": quote(value), "accepted": accepted}))


def _parse_date(cell: Any) -> date:
    """An Excel date (its time of day, if any, is dropped: the contract's dates are days) or ISO text."""
    value = cell.value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromisoformat(text).date()
            except ValueError:
                pass
    raise _Unreadable(Reason("IMP-27", {"value": quote(value)}))


def _parse_id(cell: Any) -> str:
    return normalize_id(_parse_text(cell))


def _parse_refs(cell: Any) -> list[str]:
    """Ids listed in one cell, separated by 、 or a comma; blanks around them are not part of an id."""
    parts = (normalize_id(part) for part in _REF_SPLIT.split(_parse_text(cell)))
    return [part for part in parts if part]


def _parse_enum(kind: str, cell: Any) -> str:
    value = cell.value
    if isinstance(value, str) and _norm(value) in _ENUM_LOOKUP[kind]:
        return _ENUM_LOOKUP[kind][_norm(value)]
    accepted = ", ".join(f"{term} ({code})" for code, term in ENUM_TERMS[kind].items())
    raise _Unreadable(Reason("IMP-28", {"value": quote(value), "accepted": accepted}))


_PARSERS: Final[dict[str, Callable[[Any], Any]]] = {
    "text": _parse_text,
    "id": _parse_id,
    "int": _parse_int,
    "float": _parse_float,
    "bool": _parse_bool,
    "date": _parse_date,
    "refs": _parse_refs,
}


def _parse(kind: str, cell: Any) -> Any:
    """The value of a non-blank cell in a column of ``kind``; :class:`_Unreadable` if it is not one."""
    if isinstance(cell, BadCell):
        raise _Unreadable(cell.reason)
    if kind in ENUM_TERMS:
        return _parse_enum(kind, cell)
    if kind in OPEN_KINDS:
        return _parse_text(cell)  # a known name becomes its value with the others (normalize_terms)
    return _PARSERS[kind](cell)


def _extra_value(value: Any) -> Any:
    """A cell under ``extra``: text and numbers as they are, dates as ISO text (JSON has no dates)."""
    if isinstance(value, BadCell):
        raise _Unreadable(value.reason)
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------------------
# Reading sheets
# --------------------------------------------------------------------------------------------------------


def _cell_rows(ws: Any, sheet: str, problems: _Problems) -> Iterator[tuple[int, Sequence[Any]]]:
    """Every stored row of a sheet with the number Excel shows it under, in the order the file stores them.

    Not openpyxl's rows: they trust the size a file declares (rows past it are cut off) and skip a row
    stored out of order or numbered 0 (:mod:`carbonmeter.io.xlsx_cells`).  A row or cell that cannot be
    read is reported at its place.
    """

    def report(row: int, column: int, reason: Reason) -> None:
        problems.add(_Place(sheet, "", row, column), reason)

    return sheet_rows(ws.parent, ws, report)


def _has_values(ws: Any) -> bool:
    """Whether a sheet holds anything (its problems are not reported: only a sheet read is)."""
    rows = _cell_rows(ws, ws.title, _Problems(""))
    return any(not _is_blank(cell.value) for _, cells in rows for cell in cells)


@dataclass(slots=True)
class _Layout:
    """Which column of a sheet holds what, from its header row."""

    sheet: str
    columns: Mapping[str, tuple[str, str]]
    headers: dict[int, str] = field(default_factory=dict)  # column → header as written, every named column
    keys: dict[int, str] = field(default_factory=dict)  # column → §2 key, for the known columns
    extra: dict[int, str] = field(default_factory=dict)  # column → header, for the columns kept under extra
    stray: set[int] = field(default_factory=set)  # unnamed columns already reported for holding values
    _key_column: dict[str, int] = field(default_factory=dict)
    _extra_column: dict[str, int] = field(default_factory=dict)

    def claim(self, column: int, header: str, key: str | None) -> int | None:
        """Give ``column`` to ``key`` (or to extra); the column that already has it, if one does."""
        taken = self._key_column if key else self._extra_column
        if (key or header) in taken:
            return taken[key or header]
        taken[key or header] = column
        (self.keys if key else self.extra)[column] = key or header
        return None

    def column_of(self, key: str) -> int:
        return self._key_column[key]

    def place(self, key: str, row: int) -> _Place:
        """The cell of ``key`` in ``row``, or the missing column when the sheet has none for it."""
        column = self._key_column.get(key)
        if column is None:
            return _Place(self.sheet, self.columns[key][0], note=_MISSING_COLUMN)
        return _Place(self.sheet, self.headers[column], row, column)

    def extra_place(self, header: str, row: int) -> _Place:
        return _Place(self.sheet, header, row, self._extra_column[header])


def _layout(
    sheet: str, header_cells: Sequence[Any], columns: Mapping[str, tuple[str, str]], problems: _Problems
) -> _Layout:
    """Match the header row to the sheet's columns; a header read twice is a problem, not a silent pick."""
    lookup = _lookup(columns)
    ignored = {_norm(header) for header in IGNORED_COLUMNS.get(sheet, ())}
    layout = _Layout(sheet, columns)
    for column, cell in enumerate(header_cells, start=1):
        if isinstance(cell, BadCell):
            problems.add(_Place(sheet, "", 1, column), cell.reason)
            continue
        if _is_blank(cell.value) or not _as_text(cell.value).strip():
            continue
        header = _as_text(cell.value)
        layout.headers[column] = header
        if _norm(header) in ignored:
            continue
        first = layout.claim(column, header, lookup.get(_norm(header)))
        if first is not None:
            problems.add(
                _Place(sheet, header, 1, column),
                Reason("IMP-33", {"cell": f"{get_column_letter(first)}1 ({layout.headers[first]})"}),
            )
    return layout


def _report_stray(layout: _Layout, row: int, column: int, problems: _Problems) -> None:
    """A value under no header cannot be put anywhere; say so once per column."""
    if column not in layout.stray:
        layout.stray.add(column)
        problems.add(
            _Place(layout.sheet, "", row, column),
            Reason("IMP-34"),
        )


@dataclass(slots=True)
class _Record:
    """One non-empty row of a list sheet, read."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)  # §2 key → value, for the cells that could be read
    given: set[str] = field(default_factory=set)  # §2 keys whose cell is not blank, readable or not
    extra: dict[str, Any] = field(default_factory=dict)

    def fields(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The row as a snapshot object (only ``keys``, if given), ``extra`` included when there is some."""
        chosen = self.values if keys is None else {k: v for k, v in self.values.items() if k in keys}
        return chosen | ({"extra": dict(self.extra)} if self.extra else {})


def _record(layout: _Layout, row: int, cells: Sequence[Any], problems: _Problems) -> _Record | None:
    """Read one row; ``None`` for a row with nothing in it (skipped, it holds nothing to lose)."""
    record = _Record(row)
    for column, cell in enumerate(cells, start=1):
        if _is_blank(cell.value):
            continue
        if column in layout.keys:
            key = layout.keys[column]
            record.given.add(key)
            try:
                record.values[key] = _parse(layout.columns[key][1], cell)
            except _Unreadable as exc:
                problems.add(layout.place(key, row), exc.reason)
        elif column in layout.extra:
            header = layout.extra[column]
            try:
                key, value = _known_extra(header, _extra_value(cell.value))
                record.extra[key] = value
            except _Unreadable as exc:
                problems.add(layout.extra_place(header, row), exc.reason)
        elif column not in layout.headers:
            _report_stray(layout, row, column, problems)
    return record if record.given or record.extra else None


@dataclass(frozen=True, slots=True)
class _Table:
    layout: _Layout
    records: list[_Record]


def _read_table(sheet: str, ws: Any, problems: _Problems) -> _Table:
    """The sheet's records in row order (the order Excel shows, whatever order the file stores them in)."""
    header, rows = header_first(_cell_rows(ws, sheet, problems))
    layout = _layout(sheet, header, COLUMNS[sheet], problems)
    records = [record for row, cells in rows if (record := _record(layout, row, cells, problems)) is not None]
    records.sort(key=lambda record: record.row)
    return _Table(layout, records)


@dataclass(frozen=True, slots=True)
class _Origin:
    """The row an object was read from; its fields are the row's cells (field → column key)."""

    layout: _Layout
    row: int
    columns: Mapping[str, str]


@dataclass(slots=True)
class _Build:
    """The snapshot document being built, and where each of its values came from, by JSON pointer.

    Rows are remembered per object (``objects``), not per cell, so a 20,000-instrument register does not
    hold half a million places; ``places`` holds the values that do not sit in their object's row.
    """

    problems: _Problems
    doc: dict[str, Any] = field(default_factory=dict)
    places: dict[str, _Place] = field(default_factory=dict)
    objects: dict[str, _Origin] = field(default_factory=dict)

    def locate(self, pointer: str) -> _Place | None:
        """The place of ``pointer``, or of the nearest enclosing value that has one."""
        child = ""
        while True:
            if pointer in self.places:
                return self.places[pointer]
            origin = self.objects.get(pointer)
            if origin is not None:
                if child in origin.columns:
                    return origin.layout.place(origin.columns[child], origin.row)
                return _Place(origin.layout.sheet, row=origin.row)
            if not pointer:
                return None
            pointer, child = pointer.rsplit("/", 1)

    def register(self, pointer: str, layout: _Layout, row: int, columns: Mapping[str, str]) -> None:
        """The object at ``pointer`` came from ``row``; ``columns`` maps its fields to the sheet's columns."""
        self.objects[pointer] = _Origin(layout, row, columns)


def _read_objects(build: _Build, sheet: str, ws: Any) -> None:
    """A sheet with one object per row (streams, points, instruments, calibrations, documents)."""
    if ws is None:
        return
    table = _read_table(sheet, ws, build.problems)
    name = SHEETS[sheet]
    own = {key: key for key in COLUMNS[sheet]}
    for index, record in enumerate(table.records):
        build.register(f"/{name}/{index}", table.layout, record.row, own)
    build.doc[name] = [record.fields() for record in table.records]


def _read_components(build: _Build, sheet: str, ws: Any) -> None:
    """器具组成: each row is one component of the instrument named in 器具编号 (a measuring system)."""
    if ws is None:
        return
    table = _read_table(sheet, ws, build.problems)
    instruments: list[dict[str, Any]] = build.doc.get("instruments", [])
    index_of: dict[Any, int] = {}
    for index, instrument in enumerate(instruments):
        index_of.setdefault(instrument.get("id"), index)
    own_keys = {k: k for k in COLUMNS[sheet] if k != "instrument"}
    for record in table.records:
        place = table.layout.place("instrument", record.row)
        ident = record.values.get("instrument")
        if ident is None:
            if "instrument" not in record.given:
                build.problems.add(place, REQUIRED)
            continue
        if ident not in index_of:
            build.problems.add(place, Reason("IMP-29", {"instrument": quote(ident)}))
            continue
        components = instruments[index_of[ident]].setdefault("components", [])
        build.register(
            f"/instruments/{index_of[ident]}/components/{len(components)}", table.layout, record.row, own_keys
        )
        components.append(record.fields(own_keys))


@dataclass(slots=True)
class _Person:
    """A person gathered from the 人员 rows that share a 姓名, with the row each value came from."""

    pointer: str
    fields: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    origin: dict[str, int] = field(default_factory=dict)  # field, or "extra:" + header → row

    def document(self) -> dict[str, Any]:
        extra = {"extra": self.extra} if self.extra else {}
        certificates = {"certificates": self.certificates} if self.certificates else {}
        return self.fields | extra | certificates


def _merge(
    person: _Person,
    into: dict[str, Any],
    values: Mapping[str, Any],
    row: int,
    prefix: str,
    place_of: Callable[[str], _Place],
    problems: _Problems,
) -> None:
    """Take a row's person-level values; rows of one person may repeat or omit them, but not contradict."""
    for key, value in values.items():
        if key not in into:
            into[key] = value
            person.origin[prefix + key] = row
        elif into[key] != value:
            first = person.origin[prefix + key]
            problems.add(
                place_of(key),
                Reason("IMP-30", {"row": str(first), "first": quote(into[key]), "value": quote(value)}),
            )


def _person_rows(build: _Build, table: _Table, person: _Person, record: _Record) -> None:
    """Fold one 人员 row into its person: the person's columns, then the certificate the row carries."""
    layout, row = table.layout, record.row
    own = {k: v for k, v in record.values.items() if k in PERSON_KEYS}
    _merge(person, person.fields, own, row, "", lambda k: layout.place(k, row), build.problems)
    for key in PERSON_KEYS:
        pointer = f"{person.pointer}/{key}"
        if person.origin.get(key) == row or pointer not in build.places:
            build.places[pointer] = layout.place(key, row)
    extra = {h: v for h, v in record.extra.items() if not h.startswith(CERTIFICATE_EXTRA_PREFIX)}
    _merge(person, person.extra, extra, row, "extra:", lambda h: layout.extra_place(h, row), build.problems)

    certificate_extra = {
        h.removeprefix(CERTIFICATE_EXTRA_PREFIX): v
        for h, v in record.extra.items()
        if h.startswith(CERTIFICATE_EXTRA_PREFIX)
    }
    if certificate_extra or any(column in record.given for column in CERTIFICATE_KEYS):
        certificate = {CERTIFICATE_KEYS[k]: v for k, v in record.values.items() if k in CERTIFICATE_KEYS}
        pointer = f"{person.pointer}/certificates/{len(person.certificates)}"
        build.register(pointer, layout, row, _CERTIFICATE_COLUMNS)
        person.certificates.append(certificate | ({"extra": certificate_extra} if certificate_extra else {}))


def _read_personnel(build: _Build, sheet: str, ws: Any) -> None:
    """人员: one row per certificate; rows sharing a 姓名 are one person (a row without 姓名 is its own)."""
    if ws is None:
        return
    table = _read_table(sheet, ws, build.problems)
    people: list[_Person] = []
    by_name: dict[str, _Person] = {}
    for record in table.records:
        name = record.values.get("name")
        person = by_name.get(name) if isinstance(name, str) else None
        if person is None:
            person = _Person(f"/personnel/{len(people)}")
            people.append(person)
            if isinstance(name, str):
                by_name[name] = person
            build.places[person.pointer] = _Place(sheet, row=record.row)
        _person_rows(build, table, person, record)
    build.doc["personnel"] = [person.document() for person in people]


def _read_organization(build: _Build, sheet: str, ws: Any) -> None:
    """单位信息: 项目 / 值 rows for the organization and the snapshot's year and date."""
    build.places["/organization"] = _Place(sheet)
    if ws is None:
        _place_items(build, _Place(sheet))
        return
    header, rows = header_first(_cell_rows(ws, sheet, build.problems))
    layout = _layout(sheet, header, ITEM_COLUMNS, build.problems)
    for column, text in layout.extra.items():
        build.problems.add(_Place(sheet, text, 1, column), Reason("IMP-35"))
    if set(layout.keys.values()) != set(ITEM_COLUMNS):
        build.problems.add(_Place(sheet), Reason("IMP-36"))
        _place_items(build, _Place(sheet))
        return
    build.doc["organization"] = {}
    seen: dict[str, int] = {}
    for row, cells in sorted(rows, key=lambda numbered: numbered[0]):
        _read_item(build, layout, row, cells, seen)
    for key, (label, _) in ORGANIZATION_ITEMS.items():
        if key not in seen:
            _place_items(build, _Place(sheet, label, note=_MISSING_ITEM), [key])


def _place_items(build: _Build, place: _Place, keys: Iterable[str] = ORGANIZATION_ITEMS) -> None:
    """Point the items' JSON pointers at ``place`` (a missing sheet, or a missing item)."""
    for key in keys:
        build.places[_item_pointer(key)] = place


def _item_pointer(key: str) -> str:
    return f"/{key}" if key in SNAPSHOT_ITEMS else f"/organization/{key}"


def _read_item(build: _Build, layout: _Layout, row: int, cells: Sequence[Any], seen: dict[str, int]) -> None:
    """One 项目 / 值 row: a known item, or an extra of the organization (or of the snapshot, ``快照.X``)."""
    for column, cell in enumerate(cells, start=1):
        if column not in layout.headers and not _is_blank(cell.value):
            _report_stray(layout, row, column, build.problems)
    item, value = (_cell_at(cells, layout.column_of(key)) for key in ("item", "value"))
    if isinstance(item, BadCell):
        build.problems.add(layout.place("item", row), item.reason)
        return
    if _is_blank(item.value):
        if not _is_blank(value.value):
            build.problems.add(layout.place("item", row), Reason("IMP-37"))
        return
    label = _as_text(item.value)
    key = _ITEM_LOOKUP.get(_norm(label))
    if (key or label) in seen:
        build.problems.add(layout.place("item", row), Reason("IMP-38", {"row": str(seen[key or label])}))
        return
    seen[key or label] = row
    if key is not None:
        place = _Place(layout.sheet, label, row, layout.column_of("value"))
        build.places[_item_pointer(key)] = place
        if not _is_blank(value.value):
            _put_item(build, key, value, place)
    elif not _is_blank(value.value):
        try:
            _put_item_extra(build, label, _extra_value(value.value))
        except _Unreadable as exc:
            build.problems.add(layout.place("value", row), exc.reason)


def _cell_at(cells: Sequence[Any], column: int) -> Any:
    """The cell in ``column`` (1-based); a row ends at its last stored cell, so it may be past the end."""
    return cells[column - 1] if column <= len(cells) else EMPTY


def _put_item(build: _Build, key: str, cell: Any, place: _Place) -> None:
    try:
        parsed = _parse(ORGANIZATION_ITEMS[key][1], cell)
    except _Unreadable as exc:
        build.problems.add(place, exc.reason)
        return
    (build.doc if key in SNAPSHOT_ITEMS else build.doc["organization"])[key] = parsed


def _put_item_extra(build: _Build, label: str, value: Any) -> None:
    if label.startswith(SNAPSHOT_EXTRA_PREFIX):
        build.doc.setdefault("extra", {})[label.removeprefix(SNAPSHOT_EXTRA_PREFIX)] = value
    else:
        build.doc["organization"].setdefault("extra", {})[label] = value


_SHEET_READERS: Final[dict[str, Callable[[_Build, str, Any], None]]] = {
    "单位信息": _read_organization,
    "器具组成": _read_components,
    "人员": _read_personnel,
}


def _match_sheets(book: Any, problems: _Problems) -> dict[str, Any]:
    """Canonical sheet name → worksheet.  An unknown sheet with content is a problem (its data would be lost);
    an unknown empty one (Excel's "Sheet1") holds nothing, and the assessment's result sheets are output, so
    both are passed over."""
    found: dict[str, Any] = {}
    for ws in book.worksheets:
        name = _SHEET_LOOKUP.get(_norm(ws.title))
        if _norm(ws.title) in _RESULT_SHEET_NAMES:
            continue
        if name is None:
            if _has_values(ws):
                accepted = ", ".join(f"{sheet} ({key})" for sheet, key in SHEETS.items())
                problems.add(_Place(ws.title), Reason("IMP-32", {"accepted": accepted}))
        elif name in found:
            problems.add(
                _Place(ws.title),
                Reason("IMP-31", {"sheet": name, "first": quote(found[name].title)}),
            )
        else:
            found[name] = ws
    for name in REQUIRED_SHEETS:
        if name not in found:
            problems.add(_Place(name), _MISSING_SHEET)
    return found


def _open(path: Path) -> Any:
    """The workbook, read-only.  Anything openpyxl trips over while opening a file is the file's fault:
    a damaged or hostile upload is a located refusal (exit 2), never a traceback."""
    try:
        part = refuse_doctype(path)
    except (
        OSError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise SnapshotError([located(str(path), "IMP-04", detail=quote(str(exc)))]) from exc
    if part is not None:
        raise SnapshotError([located(str(path), "IMP-05", part=part)])
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a parser of hostile input raises anything; all mean "unreadable"
        raise SnapshotError(
            [located(str(path), "IMP-04", detail=quote(f"{type(exc).__name__}: {exc}"))]
        ) from exc


def _validate(build: _Build) -> Snapshot:
    """Validate exactly as the JSON reader does, then put every problem in its cell."""
    try:
        snapshot = normalize_terms(normalize_ids(convert(build.doc)))
    except SchemaProblems as exc:
        for pointer, reason in exc.problems:
            build.problems.add_derived(build.locate(pointer), pointer, reason)
        raise build.problems.error() from exc
    for problem in check_integrity(snapshot):
        build.problems.add_derived(build.locate(problem.pointer), problem.pointer, problem.message)
    for at, why in value_problems(snapshot):
        build.problems.add(build.locate(at) or _Place("单位信息"), why)
    if build.problems:
        raise build.problems.error()
    return snapshot


def read_xlsx(path: Path) -> Snapshot:
    """The snapshot in the workbook ``path``; :class:`SnapshotError` with every located problem if invalid."""
    book = _open(path)
    build = _Build(_Problems(str(path)))
    try:
        sheets = _match_sheets(book, build.problems)
        for sheet in SHEETS:
            _SHEET_READERS.get(sheet, _read_objects)(build, sheet, sheets.get(sheet))
    finally:
        book.close()
    return _validate(build)


# --------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------


def _to_cell(kind: str, value: Any) -> Any:
    """A field's value as the workbook shows it: Chinese terms, 是 / 否, ids joined by 、."""
    if value is None:
        return None
    if kind in ENUM_TERMS:
        return ENUM_TERMS[kind][value]
    if kind in OPEN_KINDS:
        return term_name(kind, value)
    if kind == "bool":
        return BOOLEAN_TEXT[value]
    if kind == "refs":
        return _join_refs(value)
    return value


def _join_refs(refs: Sequence[str]) -> str:
    """The ids in one cell.  An id the reader would split or trim cannot be written there: refuse it."""
    for ref in refs:
        if not ref or ref != ref.strip() or _REF_SPLIT.search(ref):
            raise ValueError(f"measuring point id {ref!r} cannot be listed in one cell (separator or blanks)")
    return REF_SEPARATOR.join(refs)


def _extra_to_cell(value: Any) -> Any:
    """An ``extra`` value in a cell: scalars as they are, dates as ISO text, lists and objects as JSON."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, date | time):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def _extra_cells(extra: Mapping[str, Any], sheet: str, prefix: str = "") -> dict[str, Any]:
    """Header → value for an object's extra (a key the product reads under its Chinese header, its value by
    name).  A key that would read back as something else is refused."""
    cells = {}
    for key, value in extra.items():
        known = EXTRA_TERMS.get(key) if not prefix else None
        if known is not None:
            header, names = known
            cells[header] = _extra_to_cell(names.get(value, value) if isinstance(value, str) else value)
            continue
        if not prefix and _norm(key) in _EXTRA_HEADERS:
            raise ValueError(
                f"{sheet}: extra key {key!r} cannot be a column (it would read back as another key)"
            )
        header = prefix + key
        clash = _norm(header) in _RESERVED[sheet] or (not prefix and _norm(header) in _EXTRA_HEADERS)
        clash = clash or (not prefix and header.startswith(_EXTRA_PREFIX_OF_SHEET.get(sheet, "\0")))
        if clash or not header.strip():
            raise ValueError(
                f"{sheet}: extra key {key!r} cannot be a column (it would read back as another field)"
            )
        cells[header] = _extra_to_cell(value)
    return cells


def _row(obj: Record, sheet: str) -> dict[str, Any]:
    """Header → cell value for the fields ``obj`` has among the sheet's columns, then its extra."""
    fields = obj.__struct_fields__
    row = {
        header: _to_cell(kind, getattr(obj, key))
        for key, (header, kind) in COLUMNS[sheet].items()
        if key in fields
    }
    return row | _extra_cells(obj.extra, sheet)


def _personnel_rows(people: Sequence[Person]) -> list[dict[str, Any]]:
    """One row per certificate (one row for a person without any), the person's columns repeated on each."""
    repeated = [name for name, count in Counter(p.name for p in people).items() if count > 1]
    if repeated:
        raise ValueError(
            f"人员: two people named {repeated[0]!r}; rows sharing 姓名 would read back as one person"
        )
    columns = COLUMNS["人员"]
    rows = []
    for person in people:
        base = _row(person, "人员")
        for certificate in person.certificates or (None,):
            row = dict(base)
            if certificate is not None:
                for column, key in CERTIFICATE_KEYS.items():
                    header, kind = columns[column]
                    row[header] = _to_cell(kind, getattr(certificate, key))
                row |= _extra_cells(certificate.extra, "人员", CERTIFICATE_EXTRA_PREFIX)
            rows.append(row)
    return rows


def _organization_rows(snapshot: Snapshot) -> list[list[Any]]:
    """项目 / 值 rows: every known item (blank when not given), then the extras."""
    org = snapshot.organization
    rows: list[list[Any]] = [
        [label, _to_cell(kind, getattr(snapshot if key in SNAPSHOT_ITEMS else org, key))]
        for key, (label, kind) in ORGANIZATION_ITEMS.items()
    ]
    rows += [[k, v] for k, v in _extra_cells(org.extra, "单位信息").items()]
    rows += [[k, v] for k, v in _extra_cells(snapshot.extra, "单位信息", SNAPSHOT_EXTRA_PREFIX).items()]
    return rows


def _put(cell: Any, value: Any) -> None:
    """Write one value so that it reads back as itself.

    Text is forced to be text (openpyxl would otherwise take ``=…`` for a formula and ``#N/A`` for an
    error).  Numbers are written as their shortest round-trip text, because openpyxl formats them with
    ``%.16g``, which loses the 17th digit a float can need.  Dates get a date format.
    """
    if _is_blank(value):
        return
    if isinstance(value, bool):
        cell.value = value
    elif isinstance(value, int | float) and (isinstance(value, int) or math.isfinite(value)):
        cell.value = repr(value)
        cell.data_type = "n"
    elif isinstance(value, date) and not isinstance(value, datetime) and value >= FIRST_EXCEL_DATE:
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value.isoformat() if isinstance(value, date) else str(value)
        cell.data_type = "s"


def _width(value: Any) -> int:
    """Display width of a value: a CJK character takes two columns."""
    if isinstance(value, date):
        return 10
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_BOLD: Final = Font(bold=True)


def _write_sheet(book: Any, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """One sheet: bold frozen header row, values, columns as wide as their content (within reason)."""
    ws = book.create_sheet(title)
    widths = [_width(header) for header in headers]
    for column, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=column)
        _put(cell, header)
        cell.font = _BOLD
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            _put(ws.cell(row=row, column=column), value)
            widths[column - 1] = max(widths[column - 1], _width(value))
    ws.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)


def _write_table(book: Any, sheet: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """A list sheet: its known columns always (an empty list still gives a usable template), then extras."""
    headers = ([ROW_NUMBER_HEADER] if sheet == "碳计量器具" else []) + [h for h, _ in COLUMNS[sheet].values()]
    for row in rows:
        headers += [header for header in row if header not in headers]
    _write_sheet(book, sheet, headers, ([row.get(h) for h in headers] for row in rows))


def write_xlsx(snapshot: Snapshot, path: Path) -> None:
    """Write ``snapshot`` as a workbook that :func:`read_xlsx` reads back equal.

    A cell holds one scalar, so an ``extra`` value that is a list or an object is written as JSON text (and
    reads back as that text), and an ``extra`` value of ``None`` or ``""`` is an empty cell (read back:
    absent).  Raises :class:`ValueError` rather than write a file that would read back different: an extra
    key that would be taken for a known column, two people with one name, a point id holding a separator.
    """
    book = Workbook()
    for default_sheet in list(book.worksheets):
        book.remove(default_sheet)
    _write_sheet(book, "单位信息", [h for h, _ in ITEM_COLUMNS.values()], _organization_rows(snapshot))
    _write_table(book, "碳源流", [_row(s, "碳源流") for s in snapshot.source_streams])
    _write_table(book, "计量点", [_row(p, "计量点") for p in snapshot.measuring_points])
    instruments = [
        {ROW_NUMBER_HEADER: n} | _row(i, "碳计量器具") for n, i in enumerate(snapshot.instruments, 1)
    ]
    _write_table(book, "碳计量器具", instruments)
    instrument_column = COLUMNS["器具组成"]["instrument"][0]
    components = [
        {instrument_column: i.id} | _row(c, "器具组成") for i in snapshot.instruments for c in i.components
    ]
    _write_table(book, "器具组成", components)
    _write_table(book, "检定校准记录", [_row(c, "检定校准记录") for c in snapshot.calibrations])
    _write_table(book, "人员", _personnel_rows(snapshot.personnel))
    _write_table(book, "管理制度", [_row(d, "管理制度") for d in snapshot.documents])
    _write_table(book, "生产设施", [_row(f, "生产设施") for f in snapshot.facilities])
    book.save(path)
