"""The cells of a workbook's sheets, every one of them read or reported — never dropped, never a traceback.

openpyxl's read-only sheets trust the file: a row stored out of order, or numbered 0 or below, is skipped
without a word; a cell it cannot decode (a shared-string index out of range, ``t="n"`` holding text, a bad
``t="d"`` date, a cell reference ``!!``) raises out of the middle of the sheet; a truncated sheet raises a
parse error; and a formula without a cached value reads as an empty cell.  A register whose calibration
record vanished that way flips an instrument's verdict, so this module walks the sheet XML itself, with
openpyxl's cell decoding, one cell at a time:

- rows come in the order the file stores them, each with its number; the reader puts the records in row
  order.  A row numbered outside 1..1,048,576 or stored twice is reported, not read;
- a cell that cannot be decoded becomes a :class:`BadCell` that says why, so the sheet reader reports it at
  its place (sheet, row, column, header) and goes on with the next cell;
- any XML part with a DOCTYPE (entity declarations: the "billion laughs") is refused before openpyxl opens
  the workbook (:func:`refuse_doctype`).

It uses openpyxl's ``WorkSheetParser.parse_cell`` and the workbook's shared strings and date styles, which
are openpyxl internals: constraints.txt pins openpyxl, and ``tests/io/test_hostile_input.py`` and
``tests/io/test_fuzz_readers.py`` cover them.
"""

from __future__ import annotations

import re
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from carbonmeter.io.problems import Reason, quote

#: The sheet limits of the file format (ECMA-376 / Excel): beyond them no program shows the cell.
MAX_ROW: Final = 1_048_576
MAX_COLUMN: Final = 16_384

_ROW: Final = f"{{{SHEET_MAIN_NS}}}row"
_VALUE: Final = f"{{{SHEET_MAIN_NS}}}v"
_FORMULA: Final = f"{{{SHEET_MAIN_NS}}}f"
_ERRORS: Final = frozenset({"e"})
#: A cell reference: column letters (at most XFD, checked after) and a row number.
_REFERENCE: Final = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")

#: Called with (row, column, reason) for a problem of the sheet's structure; 0 means "not known".
Report = Callable[[int, int, Reason], None]


@dataclass(frozen=True, slots=True)
class Cell:
    """A decoded cell: its value, and its number format when someone asks (a float in a text column)."""

    value: Any
    style_id: int
    book: Any

    @property
    def number_format(self) -> str:
        try:
            format_id = self.book._cell_styles[self.style_id].numFmtId
            if format_id < BUILTIN_FORMATS_MAX_SIZE:
                return str(BUILTIN_FORMATS.get(format_id, "General"))
            return str(self.book._number_formats[format_id - BUILTIN_FORMATS_MAX_SIZE])
        except (IndexError, KeyError, AttributeError, TypeError):
            return "General"


@dataclass(frozen=True, slots=True)
class BadCell:
    """A cell that is there but cannot be read; ``reason`` says why.  Its value is itself: not blank."""

    reason: Reason

    @property
    def value(self) -> BadCell:
        return self

    @property
    def number_format(self) -> str:
        return "General"


EMPTY: Final = Cell(None, 0, None)


def refuse_doctype(path: Path) -> str | None:
    """The name of the first XML part of the workbook that declares a DOCTYPE, or ``None``.

    A workbook never needs one; a DOCTYPE is how entity expansion attacks start.  Only each part's prolog is
    parsed (up to its root element), so this costs nothing on a large sheet.
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith((".xml", ".rels", ".vml")) and _has_doctype(archive, info):
                return info.filename
    return None


class _RootReached(Exception):
    pass


def _has_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    parser = xml.parsers.expat.ParserCreate()
    found = []

    def doctype(*_: Any) -> None:
        found.append(True)
        raise _RootReached

    def root(*_: Any) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    with archive.open(info) as stream:
        try:
            while chunk := stream.read(64 * 1024):
                parser.Parse(chunk, False)
        except _RootReached:
            pass
        except xml.parsers.expat.ExpatError:
            return False  # not XML: openpyxl reports what it cannot read
    return bool(found)


class _Parser(WorkSheetParser):
    """openpyxl's cell decoding without its row bookkeeping, which is what drops rows."""

    book: Any = None


