"""The workbook form of a snapshot (contract §3): round trip, what the reader accepts, located problems."""

from __future__ import annotations

import json
import tempfile
import typing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from carbonmeter.core import snapshot as model
from carbonmeter.core.integrity import check_integrity
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.core.terms import OPEN_TERMS
from carbonmeter.io.ids import normalize_id
from carbonmeter.io.problems import SnapshotError
from carbonmeter.io.snapshot_file import read_snapshot
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import (
    COLUMNS,
    ENUM_TERMS,
    ORGANIZATION_ITEMS,
    REQUIRED,
    RESULT_SHEETS,
    SHEETS,
    VERDICT_COLUMNS,
    read_xlsx,
    write_xlsx,
)
from carbonmeter.io.terms import normalize_terms

MINI = Path(__file__).parent.parent / "data" / "mini.json"

Rows = list[list[Any]]


def book(path: Path, sheets: dict[str, Rows]) -> Path:
    """A workbook with exactly ``sheets`` (title → rows, the first row being the headers)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def minimal() -> dict[str, Rows]:
    """A small valid plant, typed the way a person would: Chinese sheets, headers and terms."""
    return {
        "单位信息": [
            ["项目", "值"],
            ["单位名称", "示例公司"],
            ["报告年度", 2025],
            ["评价日期", date(2026, 1, 15)],
        ],
        "碳源流": [
            ["编号", "名称", "类型", "计量方式", "年排放量(tCO2e)"],
            ["S1", "烟煤", "燃料燃烧", "计算法", 182000],
        ],
        "计量点": [["编号", "碳源流", "数据类型", "参数"], ["P1", "S1", "活动数据", "consumption"]],
        "碳计量器具": [["序号", "编号", "器具名称", "计量点"], [1, "I1", "皮带秤", "P1"]],
        "检定校准记录": [
            ["器具编号", "方式", "日期", "有效期至", "结论"],
            ["I1", "检定", date(2025, 3, 1), date(2026, 2, 28), "合格"],
        ],
    }


def problems(path: Path) -> list[str]:
    with pytest.raises(SnapshotError) as caught:
        read_xlsx(path)
    return caught.value.problems


def only(lines: list[str], start: str) -> str:
    """The one problem line that starts with ``start`` (the file and the place)."""
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


# ------------------------------------------------------------------------------------------------
# Round trip
# ------------------------------------------------------------------------------------------------


def test_mini_snapshot_round_trips(tmp_path: Path) -> None:
    original = parse_json(MINI.read_bytes(), str(MINI))
    write_xlsx(original, tmp_path / "mini.xlsx")
    assert read_xlsx(tmp_path / "mini.xlsx") == original


def test_round_trip_keeps_what_the_json_form_does_not_need(tmp_path: Path) -> None:
    original = parse_json(MINI.read_bytes(), str(MINI))
    instrument = msgspec.structs.replace(
        original.instruments[0],
        **{
            "components": (
                model.Component(type="称重传感器", accuracy_class="0.05", extra={"备注": "C3"}),
                model.Component(type="积算器", mpe_percent=0.1),
            ),
            "points": ("P1", "P3"),
            "mpe_abs": 3.0,
            "mpe_abs_unit": "℃",
            "traceability_basis": "JJG 195-2019",
            "interval_months": 12,
            "extra": {"备注": "=不是公式", "检修次数": 3, "系数": 0.1 + 0.2, "联网": True},
        },
    )
    person = model.Person(
        name="李四",
        role="计量员",
        extra={"工号": "007"},
        certificates=(
            model.Certificate(name="甲证", valid_until=date(1899, 12, 31), extra={"发证机关": "市局"}),
            model.Certificate(name="乙证"),
        ),
    )
    snapshot = msgspec.structs.replace(
        original,
        **{
            "instruments": (instrument, *original.instruments[1:]),
            "personnel": (*original.personnel, person, model.Person(name="王五")),
            "organization": msgspec.structs.replace(
                original.organization, **{"region": "重庆", "extra": {"法人": "赵六"}}
            ),
            "extra": {"来源": "ERP"},
        },
    )
    write_xlsx(snapshot, tmp_path / "rich.xlsx")
    assert read_xlsx(tmp_path / "rich.xlsx") == snapshot


ID = st.text(alphabet="ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789-_甲乙丙丁烟煤电表", min_size=1, max_size=6)
TEXT = st.text(alphabet="烟煤电子皮带秤量热仪张伟ABCxyz0123456789 .-_/()（）#=%、,，\n℃μ", max_size=12)
SOME_TEXT = st.text(
    alphabet="烟煤电子皮带秤量热仪张伟ABCxyz0123456789 .-_/()（）#=%、,，\n℃μ", min_size=1, max_size=12
)
#: Identifiers as a reader leaves them (normalised: carbonmeter.io.ids), so that a round trip is exact.
ID_TEXT = TEXT.map(normalize_id)
SOME_ID_TEXT = SOME_TEXT.map(normalize_id).filter(bool)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=0, exclude_min=True, allow_infinity=False)
EXTRA = st.dictionaries(
    st.text(alphabet="备注附加字段XYZ", min_size=1, max_size=4).map(lambda key: "附加" + key),
    st.one_of(SOME_TEXT, st.integers(-(2**60), 2**60), FLOATS, st.booleans()),
    max_size=2,
)


def values(terms: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(ENUM_TERMS[terms]))


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "name": draw(TEXT),
            "kind": draw(values("stream_kind")),
            "method": draw(values("method")),
            "emission_mode": draw(values("emission_mode")),
            # Up to 1e300: three streams' total stays finite (an overflowing total is refused, tested apart).
            "annual_emissions_t": draw(st.floats(min_value=0, max_value=1e300)),
            "extra": draw(EXTRA),
        }
        for ident in draw(st.lists(ID, min_size=1, max_size=3, unique=True))
    ]


@st.composite
def points(draw: st.DrawFn, streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ident in draw(st.lists(ID, max_size=4, unique=True)):
        stream = draw(st.sampled_from(streams))
        roles = ["activity_data", "emission_factor"] + (["cems"] if stream["method"] == "measurement" else [])
        out.append(
            {
                "id": ident,
                "stream": stream["id"],
                "role": draw(st.sampled_from(roles)),
                "parameter": draw(SOME_TEXT | st.sampled_from(sorted(OPEN_TERMS["parameter"]))),
                "determination": draw(values("determination")),
                "purpose": draw(st.none() | SOME_TEXT),
                "trade_settlement": draw(st.booleans()),
                "name": draw(TEXT),
                "operating_value": draw(st.none() | FLOATS),
                "extra": draw(EXTRA),
            }
        )
    return out


@st.composite
def components(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "type": draw(SOME_TEXT),
        "accuracy_class": draw(st.none() | SOME_TEXT),
        "mpe_percent": draw(st.none() | POSITIVE),
        "extra": draw(EXTRA),
    }


@st.composite
def instruments(draw: st.DrawFn, point_ids: list[str]) -> list[dict[str, Any]]:
    refs = st.lists(st.sampled_from(point_ids), max_size=3) if point_ids else st.just([])
    text_fields = (
        "name",
        "type",
        "model",
        "serial_no",
        "asset_no",
        "manufacturer",
        "measuring_range",
        "location",
    )
    return [
        {
            "id": ident,
            **{key: draw(TEXT) for key in text_fields},
            "accuracy_class": draw(st.none() | SOME_TEXT),
            "mpe_percent": draw(st.none() | POSITIVE),
            "mpe_abs": draw(st.none() | POSITIVE),
            "mpe_abs_unit": draw(TEXT),
            "components": draw(st.lists(components(), max_size=2)),
            "status": draw(values("status")),
            "points": draw(refs),
            "portable": draw(st.booleans()),
            "smart": draw(st.booleans()),
            "seal_intact": draw(st.none() | st.booleans()),
            "ownership": draw(values("ownership")),
            "traceability_basis": draw(TEXT),
            "interval_months": draw(st.none() | st.integers(1, 120)),
            "extra": draw(EXTRA),
        }
        for ident in draw(st.lists(ID, max_size=4, unique=True))
    ]


@st.composite
def calibrations(draw: st.DrawFn, instrument_ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 4) if instrument_ids else st.just(0))):
        on = draw(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)))
        result = draw(values("result"))
        until = on + timedelta(days=draw(st.integers(0, 3000)))
        out.append(
            {
                "instrument": draw(st.sampled_from(instrument_ids)),
                "kind": draw(values("calibration_kind")),
                "date": on,
                "valid_until": until if result == "pass" else draw(st.none() | st.just(until)),
                "result": result,
                "certificate_no": draw(ID_TEXT),
                "agency": draw(TEXT),
                "extra": draw(EXTRA),
            }
        )
    return out


@st.composite
def personnel(draw: st.DrawFn) -> list[dict[str, Any]]:
    certificate = st.fixed_dictionaries(
        {"name": SOME_TEXT, "valid_until": st.none() | st.dates(), "extra": EXTRA},
    )
    return [
        {
            "name": name,
            "role": draw(TEXT),
            "responsible": draw(st.booleans()),
            "certificates": draw(st.lists(certificate, max_size=2)),
            "extra": draw(EXTRA),
        }
        for name in draw(st.lists(SOME_ID_TEXT, max_size=3, unique=True))
    ]


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    """Valid snapshots: consistent ids and references, Chinese text, any finite float, any date."""
    source_streams = draw(streams())
    measuring_points = draw(points(source_streams))
    register = draw(instruments([p["id"] for p in measuring_points]))
    documents = st.fixed_dictionaries({"kind": SOME_TEXT, "title": TEXT, "approved": st.none() | st.dates()})
    doc = {
        "organization": {
            "name": draw(SOME_TEXT),
            "credit_code": draw(ID_TEXT),
            "industry": draw(TEXT),
            "key_emission_unit": draw(st.booleans()),
            "region": draw(TEXT),
            "extra": draw(EXTRA),
        },
        "reporting_year": draw(st.integers(2000, 2100)),
        "as_of": draw(st.dates()),
        "source_streams": source_streams,
        "measuring_points": measuring_points,
        "instruments": register,
        "calibrations": draw(calibrations([i["id"] for i in register])),
        "personnel": draw(personnel()),
        "documents": draw(st.lists(documents, max_size=2)),
        "extra": draw(EXTRA),
    }
    # Open vocabularies as a reader leaves them: a known name (``电子皮带秤``) is its value (``belt_scale``).
    snapshot = normalize_terms(msgspec.convert(doc, Snapshot))
    assert check_integrity(snapshot) == []
    return snapshot


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_any_valid_snapshot_round_trips(snapshot: Snapshot) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plant.xlsx"
        write_xlsx(snapshot, path)
        assert read_xlsx(path) == snapshot


# ------------------------------------------------------------------------------------------------
# What the writer writes
# ------------------------------------------------------------------------------------------------


def test_written_workbook_is_the_contract_form(tmp_path: Path) -> None:
    write_xlsx(parse_json(MINI.read_bytes(), str(MINI)), tmp_path / "mini.xlsx")
    wb = load_workbook(tmp_path / "mini.xlsx")
    assert wb.sheetnames == list(SHEETS)
    register = wb["碳计量器具"]
    headers = [cell.value for cell in register[1]]
    assert headers[:3] == ["序号", "编号", "器具名称"]
    assert all(cell.font.b for cell in register[1])
    assert register.freeze_panes == "A2"
    assert [row[0] for row in register.iter_rows(min_row=2, values_only=True)] == [1, 2, 3, 4, 5, 6]
    first = dict(zip(headers, next(register.iter_rows(min_row=2, values_only=True)), strict=True))
    assert (first["状态"], first["便携式"], first["铅封完好"], first["归属"]) == ("在用", "否", "是", "自有")
    assert register.column_dimensions["C"].width >= 12
    record = wb["检定校准记录"]["C2"]
    assert record.value == datetime(2025, 3, 1)
    assert record.number_format == "yyyy-mm-dd"
    assert (wb["检定校准记录"]["B2"].value, wb["检定校准记录"]["E2"].value) == ("检定", "合格")


def test_register_with_the_assessment_verdicts_re_imports_unchanged(tmp_path: Path) -> None:
    original = parse_json(MINI.read_bytes(), str(MINI))
    write_xlsx(original, tmp_path / "register.xlsx")
    wb = load_workbook(tmp_path / "register.xlsx")
    for index, name in enumerate(RESULT_SHEETS):
        wb.create_sheet(name, index).append(["项目", "值", "结论"])
    register = wb["碳计量器具"]
    first_free = register.max_column + 1
    for offset, header in enumerate(VERDICT_COLUMNS):
        register.cell(row=1, column=first_free + offset, value=header)
        for row in range(2, register.max_row + 1):
            register.cell(row=row, column=first_free + offset, value="合格")
    wb.save(tmp_path / "assessed.xlsx")
    assert read_xlsx(tmp_path / "assessed.xlsx") == original


def test_writer_refuses_what_would_read_back_different(tmp_path: Path) -> None:
    original = parse_json(MINI.read_bytes(), str(MINI))
    clash = msgspec.structs.replace(
        original,
        **{
            "source_streams": (msgspec.structs.replace(original.source_streams[0], **{"extra": {"名称": 1}}),)
        },
    )
    with pytest.raises(ValueError, match="extra key '名称'"):
        write_xlsx(clash, tmp_path / "a.xlsx")
    twins = msgspec.structs.replace(
        original, **{"personnel": (model.Person(name="张伟"), model.Person(name="张伟"))}
    )
    with pytest.raises(ValueError, match="two people named '张伟'"):
        write_xlsx(twins, tmp_path / "b.xlsx")


# ------------------------------------------------------------------------------------------------
# What the reader accepts
# ------------------------------------------------------------------------------------------------


def test_minimal_workbook_reads(tmp_path: Path) -> None:
    snapshot = read_xlsx(book(tmp_path / "m.xlsx", minimal()))
    assert snapshot.organization.name == "示例公司"
    assert snapshot.as_of == date(2026, 1, 15)
    assert snapshot.source_streams[0].kind == "fuel_combustion"
    assert snapshot.source_streams[0].annual_emissions_t == 182000.0
    assert snapshot.instruments[0].points == ("P1",)
    assert snapshot.calibrations[0].valid_until == date(2026, 2, 28)


def test_english_keys_in_any_order_are_accepted(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["单位信息"] = [
        ["value", "item"],
        ["示例公司", "name"],
        [2025, "reporting_year"],
        ["2026-01-15", "as_of"],
    ]
    sheets["碳源流"] = [
        ["annual_emissions_t", "method", "kind", "id", "name"],
        [182000, "calculation", "fuel_combustion", "S1", "烟煤"],
    ]
    sheets["source_streams"] = sheets.pop("碳源流")
    sheets["检定校准记录"] = [
        ["result", "valid_until", "date", "kind", "instrument"],
        ["pass", "2026-02-28", "2025-03-01", "verification", "I1"],
    ]
    assert read_xlsx(book(tmp_path / "en.xlsx", sheets)) == read_xlsx(book(tmp_path / "zh.xlsx", minimal()))


def test_terms_headers_and_cells_are_read_the_way_people_type_them(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["单位信息"] += [["重点排放单位", "否"], ["所属地区", "重庆"]]
    sheets["碳源流"] = [
        ["编号", "类型", "计量方式", "排放方式", "年排放量（tCO2e）"],  # full-width brackets
        ["S1", "燃料燃烧", "calculation", "无组织", "182000"],  # a number typed as text
        ["S2", "process", "实测法", "organized", 60000.5],
    ]
    sheets["计量点"] = [
        ["编号", "碳源流", "数据类型", "参数", "贸易结算"],
        ["P1", "S1", "活动数据", "consumption", "是"],
        ["P2", "S2", "实测数据", "co2_concentration", "N"],
        ["P3", "S2", "cems", "flow_velocity", True],
        ["P4", "S1", "排放因子", "ncv", "0"],
    ]
    sheets["碳计量器具"] = [
        ["编号", "准确度等级", "计量点", "状态", "便携式", "铅封完好", "检定周期(月)"],
        ["I1", 0.5, "P1, P2，P3、P4", "备用", "TRUE", "y", "12"],
    ]
    sheets["检定校准记录"][1][2] = datetime(2025, 3, 1, 14, 30)  # a time of day is not part of a date
    sheets["检定校准记录"][1][3] = "2026-02-28"
    snapshot = read_xlsx(book(tmp_path / "typed.xlsx", sheets))
    assert snapshot.organization.key_emission_unit is False
    assert snapshot.organization.region == "重庆"
    s1, s2 = snapshot.source_streams
    assert (s1.method, s1.emission_mode, s1.annual_emissions_t) == ("calculation", "unorganized", 182000.0)
    assert (s2.kind, s2.method, s2.annual_emissions_t) == ("process", "measurement", 60000.5)
    assert [p.trade_settlement for p in snapshot.measuring_points] == [True, False, True, False]
    assert [p.role for p in snapshot.measuring_points] == ["activity_data", "cems", "cems", "emission_factor"]
    instrument = snapshot.instruments[0]
    assert instrument.accuracy_class == "0.5"
    assert instrument.points == ("P1", "P2", "P3", "P4")
    assert (instrument.status, instrument.portable, instrument.seal_intact) == ("standby", True, True)
    assert instrument.interval_months == 12
    assert (snapshot.calibrations[0].date, snapshot.calibrations[0].valid_until) == (
        date(2025, 3, 1),
        date(2026, 2, 28),
    )


def test_an_empty_cell_is_not_given_and_an_empty_row_is_skipped(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"] = [
        ["编号", "类型", "计量方式", "排放方式", "年排放量(tCO2e)"],
        [None, None, None, None, None],
        ["S1", "燃料燃烧", "计算法", None, 0],
    ]
    sheets["计量点"] = [
        ["编号", "碳源流", "数据类型", "参数", "运行值", "贸易结算"],
        ["P1", "S1", "活动数据", "x", None, ""],
    ]
    sheets["碳计量器具"] += [[2, None, None, None]]  # a pre-numbered template row is empty
    snapshot = read_xlsx(book(tmp_path / "blank.xlsx", sheets))
    assert len(snapshot.source_streams) == 1
    assert snapshot.source_streams[0].emission_mode == "organized"
    assert snapshot.source_streams[0].annual_emissions_t == 0.0  # a written 0 is a declared zero


def test_a_blank_emissions_cell_is_not_declared(tmp_path: Path) -> None:
    # Contract v1.1: annual_emissions_t is optional where a formula computes it; a blank cell is "not
    # declared" (None), never 0 t (which would make the stream de minimis by accident).
    sheets = minimal()
    sheets["碳源流"] = [
        ["编号", "类型", "计量方式", "核算公式", "年排放量(tCO2e)"],
        ["S1", "燃料燃烧", "计算法", "fuel_ncv_cc", None],
        ["S2", "燃料燃烧", "计算法", "fuel_ncv_cc", ""],
        ["S3", "燃料燃烧", "计算法", None, 0],
    ]
    snapshot = read_xlsx(book(tmp_path / "blank.xlsx", sheets))
    assert [s.annual_emissions_t for s in snapshot.source_streams] == [None, None, 0.0]
    assert snapshot.measuring_points[0].operating_value is None
    assert snapshot.measuring_points[0].trade_settlement is False
    assert len(snapshot.instruments) == 1
    assert snapshot.instruments[0].seal_intact is None


def test_extra_columns_are_kept_and_verdict_columns_ignored(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳计量器具"] = [
        ["序号", "编号", "计量点", "备注", "安装日期", *VERDICT_COLUMNS],
        [1, "I1", "P1", "新装", datetime(2024, 5, 6), "可溯源", date(2026, 2, 28), "是", "0.5", "合格"],
    ]
    sheets["碳源流"][0].append("折标系数")
    sheets["碳源流"][1].append(0.7143)
    snapshot = read_xlsx(book(tmp_path / "extra.xlsx", sheets))
    assert snapshot.instruments[0].extra == {"备注": "新装", "安装日期": "2024-05-06"}
    assert snapshot.source_streams[0].extra == {"折标系数": 0.7143}


def test_open_vocabularies_are_written_by_name_and_either_spelling_reads_as_the_value(tmp_path: Path) -> None:
    """Type, parameter and purpose: the Chinese name in the cell (no internal code for the reader), the value
    back on reading, from the workbook and from JSON alike (issue 9, item 5)."""
    sheets = minimal()
    sheets["计量点"] = [
        ["编号", "碳源流", "数据类型", "参数", "用途"],
        ["P1", "S1", "活动数据", "消耗量", "动态衡器（电子皮带秤）"],
    ]
    sheets["碳计量器具"] = [
        ["序号", "编号", "器具名称", "类型", "计量点"],
        [1, "I1", "皮带秤", "电子皮带秤", "P1"],
    ]
    sheets["器具组成"] = [["器具编号", "组成类型"], ["I1", "压力变送器"], ["I1", "积算器"]]
    snapshot = read_xlsx(book(tmp_path / "names.xlsx", sheets))
    point, instrument = snapshot.measuring_points[0], snapshot.instruments[0]
    assert (point.parameter, point.purpose) == ("consumption", "weighing_dynamic")
    assert instrument.type == "belt_scale"
    assert [c.type for c in instrument.components] == ["pressure_transmitter", "积算器"]  # unknown: as typed
    out = tmp_path / "written.xlsx"
    write_xlsx(snapshot, out)
    wb = load_workbook(out, read_only=True)
    cells = {v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row}
    assert {"消耗量", "动态衡器（电子皮带秤）", "电子皮带秤", "压力变送器"} <= cells
    assert not {"consumption", "weighing_dynamic", "belt_scale", "pressure_transmitter"} & cells
    assert read_xlsx(out) == snapshot
    doc = json.loads(MINI.read_bytes())
    doc["instruments"][0]["type"] = "电子皮带秤"
    assert parse_json(json.dumps(doc).encode(), "mini.json").instruments[0].type == "belt_scale"


def test_an_extra_the_product_reads_has_a_chinese_column(tmp_path: Path) -> None:
    """A point's ``co2_basis`` (read by the CEMS quality page) is 「CO2浓度基准」 干基 / 湿基 there."""
    snapshot = read_xlsx(book(tmp_path / "mini.xlsx", minimal()))
    point = msgspec.structs.replace(
        snapshot.measuring_points[0], extra={"co2_basis": "dry", "duct_area_m2": 12.5}
    )
    snapshot = msgspec.structs.replace(snapshot, measuring_points=(point,))
    out = tmp_path / "extra.xlsx"
    write_xlsx(snapshot, out)
    header, row = list(load_workbook(out, read_only=True)["计量点"].iter_rows(values_only=True))
    cells = dict(zip(header, row, strict=True))
    assert cells["CO2浓度基准"] == "干基" and cells["烟道截面积(m²)"] == 12.5
    assert "co2_basis" not in header
    assert read_xlsx(out) == snapshot


