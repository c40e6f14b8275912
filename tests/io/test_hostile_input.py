"""Files nobody here wrote: every row is read or reported, and bad input is exit 2 with a located line.

Each case was a defect (issue 9): a row lost without a word, or exit 1 with a traceback.  They run through
the real command-line entry (``carbonmeter.cli.main.main``) in this process.
"""

from __future__ import annotations

import gc
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carbonmeter.cli.main import main
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import read_xlsx, write_xlsx

MINI = Path(__file__).parent.parent / "data" / "mini.json"
#: In the workbook ``write_xlsx`` makes, the sheets in order; 检定校准记录 is the sixth.
CALIBRATIONS = "xl/worksheets/sheet6.xml"
INSTRUMENTS = "xl/worksheets/sheet4.xml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process; ``assess`` switches the cyclic collector off, so it is put back."""
    enabled = gc.isenabled()
    try:
        code = main(list(args))
    finally:
        if enabled:
            gc.enable()
    out, err = capsys.readouterr()
    return code, out, err


def assess(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    return run(capsys, "assess", str(path), "--format", "json")


@pytest.fixture
def mini_book(tmp_path: Path) -> Path:
    path = tmp_path / "mini.xlsx"
    write_xlsx(parse_json(MINI.read_bytes(), str(MINI)), path)
    return path


def patch(book: Path, out: Path, member: str, change: Callable[[str], str]) -> Path:
    """A copy of ``book`` with the XML of ``member`` changed (the way another program might write it)."""
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item.filename, data)
    return out


def row_xml(xml: str, number: int) -> str:
    found = re.search(rf'<row r="{number}"[^>]*>.*?</row>', xml)
    assert found, number
    return found.group(0)


# ------------------------------------------------------------------------------------------------
# Every row of the file is read or reported
# ------------------------------------------------------------------------------------------------