def _decode(parser: _Parser, element: Any, shared_count: int) -> dict[str, Any] | Reason:
    """One ``<c>``: openpyxl's decoded dict, or the reason it cannot be read."""
    kind = element.get("t", "n")
    cached = element.find(_VALUE)
    if element.find(_FORMULA) is not None and cached is None:
        return Reason("IMP-15")
    if kind == "s" and cached is not None:
        try:
            index = int(cached.text or "")
        except ValueError:
            return Reason("IMP-12", {"kind": "s", "value": quote(cached.text)})
        if not 0 <= index < shared_count:
            return Reason("IMP-13", {"index": str(index), "count": str(shared_count)})
    try:
        cell: dict[str, Any] = parser.parse_cell(element)
    except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError):
        text = cached.text if cached is not None else None
        return Reason("IMP-12", {"kind": quote(kind), "value": quote(text)})
    if cell["data_type"] in _ERRORS:
        return Reason("IMP-14", {"value": quote(cell["value"])})
    return cell


def _position(element: Any, row: int, previous: int, report: Report) -> int | None:
    """The cell's column (1-based), from its reference or, without one, right after ``previous``."""
    ref = element.get("r")
    if ref is None:
        return previous + 1
    parts = _REFERENCE.fullmatch(ref)
    column = column_index_from_string(parts.group(1)) if parts else 0
    if parts is None or not 1 <= column <= MAX_COLUMN:
        report(row, 0, Reason("IMP-09", {"ref": quote(ref)}))
        return None
    at_row = int(parts.group(2))
    if at_row != row:
        report(row, column, Reason("IMP-11", {"ref": quote(ref), "row": str(row)}))
        return None
    return int(column)


def _row_cells(parser: _Parser, element: Any, row: int, shared_count: int, report: Report) -> list[Any]:
    cells: dict[int, Any] = {}
    column = 0
    for child in element:
        if not isinstance(child.tag, str) or not child.tag.endswith("}c"):
            continue
        at = _position(child, row, column, report)
        if at is None:
            continue
        column = at
        if at in cells:
            report(row, at, Reason("IMP-10", {"ref": f"{get_column_letter(at)}{row}"}))
            continue
        decoded = _decode(parser, child, shared_count)
        if isinstance(decoded, Reason):
            cells[at] = BadCell(decoded)
        elif decoded["value"] is not None:
            cells[at] = Cell(decoded["value"], int(decoded["style_id"] or 0), parser.book)
    width = max(cells, default=0)
    return [cells.get(c, EMPTY) for c in range(1, width + 1)]


def _row_number(element: Any, previous: int, report: Report) -> int | None:
    text = element.get("r")
    if text is None:
        return previous + 1
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ROW:
        report(0, 0, Reason("IMP-07", {"number": quote(text)}))
        return None
    return number


def sheet_rows(book: Any, ws: Any, report: Report) -> Iterator[tuple[int, Sequence[Any]]]:
    """Every stored row of ``ws`` as (Excel row number, cells by column from A), in the file's order.

    Problems of the structure (a bad row number, a row or cell stored twice, a damaged sheet) go to
    ``report``; a cell that cannot be decoded is a :class:`BadCell` in its place.
    """
    shared = ws._shared_strings
    parser = _Parser(
        None,  # type: ignore[arg-type]  # no source: only parse_cell is used
        shared,
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,
        timedelta_formats=book._timedelta_formats,
    )
    parser.book = book
    seen: set[int] = set()
    previous = 0
    try:
        with book._archive.open(ws._worksheet_path) as source:
            for _, element in iterparse(source):
                if element.tag != _ROW:
                    continue
                number = _row_number(element, previous, report)
                if number is None:
                    element.clear()
                    continue
                previous = number
                if number in seen:
                    report(number, 0, Reason("IMP-08", {"number": str(number)}))
                    element.clear()
                    continue
                seen.add(number)
                cells = _row_cells(parser, element, number, len(shared), report)
                element.clear()
                yield number, cells
    except (ParseError, zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, ValueError) as exc:
        report(0, 0, Reason("IMP-06", {"detail": quote(str(exc))}))


Rows = Iterator[tuple[int, Sequence[Any]]]


def header_first(rows: Rows) -> tuple[Sequence[Any], Rows]:
    """Row 1 (the headers; empty if the sheet has none) and the other rows.

    Files keep row 1 first; when one does not, the whole sheet is read to find it.
    """
    first = next(rows, None)
    if first is None:
        return (), iter(())
    if first[0] == 1:
        return first[1], rows
    rest = [first, *rows]
    header = next((cells for number, cells in rest if number == 1), ())
    return header, iter([row for row in rest if row[0] != 1])