def test_personnel_rows_sharing_a_name_are_one_person(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["人员"] = [
        ["姓名", "岗位", "碳计量负责人", "证书名称", "证书有效期至", "证书.编号", "工号"],
        ["张伟", "主管", "是", "计量管理人员证书", date(2027, 6, 30), "Z-1", "007"],
        ["李四", "计量员", None, None, None, None, None],
        ["张伟", None, None, "内审员证书", "2026-12-31", None, "007"],
    ]
    people = read_xlsx(book(tmp_path / "people.xlsx", sheets)).personnel
    assert [p.name for p in people] == ["张伟", "李四"]
    zhang, li = people
    assert (zhang.role, zhang.responsible, zhang.extra) == ("主管", True, {"工号": "007"})
    assert [(c.name, c.valid_until, c.extra) for c in zhang.certificates] == [
        ("计量管理人员证书", date(2027, 6, 30), {"编号": "Z-1"}),
        ("内审员证书", date(2026, 12, 31), {}),
    ]
    assert (li.role, li.certificates) == ("计量员", ())


def test_components_attach_to_their_instrument(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["器具组成"] = [
        ["器具编号", "组成类型", "准确度等级", "最大允许误差(%)"],
        ["I1", "称重传感器", "C3", None],
        ["I1", "积算器", None, "0.1"],
    ]
    instrument = read_xlsx(book(tmp_path / "system.xlsx", sheets)).instruments[0]
    assert [(c.type, c.accuracy_class, c.mpe_percent) for c in instrument.components] == [
        ("称重传感器", "C3", None),
        ("积算器", None, 0.1),
    ]


def test_an_empty_unknown_sheet_is_passed_over(tmp_path: Path) -> None:
    sheets = minimal() | {"Sheet1": []}
    assert read_xlsx(book(tmp_path / "s.xlsx", sheets)).organization.name == "示例公司"


def test_read_snapshot_dispatches_on_xlsx(tmp_path: Path) -> None:
    path = book(tmp_path / "m.xlsx", minimal())
    assert read_snapshot(path) == read_xlsx(path)


# ------------------------------------------------------------------------------------------------
# Located problems
# ------------------------------------------------------------------------------------------------


def test_missing_required_sheets(tmp_path: Path) -> None:
    sheets = minimal()
    del sheets["碳源流"], sheets["单位信息"]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 单位信息: required sheet is missing / 缺少工作表",
        f"{path}: 碳源流: required sheet is missing / 缺少工作表",
        f"{path}: 计量点!B2 (碳源流): unknown source stream 'S1' (碳源流不存在)",
    ]


def test_unknown_sheet_lists_the_accepted_ones(tmp_path: Path) -> None:
    path = book(tmp_path / "bad.xlsx", minimal() | {"设备台账": [["编号"], ["X"]]})
    line = only(problems(path), f"{path}: 设备台账: unknown sheet; accepted: ")
    assert (
        "单位信息 (organization)" in line
        and "碳计量器具 (instruments)" in line
        and "管理制度 (documents)" in line
    )


TERMS = (
    "燃料燃烧 (fuel_combustion), 过程排放 (process), 购入电力 (purchased_electricity), "
    "购入热力 (purchased_heat), 输出电力 (exported_electricity), 输出热力 (exported_heat), "
    "含碳产品 (carbon_product), 其他 (other)"
)


def test_unknown_term_names_cell_header_and_accepted_terms(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"][1][2] = "烧煤"
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!C2 (类型): unknown term '烧煤'; accepted: {TERMS} / 未知选项 '烧煤'；可填：{TERMS}"
    ]


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value", "expected"),
    [
        (
            "碳源流",
            1,
            4,
            "十万",
            "碳源流!E2 (年排放量(tCO2e)): not a number (got '十万') / 不是数字（'十万'）",
        ),
        (
            "检定校准记录",
            1,
            2,
            "2025年3月1日",
            "检定校准记录!C2 (日期): not a date (got '2025年3月1日'); use an Excel date or YYYY-MM-DD",
        ),
        (
            "检定校准记录",
            1,
            3,
            46081,
            "检定校准记录!D2 (有效期至): not a date (got 46081); use an Excel date or YYYY-MM-DD",
        ),
        (
            "单位信息",
            2,
            1,
            "明年",
            "单位信息!B3 (报告年度): not a whole number (got '明年') / 不是整数（'明年'）",
        ),
    ],
)
def test_unreadable_cells_are_named(
    tmp_path: Path, sheet: str, row: int, column: int, value: Any, expected: str
) -> None:
    sheets = minimal()
    sheets[sheet][row][column] = value
    path = book(tmp_path / "bad.xlsx", sheets)
    assert only(problems(path), f"{path}: ").startswith(f"{path}: {expected}")