def test_a_row_stored_out_of_order_is_read(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """I4's failed recalibration (row 6) stored after row 8: openpyxl skipped it and I4 read as traceable."""

    def move_row_6_last(xml: str) -> str:
        row = row_xml(xml, 6)
        return xml.replace(row, "").replace("</sheetData>", row + "</sheetData>")

    moved = patch(mini_book, tmp_path / "moved.xlsx", CALIBRATIONS, move_row_6_last)
    assert read_xlsx(moved) == read_xlsx(mini_book)
    code, out, _ = assess(capsys, moved)
    assert code == 0
    assert {i["id"]: i["traceable"] for i in json.loads(out)["instruments"]}["I4"] is False


def test_header_row_stored_last_is_still_the_header(mini_book: Path, tmp_path: Path) -> None:
    def move_row_1_last(xml: str) -> str:
        row = row_xml(xml, 1)
        return xml.replace(row, "").replace("</sheetData>", row + "</sheetData>")

    moved = patch(mini_book, tmp_path / "moved.xlsx", CALIBRATIONS, move_row_1_last)
    assert read_xlsx(moved) == read_xlsx(mini_book)


@pytest.mark.parametrize("number", ["0", "-3", "1048577", "x"])
def test_a_row_numbered_outside_the_sheet_is_reported(
    number: str, mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def renumber_row_6(xml: str) -> str:
        row = row_xml(xml, 6)
        bare = re.sub(r' r="[A-Z]+6"', "", row).replace('<row r="6"', f'<row r="{number}"')
        return xml.replace(row, bare)

    bad = patch(mini_book, tmp_path / "bad.xlsx", CALIBRATIONS, renumber_row_6)
    code, out, err = assess(capsys, bad)
    assert (code, out) == (2, "")
    assert f"{bad}: 检定校准记录: row number '{number}' is not a valid Excel row" in err
    assert "行号" in err


def test_a_row_stored_twice_is_reported(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def duplicate_row_6(xml: str) -> str:
        row = row_xml(xml, 6)
        return xml.replace("</sheetData>", row + "</sheetData>")

    bad = patch(mini_book, tmp_path / "bad.xlsx", CALIBRATIONS, duplicate_row_6)
    code, _, err = assess(capsys, bad)
    assert code == 2
    assert f"{bad}: 检定校准记录 row 6: row 6 is stored twice in the file" in err


def test_a_cell_stored_twice_or_outside_its_row_is_reported(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def twice(xml: str) -> str:
        row = row_xml(xml, 6)
        cell = re.search(r'<c r="A6".*?</c>', row)
        assert cell
        return xml.replace(row, row.replace("</row>", cell.group(0).replace('"A6"', '"A9"') + "</row>"))

    bad = patch(mini_book, tmp_path / "bad.xlsx", CALIBRATIONS, twice)
    code, _, err = assess(capsys, bad)
    assert code == 2 and "检定校准记录!A6: cell 'A9' is stored inside row 6" in err


# ------------------------------------------------------------------------------------------------
# Damaged or hostile workbooks: exit 2, located, never a traceback
# ------------------------------------------------------------------------------------------------


def cell_of_row(xml: str, ref: str) -> str:
    found = re.search(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml)
    assert found, ref
    return found.group(0)


XLSX_CASES: dict[str, tuple[str, Callable[[str], str], str]] = {
    "truncated sheet": (
        INSTRUMENTS,
        lambda xml: xml[: len(xml) // 2],
        "碳计量器具: the sheet's XML is damaged",
    ),
    "doctype": (
        INSTRUMENTS,
        lambda xml: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + xml.split("?>", 1)[-1],
        "the workbook's xl/worksheets/sheet4.xml holds a DOCTYPE/entity declaration",
    ),
    "shared string out of range": (
        INSTRUMENTS,
        lambda xml: xml.replace(cell_of_row(xml, "B2"), '<c r="B2" t="s"><v>99999</v></c>'),
        "碳计量器具!B2 (编号): the cell refers to shared string 99999",
    ),
    "t=n with text": (
        INSTRUMENTS,
        lambda xml: xml.replace(cell_of_row(xml, "B2"), '<c r="B2" t="n"><v>abc</v></c>'),
        "碳计量器具!B2 (编号): the cell's content does not match its declared type ('n'): 'abc'",
    ),
    "t=d bad date": (
        CALIBRATIONS,
        lambda xml: xml.replace(cell_of_row(xml, "C2"), '<c r="C2" t="d"><v>2025-13-45</v></c>'),
        "检定校准记录!C2 (日期): the cell's content does not match its declared type ('d')",
    ),
    "cell reference !!": (
        INSTRUMENTS,
        lambda xml: xml.replace(cell_of_row(xml, "B2"), '<c r="!!" t="inlineStr"><is><t>I1</t></is></c>'),
        "碳计量器具 row 2: cell reference '!!' is not valid",
    ),
    "excel error value": (
        INSTRUMENTS,
        lambda xml: xml.replace(cell_of_row(xml, "C2"), '<c r="C2" t="e"><v>#N/A</v></c>'),
        "碳计量器具!C2 (器具名称): the cell holds the Excel error value '#N/A'",
    ),
}


@pytest.mark.parametrize("case", sorted(XLSX_CASES))
def test_damaged_workbook_is_exit_2_with_a_located_line(
    case: str, mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    member, change, expected = XLSX_CASES[case]
    bad = patch(mini_book, tmp_path / "bad.xlsx", member, change)
    code, out, err = assess(capsys, bad)
    assert (code, out) == (2, ""), err
    assert f"{bad}: {expected}" in err
    assert "Traceback" not in err


def test_formula_without_a_cached_value_is_an_error_at_its_cell(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An optional column (出厂编号) holding =A1 never calculated: read as empty before, silently."""
    letter = "L"
    assert load_workbook(mini_book)["碳计量器具"][f"{letter}1"].value == "出厂编号"

    def formula(xml: str) -> str:
        return xml.replace(cell_of_row(xml, f"{letter}2"), f'<c r="{letter}2"><f>CONCAT("A","1")</f></c>')

    bad = patch(mini_book, tmp_path / "bad.xlsx", INSTRUMENTS, formula)
    code, _, err = assess(capsys, bad)
    assert code == 2
    assert f"{bad}: 碳计量器具!{letter}2 (出厂编号): the formula has no cached value" in err
    assert "公式无缓存值，请在 Excel 中重新计算后保存" in err


def test_random_bytes_named_xlsx_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "noise.xlsx"
    bad.write_bytes(bytes(range(256)) * 8)
    code, _, err = assess(capsys, bad)
    assert code == 2 and f"{bad}: not a readable .xlsx workbook" in err


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def json_case(where: str, depth: int) -> bytes:
    doc = MINI.read_text(encoding="utf-8")
    if where == "top":
        return nested(depth).encode()
    key = '"extra": ' if where == "extra" else '"zz": '
    return doc.replace('"organization": {', '"organization": {' + key + wrap(where, depth) + ", ", 1).encode()


def wrap(where: str, depth: int) -> str:
    return "{" + '"x": ' + nested(depth) + "}" if where == "extra" else nested(depth)


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("where", ["top", "extra", "unknown key"])
def test_deeply_nested_json_is_exit_2(
    where: str, depth: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(json_case(where, depth))
    code, out, err = assess(capsys, path)
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}: nested deeper than") and "嵌套层数过深" in err


def test_invalid_utf8_is_located_by_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = MINI.read_bytes()
    at = data.index("烟煤".encode())
    path = tmp_path / "latin.json"
    path.write_bytes(data[:at] + b"\xff" + data[at + 1 :])
    code, _, err = assess(capsys, path)
    assert code == 2 and err == (
        f"{path}: not UTF-8 text: byte {at} cannot be decoded / 不是 UTF-8 文本：第 {at} 字节无法解码\n"
    )


def test_random_bytes_named_json_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "noise.json"
    path.write_bytes(bytes(range(256)) * 8)
    assert assess(capsys, path)[0] == 2
    path.write_bytes(b"\x00\x01 not json at all")
    code, _, err = assess(capsys, path)
    assert code == 2 and f"{path}: not valid JSON" in err


def test_an_overflowing_total_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two streams of 1.7e308: the assessment printed ``"total_emissions_t": null`` with exit 0."""
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    for stream in doc["source_streams"][:2]:
        stream["annual_emissions_t"] = 1.7e308
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = assess(capsys, path)
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}: /source_streams/1/annual_emissions_t: the sum of the source streams'")
    xlsx = tmp_path / "huge.xlsx"
    write_xlsx(parse_json(MINI.read_bytes(), "mini"), xlsx)
    code, _, err = run(capsys, "convert", str(path), str(tmp_path / "x.xlsx"))
    assert code == 2


def test_a_value_out_of_float_range_is_refused(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``1e999`` reads as infinity from a cell; the JSON reader's own range check refuses it already."""
    text = MINI.read_text(encoding="utf-8").replace(
        '"annual_emissions_t": 500.0', '"annual_emissions_t": 1e999'
    )
    path = tmp_path / "inf.json"
    path.write_text(text, encoding="utf-8")
    code, _, err = assess(capsys, path)
    assert code == 2 and f"{path}: /source_streams/3/annual_emissions_t: Number out of range" in err

    def infinite(xml: str) -> str:
        return xml.replace(cell_of_row(xml, "F5"), '<c r="F5" t="inlineStr"><is><t>1e999</t></is></c>')

    bad = patch(mini_book, tmp_path / "inf.xlsx", "xl/worksheets/sheet2.xml", infinite)
    code, _, err = assess(capsys, bad)
    assert code == 2
    assert f"{bad}: 碳源流!F5 (年排放量(tCO2e)): the number is out of range (not finite)" in err


def test_messages_quote_at_most_200_characters_of_a_value(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 5 MB status gave 5 MB of stderr."""
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["instruments"][0]["status"] = "x" * 5_000_000
    doc["measuring_points"][0]["stream"] = "y" * 5_000_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = assess(capsys, path)
    assert code == 2 and len(err) < 5_000 and "…[5,000,002]" in err

    def long_text(xml: str) -> str:
        return xml.replace(
            cell_of_row(xml, "S2"), '<c r="S2" t="inlineStr"><is><t>' + "z" * 1_000_000 + "</t></is></c>"
        )

    bad = patch(mini_book, tmp_path / "big.xlsx", INSTRUMENTS, long_text)
    code, _, err = assess(capsys, bad)
    assert code == 2 and len(err) < 5_000 and "…[1,000,002]" in err


def test_json_wrong_early_and_truncated_later_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz test: the typed decoder refuses a key before it sees the text end."""
    path = tmp_path / "cut.json"
    path.write_bytes(b'{\n "rchema":')
    code, _, err = assess(capsys, path)
    assert code == 2 and err.startswith(f"{path}: not valid JSON")


def test_an_empty_cell_reference_is_reported(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz test: ``r=""`` crashed openpyxl's coordinate parser (UnboundLocalError)."""
    bad = patch(mini_book, tmp_path / "bad.xlsx", INSTRUMENTS, lambda xml: xml.replace('r="C2"', 'r=""'))
    code, _, err = assess(capsys, bad)
    assert code == 2 and "碳计量器具 row 2: cell reference '' is not valid" in err


def test_a_damaged_compressed_part_is_exit_2(
    mini_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz test: a corrupt deflate stream raised zlib.error out of the DOCTYPE check."""
    data = bytearray(mini_book.read_bytes())
    with zipfile.ZipFile(mini_book) as book:
        info = book.getinfo(INSTRUMENTS)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + 5, start + 40, 3):
        data[at] ^= 0x55
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    code, _, err = assess(capsys, bad)
    assert code == 2 and f"{bad}: not a readable .xlsx workbook" in err