def test_unreadable_boolean_lists_the_accepted_spellings(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳计量器具"] = [["编号", "计量点", "便携式"], ["I1", "P1", "maybe"]]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳计量器具!C2 (便携式): not a yes/no value (got 'maybe'); "
        "accepted: 是, 否, TRUE, FALSE, 1, 0, Y, N "
        "/ 不是是否值（'maybe'）；可填：是, 否, TRUE, FALSE, 1, 0, Y, N"
    ]


def test_duplicate_header(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"][0].append("id")
    sheets["碳源流"][1].append("S9")
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!F1 (id): duplicate column: see A1 (编号) / 重复列：见 A1 (编号)"
    ]


def test_missing_required_column_is_said_once(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"] = [["编号", "计量方式", "年排放量(tCO2e)"], ["S1", "计算法", 1.0], ["S2", "计算法", 2.0]]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流 (类型): column is missing / 缺少该列 — required field is missing / 缺少必填项"
    ]


def test_missing_item_and_empty_required_cell(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["单位信息"] = [["项目", "值"], ["单位名称", None], ["评价日期", "2026-01-15"]]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 单位信息 (报告年度): no row for this item / 缺少该项目 — {REQUIRED}",
        f"{path}: 单位信息!B2 (单位名称): {REQUIRED}",
    ]


def test_model_and_integrity_problems_are_located_in_cells(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"].append(["S1", "烟煤", "燃料燃烧", "计算法", -5])
    sheets["检定校准记录"].append(["I9", "校准", date(2025, 1, 1), None, "合格"])
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!E3 (年排放量(tCO2e)): must be ≥ 0 (got -5.0) / 不能小于 0",
        f"{path}: 检定校准记录!A3 (器具编号): unknown instrument 'I9' (器具不存在)",
        f"{path}: 检定校准记录!D3 (有效期至): a passing record needs valid_until (合格记录须填写有效期至)",
    ]


def test_duplicate_ids_are_located(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"].append(["S1", "烟煤", "燃料燃烧", "计算法", 5])
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!A2 (编号): duplicate id 'S1' (编号重复)",
        f"{path}: 碳源流!A3 (编号): duplicate id 'S1' (编号重复)",
    ]


def test_several_bad_cells_are_all_reported(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"][1][2] = "烧煤"
    sheets["碳源流"][1][4] = "many"
    sheets["计量点"][1][2] = "活动"
    sheets["碳计量器具"][1][3] = "P7"
    sheets["检定校准记录"][1][2] = "yesterday"
    sheets["检定校准记录"][1][4] = "通过"
    path = book(tmp_path / "bad.xlsx", sheets)
    lines = problems(path)
    starts = [
        "碳源流!C2 (类型): unknown term '烧煤'",
        "碳源流!E2 (年排放量(tCO2e)): not a number",
        "计量点!C2 (数据类型): unknown term '活动'",
        "碳计量器具!D2 (计量点): unknown measuring point 'P7'",
        "检定校准记录!C2 (日期): not a date",
        "检定校准记录!E2 (结论): unknown term '通过'",
    ]
    assert len(lines) == len(starts)
    for line, start in zip(lines, starts, strict=True):
        assert line.startswith(f"{path}: {start}")


def test_a_reference_to_an_invalid_object_is_not_called_unknown(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"][1][4] = -1.0  # S1 is there but invalid: P1's reference to it is fine
    sheets["检定校准记录"][1][0] = "I7"  # while this one is really unknown
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!E2 (年排放量(tCO2e)): must be ≥ 0 (got -1.0) / 不能小于 0",
        f"{path}: 检定校准记录!A2 (器具编号): unknown instrument 'I7' (器具不存在)",
    ]


def test_conflicting_person_rows(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["人员"] = [["姓名", "岗位", "证书名称"], ["张伟", "主管", "甲证"], ["张伟", "计量员", "乙证"]]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 人员!B3 (岗位): differs from row 2 of this person: '主管' ≠ '计量员' "
        "/ 与该人员第 2 行不一致：'主管' ≠ '计量员'"
    ]


def test_component_of_an_unknown_instrument(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["器具组成"] = [["器具编号", "组成类型"], ["I9", "传感器"], [None, "积算器"]]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 器具组成!A2 (器具编号): unknown instrument 'I9' / 器具不存在：'I9'",
        f"{path}: 器具组成!A3 (器具编号): required field is missing / 缺少必填项",
    ]


def test_values_under_no_header(tmp_path: Path) -> None:
    sheets = minimal()
    sheets["碳源流"][1] += [None, "孤值"]
    path = book(tmp_path / "bad.xlsx", sheets)
    assert problems(path) == [
        f"{path}: 碳源流!G2: this column has no header in row 1 but holds values / 该列第1行无表头却有数据"
    ]


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("编号,名称\n", encoding="utf-8")
    [line] = problems(path)
    assert line.startswith(f"{path}: not a readable .xlsx workbook")
    assert problems(tmp_path / "absent.xlsx")[0].startswith(f"{tmp_path / 'absent.xlsx'}: not a readable")


# ------------------------------------------------------------------------------------------------
# The tables themselves
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "literal"),
    [
        ("stream_kind", model.StreamKind),
        ("method", model.Method),
        ("emission_mode", model.EmissionMode),
        ("role", model.Role),
        ("determination", model.Determination),
        ("status", model.Status),
        ("calibration_kind", model.CalibrationKind),
        ("result", model.Result),
        ("ownership", model.Ownership),
    ],
)
def test_every_enumeration_value_has_a_term(terms: str, literal: Any) -> None:
    assert set(ENUM_TERMS[terms]) == set(typing.get_args(literal))
    assert len(set(ENUM_TERMS[terms].values())) == len(ENUM_TERMS[terms])


@pytest.mark.parametrize(
    ("sheet", "record", "not_columns"),
    [
        ("碳源流", model.SourceStream, set()),
        ("计量点", model.MeasuringPoint, set()),
        ("碳计量器具", model.Instrument, {"components"}),
        ("器具组成", model.Component, set()),
        ("检定校准记录", model.Calibration, set()),
        ("人员", model.Person, {"certificates"}),
        ("管理制度", model.Document, set()),
    ],
)
def test_every_model_field_has_a_column(
    sheet: str, record: type[model.Record], not_columns: set[str]
) -> None:
    """A field added to the snapshot must get a column, or the workbook would silently lose it."""
    assert set(record.__struct_fields__) - {"extra"} - not_columns <= set(COLUMNS[sheet])


def test_every_organization_field_has_an_item() -> None:
    fields = set(model.Organization.__struct_fields__) | {"reporting_year", "as_of"}
    assert fields - {"extra"} == set(ORGANIZATION_ITEMS)
    assert set(Snapshot.__struct_fields__) - {"extra", "schema_", "organization"} <= set(
        ORGANIZATION_ITEMS
    ) | set(SHEETS.values())


def test_a_restricted_range_is_read_from_its_column_and_written_back(tmp_path: Path) -> None:
    """Issue 9: a record confirming an instrument for a restricted range only (限用范围) is part of the
    register; the column reads into the record and the writer keeps it."""
    sheets = minimal()
    sheets["检定校准记录"][0].append("限用范围")
    sheets["检定校准记录"][1].append("0–50 t/h")
    snapshot = read_xlsx(book(tmp_path / "restricted.xlsx", sheets))
    assert snapshot.calibrations[0].restricted_range == "0–50 t/h"
    assert "restricted_range" not in snapshot.calibrations[0].extra
    write_xlsx(snapshot, tmp_path / "again.xlsx")
    assert read_xlsx(tmp_path / "again.xlsx").calibrations[0].restricted_range == "0–50 t/h"
