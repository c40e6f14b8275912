"""Write ``examples/demo-cement-plant.json``: a realistic Chongqing cement plant (``carbonmeter.snapshot/1``).

The plant is invented (name, credit code and every number are fictional) but built the way a verifier in
Chongqing would meet one: two 5000 t/d clinker lines with co-processing of waste fuels, a 110 kV
substation with a meter on every feeder, a central laboratory, an independent co-processing stack measured
by CEMS, and three years (2023–2025) of verification and calibration records.  A handful of defects that
verifiers really find are planted on purpose; :data:`DEFECTS` names them so tests can check the engine
finds each one.

Deterministic: a fixed seed and no clock — run it twice and the file is byte-for-byte the same::

    .venv/bin/python examples/make_demo_plant.py

The data tables come first (streams, points, instrument templates, the register by area, people,
documents); the small functions that turn them into the snapshot follow.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

OUT = Path(__file__).with_name("demo-cement-plant.json")
SEED = 2025
REPORTING_YEAR = 2025
AS_OF = date(2026, 1, 15)
#: History starts here (three years of records) and ends before the assessment date.
HISTORY_START = date(2023, 1, 1)
HISTORY_END = date(2025, 12, 20)
#: Every regular instrument's last pass outlives this day, so only the planted defects fall due.
DUE_HORIZON = date(2026, 2, 20)

# --------------------------------------------------------------------------------------------------------
# Organization
# --------------------------------------------------------------------------------------------------------

ORG_NAME = "重庆忠岚水泥有限公司"
ORG_DIVISION = "500233"  # 忠县 administrative division code
ORG_CODE_BODY = "66893012"  # the first eight characters of the (pre-2015) organization code

# --------------------------------------------------------------------------------------------------------
# Source streams: id, name, kind, t CO2e/a, expected category, method, emission mode.  Total ≈ 1.84 Mt, so
# 1 % ≈ 18 kt and the absolute thresholds (5000 t major, 1000 t minor) decide every category below 10 %.
# --------------------------------------------------------------------------------------------------------


class Stream(NamedTuple):
    id: str
    name: str
    kind: str
    tonnes: float
    category: str  # what the plant expects (the engine decides; this is for the reader and the tests)
    method: str = "calculation"
    mode: str = "organized"


FUEL, PROCESS = "fuel_combustion", "process"

STREAMS: list[Stream] = [
    Stream("S01", "1#窑头烟煤", FUEL, 118600.0, "major"),
    Stream("S02", "1#分解炉烟煤", FUEL, 176300.0, "major"),
    Stream("S03", "2#窑头烟煤", FUEL, 112400.0, "major"),
    Stream("S04", "2#分解炉烟煤", FUEL, 169800.0, "major"),
    Stream("S05", "1#窑生料碳酸盐分解", PROCESS, 532700.0, "major"),
    Stream("S06", "2#窑生料碳酸盐分解", PROCESS, 516900.0, "major"),
    Stream("S07", "窑尾旁路放风粉尘（CKD）", PROCESS, 3820.0, "minor"),
    Stream("S08", "生料中非燃料有机碳", PROCESS, 16450.0, "major"),
    Stream("S09", "废旧轮胎（协同处置替代燃料）", FUEL, 14280.0, "major"),
    Stream("S10", "垃圾衍生燃料（RDF/SRF）", FUEL, 9630.0, "major"),
    Stream("S11", "废矿物油", FUEL, 2460.0, "minor"),
    Stream("S12", "生物质燃料（稻壳、木屑，含少量化石碳）", FUEL, 860.0, "de_minimis"),
    Stream("S13", "天然气（燃气锅炉、食堂）", FUEL, 640.0, "de_minimis"),
    Stream("S14", "柴油（矿山移动机械）", FUEL, 3590.0, "minor"),
    Stream("S15", "柴油（应急发电机）", FUEL, 38.0, "de_minimis"),
    Stream("S16", "汽油（公务车辆）", FUEL, 126.0, "de_minimis"),
    Stream("S17", "液化石油气（职工食堂）", FUEL, 47.0, "de_minimis"),
    Stream("S18", "矿山爆破炸药", PROCESS, 92.0, "de_minimis"),
    Stream("S19", "矿渣烘干热风炉烟煤", FUEL, 4260.0, "minor"),
    Stream("S20", "窑点火柴油", FUEL, 496.0, "de_minimis"),
    Stream("S21", "SNCR脱硝尿素分解", PROCESS, 2140.0, "minor"),
    Stream("S22", "购入电力", "purchased_electricity", 121400.0, "major"),
    Stream("S23", "购入蒸汽（园区集中供热）", "purchased_heat", 530.0, "de_minimis"),
    Stream("S24", "余热发电输出电力（上网）", "exported_electricity", 1720.0, "minor"),
    Stream("S25", "协同处置焚烧系统烟气（独立烟囱，CEMS实测）", FUEL, 27600.0, "major", method="measurement"),
    Stream("S26", "RDF贮坑无组织逸散", "other", 1510.0, "minor", "measurement", "unorganized"),
    Stream("S27", "污泥暂存库无组织逸散", "other", 400.0, "de_minimis", "measurement", "unorganized"),
]

# --------------------------------------------------------------------------------------------------------
# Contract v1.1: facilities (4.1), each stream's formula (the pack's formulas table; the cement ones come from
# cq-part2-cement) and each point's annual value.  Streams without a formula keep their plan as their need
# (observation EQP-03).  The values are chosen so each computed stream lies close to its declared tonnes;
# S19 (the slag dryer) is planted about 6 % below its declared figure, beyond its U95 (observation EMI-01).
# --------------------------------------------------------------------------------------------------------

FACILITIES: list[tuple[str, str, str]] = [
    ("F0", "全厂公用及辅助设施", "enterprise"),
    ("F1", "1#熟料生产线", "key_facility"),
    ("F2", "2#熟料生产线", "key_facility"),
]
STREAM_FACILITY: dict[str, str] = {
    "S01": "F1",
    "S02": "F1",
    "S05": "F1",
    "S03": "F2",
    "S04": "F2",
    "S06": "F2",
}

FORMULAS: dict[str, str] = {
    **{s: "fuel_ncv_cc" for s in ("S01", "S02", "S03", "S04", "S19")},
    "S05": "clinker",
    "S06": "clinker",
    "S08": "raw_meal_organic_carbon",
    "S09": "alt_fuel_ncv_cc",
    "S10": "alt_fuel_ncv_cc",
    "S22": "electricity",
    "S24": "electricity",
    "S25": "cems",
}


class Val(NamedTuple):
    """A point's annual value; ``u_rel`` where its source (a laboratory report, a stated default) gives one,
    else the determining instrument's certificate or MPE decides; ``factor`` names a pack default."""

    value: float | None
    unit: str = ""
    u_rel: float | None = None
    factor: str | None = None


def _coal(n: str, tonnes: float, ncv: float, cc: float) -> dict[str, Val]:
    return {
        f"P{n}.1": Val(tonnes, "t"),
        f"P{n}.2": Val(ncv, "GJ/t", 0.008),
        f"P{n}.3": Val(cc, "tC/GJ", 0.015),
        f"P{n}.4": Val(0.98, "", 0.01),
    }


def _clinker(n: str, tonnes: float, cao: float, mgo: float) -> dict[str, Val]:
    return {
        f"P{n}.1": Val(tonnes, "t"),
        f"P{n}.2": Val(cao, "", 0.003),
        f"P{n}.3": Val(mgo, "", 0.005),
        f"P{n}.4": Val(0.0080, "", 0.10),
        f"P{n}.5": Val(0.0040, "", 0.10),
    }


GRID = "grid.national.2023"
VALUES: dict[str, Val] = {
    **_coal("01", 49_440.0, 25.50, 0.02618),
    **_coal("02", 72_690.0, 25.62, 0.02625),
    **_coal("03", 46_920.0, 25.38, 0.02622),
    **_coal("04", 70_610.0, 25.55, 0.02620),
    **_coal("19", 1_850.0, 22.80, 0.02650),
    **_clinker("05", 1_019_500.0, 0.6520, 0.0190),
    **_clinker("06", 993_800.0, 0.6490, 0.0190),
    "P08.1": Val(3_120_600.0, "t"),
    "P08.2": Val(0.00144, "", 0.05),
    "P09.1": Val(6_362.0, "t"),
    "P09.2": Val(29.8, "GJ/t", 0.01),
    "P09.3": Val(0.0262, "tC/GJ", 0.02),
    "P09.4": Val(0.80, "", 0.10),
    "P09.5": Val(0.98, "", 0.01),
    "P10.1": Val(15_530.0, "t"),
    "P10.2": Val(14.2, "GJ/t", 0.02),
    "P10.3": Val(0.0270, "tC/GJ", 0.03),
    "P10.4": Val(0.45, "", 0.10),
    "P10.5": Val(0.98, "", 0.01),
    "P22.1": Val(112_400.0, "MWh"),
    "P22.2": Val(104_100.0, "MWh"),
    "P22.3": Val(9_300.0, "MWh"),
    "P22.4": Val(2_998.0, "MWh"),
    "P22.5": Val(None, factor=GRID),
    "P24.1": Val(3_242.0, "MWh"),
    "P24.2": Val(None, factor=GRID),
}

# --------------------------------------------------------------------------------------------------------
# Measuring points (the monitoring plan).  purpose None → a default value from the guide (no instrument).
# --------------------------------------------------------------------------------------------------------

AD, EF, CEMS = "activity_data", "emission_factor", "cems"


class Point(NamedTuple):
    id: str
    stream: str
    role: str
    parameter: str
    purpose: str | None
    name: str
    trade: bool = False
    operating_value: float | None = None


def _coal_points(stream: str, n: str, where: str) -> list[Point]:
    """Activity data, the two measured emission-factor parameters of a pulverised-coal stream and its
    oxidation rate (a default the formula allows)."""
    return [
        Point(f"P{n}.1", stream, AD, "consumption", "weighing_dynamic", f"{where}喂煤量"),
        Point(f"P{n}.2", stream, EF, "ncv", "calorimeter", f"{where}入窑煤粉低位发热量"),
        Point(f"P{n}.3", stream, EF, "carbon_content", "carbon_analyser", f"{where}入窑煤粉单位热值含碳量"),
        Point(f"P{n}.4", stream, EF, "oxidation_rate", None, f"{where}煤粉碳氧化率"),
    ]


def _clinker_points(stream: str, n: str, line: str) -> list[Point]:
    return [
        Point(f"P{n}.1", stream, AD, "clinker_output", "weighing_dynamic", f"{line}窑熟料产量"),
        Point(f"P{n}.2", stream, EF, "cao_content", "carbon_analyser", f"{line}窑熟料CaO含量"),
        Point(f"P{n}.3", stream, EF, "mgo_content", "carbon_analyser", f"{line}窑熟料MgO含量"),
        Point(f"P{n}.4", stream, EF, "cao_non_carbonate", None, f"{line}窑生料非碳酸盐CaO含量"),
        Point(f"P{n}.5", stream, EF, "mgo_non_carbonate", None, f"{line}窑生料非碳酸盐MgO含量"),
    ]


POINTS: list[Point] = [
    *_coal_points("S01", "01", "1#窑头"),
    *_coal_points("S02", "02", "1#分解炉"),
    *_coal_points("S03", "03", "2#窑头"),
    *_coal_points("S04", "04", "2#分解炉"),
    *_clinker_points("S05", "05", "1#"),
    *_clinker_points("S06", "06", "2#"),
    Point("P07.1", "S07", AD, "consumption", "weighing_static", "旁路放风粉尘外运量"),
    Point("P07.2", "S07", EF, "cao_content", "carbon_analyser", "旁路放风粉尘CaO含量"),
    Point("P08.1", "S08", AD, "raw_meal", "weighing_dynamic", "入窑生料量（1#、2#线）"),
    Point("P08.2", "S08", EF, "organic_carbon_content", "carbon_analyser", "生料有机碳（TOC）含量"),
    Point("P09.1", "S09", AD, "consumption", "weighing_static", "废旧轮胎进厂量", trade=True),
    Point("P09.2", "S09", EF, "ncv", "calorimeter", "废旧轮胎低位发热量（外委检测）"),
    Point("P09.3", "S09", EF, "carbon_content", "carbon_analyser", "废旧轮胎元素碳含量"),
    Point("P09.4", "S09", EF, "fossil_fraction", None, "废旧轮胎化石碳比例"),
    Point("P09.5", "S09", EF, "oxidation_rate", None, "废旧轮胎碳氧化率"),
    Point("P10.1", "S10", AD, "consumption", "weighing_dynamic", "RDF入分解炉量"),
    Point("P10.2", "S10", EF, "ncv", "calorimeter", "RDF低位发热量"),
    Point("P10.3", "S10", EF, "carbon_content", "carbon_analyser", "RDF元素碳含量（外委检测）"),
    Point("P10.4", "S10", EF, "fossil_fraction", None, "RDF化石碳比例"),
    Point("P10.5", "S10", EF, "oxidation_rate", None, "RDF碳氧化率"),
    Point("P11.1", "S11", AD, "consumption", "heavy_oil", "废矿物油入窑量"),
    Point("P11.2", "S11", EF, "ncv", "calorimeter", "废矿物油低位发热量"),
    Point("P11.3", "S11", EF, "carbon_content", None, "废矿物油单位热值含碳量"),
    Point("P12.1", "S12", AD, "consumption", "weighing_static", "生物质燃料进厂量", trade=True),
    Point("P12.2", "S12", EF, "ncv", "calorimeter", "生物质燃料低位发热量"),
    Point("P12.3", "S12", EF, "fossil_carbon_fraction", None, "生物质燃料化石碳比例"),
    Point(
        "P13.1", "S13", AD, "consumption", "natural_gas_trade", "天然气进厂总量（燃气公司结算表）", trade=True
    ),
    Point("P13.2", "S13", AD, "consumption", "natural_gas", "燃气锅炉天然气用量"),
    Point("P13.3", "S13", EF, "ncv", None, "天然气低位发热量"),
    Point("P13.4", "S13", EF, "carbon_content", None, "天然气单位热值含碳量"),
    Point("P14.1", "S14", AD, "consumption", "refined_oil_trade", "矿山柴油进货量", trade=True),
    Point("P14.2", "S14", AD, "consumption", "refined_oil", "矿山加油站柴油加注量"),
    Point("P14.3", "S14", EF, "ncv", None, "柴油低位发热量"),
    Point("P14.4", "S14", EF, "carbon_content", None, "柴油单位热值含碳量"),
    Point("P15.1", "S15", AD, "consumption", "refined_oil", "应急发电机柴油用量"),
    Point("P15.2", "S15", EF, "ncv", None, "柴油低位发热量"),
    Point("P16.1", "S16", AD, "consumption", "refined_oil_trade", "公务车辆汽油加注量", trade=True),
    Point("P16.2", "S16", EF, "ncv", None, "汽油低位发热量"),
    Point("P17.1", "S17", AD, "consumption", "weighing_static", "液化石油气钢瓶称重", trade=True),
    Point("P17.2", "S17", EF, "ncv", None, "液化石油气低位发热量"),
    Point("P18.1", "S18", AD, "consumption", "weighing_static", "乳化炸药领用量", trade=True),
    Point("P18.2", "S18", EF, "emission_factor", None, "炸药排放因子"),
    Point("P19.1", "S19", AD, "consumption", "weighing_dynamic", "热风炉喂煤量"),
    Point("P19.2", "S19", EF, "ncv", "calorimeter", "热风炉原煤低位发热量"),
    Point("P19.3", "S19", EF, "carbon_content", "carbon_analyser", "热风炉原煤单位热值含碳量"),
    Point("P19.4", "S19", EF, "oxidation_rate", None, "热风炉原煤碳氧化率"),
    Point("P20.1", "S20", AD, "consumption", "refined_oil", "窑点火柴油用量"),
    Point("P20.2", "S20", EF, "ncv", None, "柴油低位发热量"),
    Point("P21.1", "S21", AD, "consumption", "weighing_static", "脱硝尿素进厂量", trade=True),
    Point("P21.2", "S21", EF, "emission_factor", None, "尿素排放因子（化学计量）"),
    Point("P22.1", "S22", AD, "electricity", "electricity_class_I", "110kV进线Ⅰ关口电量", trade=True),
    Point("P22.2", "S22", AD, "electricity", "electricity_class_I", "110kV进线Ⅱ关口电量", trade=True),
    Point(
        "P22.3",
        "S22",
        AD,
        "electricity",
        "electricity_class_II",
        "矿山10kV专线电量（产权分界处）",
        trade=True,
    ),
    Point("P22.4", "S22", AD, "electricity", "electricity_class_III", "生活区10kV专线电量", trade=True),
    Point("P22.5", "S22", EF, "emission_factor", None, "电网排放因子（全国平均）"),
    Point("P23.1", "S23", AD, "consumption", "steam", "外购蒸汽进厂量", trade=True),
    Point("P23.2", "S23", AD, "temperature", "temperature_mass_calc", "进厂蒸汽温度"),
    Point("P23.3", "S23", AD, "pressure", "pressure_mass_calc", "进厂蒸汽压力"),
    Point("P23.4", "S23", AD, "heat", "heat_meter", "生活区换热站供热量"),
    Point("P24.1", "S24", AD, "electricity", "electricity_class_I", "余热电站上网关口电量", trade=True),
    Point("P24.2", "S24", EF, "emission_factor", None, "电网排放因子（全国平均）"),
    Point("P25.1", "S25", CEMS, "co2_concentration", "cems_co2_concentration", "协同处置烟囱CO2浓度"),
    Point(
        "P25.2",
        "S25",
        CEMS,
        "flow_velocity",
        "cems_flow_velocity",
        "协同处置烟囱烟气流速",
        operating_value=14.2,
    ),
    Point(
        "P25.3", "S25", CEMS, "temperature", "cems_temperature", "协同处置烟囱烟气温度", operating_value=152.0
    ),
    Point("P25.4", "S25", CEMS, "humidity", "cems_humidity", "协同处置烟囱烟气湿度", operating_value=8.5),
    Point("P25.5", "S25", CEMS, "pressure", "cems_pressure", "协同处置烟囱烟气静压"),
    Point("P26.1", "S26", CEMS, "co2_concentration", "unorganized_monitoring", "RDF贮坑下风向周界CO2浓度"),
    Point("P26.2", "S26", CEMS, "co2_concentration", "unorganized_monitoring", "RDF贮坑上风向背景CO2浓度"),
    Point("P26.3", "S26", CEMS, "wind_speed", "unorganized_monitoring", "RDF贮坑周界风速"),
    Point(
        "P27.1",
        "S27",
        CEMS,
        "co2_concentration",
        "unorganized_monitoring",
        "污泥暂存库周界CO2浓度（季度便携监测）",
    ),
]

# --------------------------------------------------------------------------------------------------------
# Verification / calibration agencies: name and certificate-number prefix.
# --------------------------------------------------------------------------------------------------------

CQJL = "重庆市计量质量检测研究院"
GRID = "国网重庆市电力公司电能计量中心"
COUNTY = "忠县计量检定测试所"
NIMTT = "中国测试技术研究院"

CERT_PREFIX = {CQJL: "CQJY", GRID: "DNJL", COUNTY: "ZXJL", NIMTT: "NIMTT"}

# --------------------------------------------------------------------------------------------------------
# Instrument templates: what one make and model is, how it is traced and by whom.
# --------------------------------------------------------------------------------------------------------


class Part(NamedTuple):
    """One component of a measuring system."""

    type: str
    accuracy_class: str | None = None
    mpe_percent: float | None = None


class Template(NamedTuple):
    type: str
    model: str
    manufacturer: str
    measuring_range: str
    basis: str  # 溯源依据
    interval: int  # months
    agency: str
    serial_prefix: str
    accuracy_class: str | None = None
    mpe_percent: float | None = None
    mpe_abs: float | None = None
    mpe_abs_unit: str = ""
    components: tuple[Part, ...] = ()
    smart: bool = True
    sealed: bool = False  # carries a 铅封 (seal) that the register tracks


EM = "electricity_meter"
JJG596 = "JJG 596-2012"

TEMPLATES: dict[str, Template] = {
    # -- electricity -------------------------------------------------------------------------------------
    "em_gateway": Template(
        EM,
        "DTZ341-G",
        "威胜集团有限公司",
        "3×57.7/100 V，3×1.5(6) A",
        JJG596,
        72,
        GRID,
        "WS",
        accuracy_class="0.2S",
        sealed=True,
    ),
    "em_02s": Template(
        EM,
        "DTZ341",
        "威胜集团有限公司",
        "3×57.7/100 V，3×1.5(6) A",
        JJG596,
        24,
        CQJL,
        "WS",
        accuracy_class="0.2S",
        sealed=True,
    ),
    "em_05s": Template(
        EM,
        "DSZ71",
        "江苏林洋能源股份有限公司",
        "3×100 V，3×1.5(6) A",
        JJG596,
        24,
        CQJL,
        "LY",
        accuracy_class="0.5S",
        sealed=True,
    ),
    "em_05s_gateway": Template(
        EM,
        "DSZ71",
        "江苏林洋能源股份有限公司",
        "3×100 V，3×1.5(6) A",
        JJG596,
        72,
        GRID,
        "LY",
        accuracy_class="0.5S",
        sealed=True,
    ),
    "em_1_hv": Template(
        EM,
        "DSSD331",
        "宁波三星医疗电气股份有限公司",
        "3×100 V，3×1.5(6) A",
        JJG596,
        24,
        CQJL,
        "SX",
        accuracy_class="1.0",
        sealed=True,
    ),
    "em_1_lv": Template(
        EM,
        "DTSU666",
        "正泰仪器仪表有限责任公司",
        "3×220/380 V，3×1.5(6) A",
        JJG596,
        24,
        CQJL,
        "ZT",
        accuracy_class="1.0",
        sealed=True,
    ),
    "em_old": Template(
        EM,
        "DS864-2",
        "威胜集团有限公司",
        "3×100 V，3×1.5(6) A",
        JJG596,
        24,
        CQJL,
        "WS",
        accuracy_class="1.0",
        smart=False,
        sealed=True,
    ),
    # -- static weighing -----------------------------------------------------------------------------------
    "truck_100": Template(
        "truck_scale",
        "SCS-100",
        "宁波柯力传感科技股份有限公司",
        "0–100 t（e=20 kg）",
        "JJG 1118-2015",
        12,
        COUNTY,
        "KL",
        accuracy_class="III",
        sealed=True,
    ),
    "truck_150": Template(
        "truck_scale",
        "SCS-150",
        "上海耀华称重系统有限公司",
        "0–150 t（e=50 kg）",
        "JJG 1118-2015",
        12,
        COUNTY,
        "YH",
        accuracy_class="III",
        sealed=True,
    ),
    "truck_old": Template(
        "truck_scale",
        "TGT-50（机械式）",
        "上海耀华称重系统有限公司",
        "0–50 t（e=50 kg）",
        "JJG 1118-2015",
        12,
        COUNTY,
        "YH",
        accuracy_class="III",
        smart=False,
        sealed=True,
    ),
    "platform": Template(
        "platform_scale",
        "TCS-300",
        "上海耀华称重系统有限公司",
        "0–300 kg（e=100 g）",
        "JJG 539-2016",
        12,
        COUNTY,
        "YH",
        accuracy_class="III",
        sealed=True,
    ),
    # -- dynamic weighing ----------------------------------------------------------------------------------
    "belt": Template(
        "belt_scale",
        "ICS-17A",
        "赛摩智能科技集团股份有限公司",
        "0–400 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SM",
        accuracy_class="0.5",
        sealed=True,
    ),
    "belt_feed": Template(
        "belt_scale",
        "ICS-20B（定量给料秤）",
        "赛摩智能科技集团股份有限公司",
        "0–120 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SM",
        accuracy_class="0.5",
        sealed=True,
    ),
    "small_feed": Template(
        "belt_scale",
        "ICS-20B（定量给料秤）",
        "赛摩智能科技集团股份有限公司",
        "0–5 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SM",
        accuracy_class="0.5",
        sealed=True,
    ),
    "belt_old": Template(
        "belt_scale",
        "ICS-14",
        "赛摩智能科技集团股份有限公司",
        "0–120 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SM",
        accuracy_class="1.0",
        smart=False,
        sealed=True,
    ),
    "coal_feeder": Template(
        "weigh_feeder",
        "MULTICOR K 100（科里奥利煤粉秤）",
        "申克（天津）工业技术有限公司",
        "0–30 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SK",
        accuracy_class="0.5",
        sealed=True,
    ),
    "meal_feeder": Template(
        "weigh_feeder",
        "MULTICOR S 500（科里奥利生料秤）",
        "申克（天津）工业技术有限公司",
        "0–450 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SK",
        accuracy_class="0.5",
        sealed=True,
    ),
    "chain_scale": Template(
        "belt_scale",
        "ICS-17A（板链式）",
        "赛摩智能科技集团股份有限公司",
        "0–15 t/h",
        "JJG 195-2019",
        12,
        CQJL,
        "SM",
        accuracy_class="0.5",
        sealed=True,
    ),
    # -- liquid fuels -------------------------------------------------------------------------------------
    "dispenser": Template(
        "fuel_dispenser",
        "ZX-DS2242",
        "正星科技股份有限公司",
        "5–60 L/min",
        "JJG 443-2015",
        6,
        COUNTY,
        "ZX",
        accuracy_class="0.3",
        sealed=True,
    ),
    "tanker_meter": Template(
        "flow_meter",
        "LC-M80（椭圆齿轮）",
        "开封仪表有限公司",
        "6–60 m³/h",
        "JJG 667-2010",
        12,
        COUNTY,
        "KF",
        accuracy_class="0.2",
        sealed=True,
    ),
    "oval_gear": Template(
        "flow_meter",
        "LC-25（椭圆齿轮）",
        "开封仪表有限公司",
        "0.6–6 m³/h",
        "JJG 667-2010",
        12,
        CQJL,
        "KF",
        accuracy_class="0.5",
        smart=False,
        sealed=True,
    ),
    "coriolis": Template(
        "mass_flow_meter",
        "DMF-1-3",
        "北京首科实华自动化设备有限公司",
        "0–3 t/h",
        "JJG 1038-2008",
        24,
        CQJL,
        "SC",
        accuracy_class="0.2",
        sealed=True,
    ),
    # -- gas, steam, heat (measuring systems carry their components) ------------------------------------
    "ng_trade_system": Template(
        "gas_flow_system",
        "TBQM-100 + TCC-Ⅱ体积修正仪",
        "天信仪表集团有限公司",
        "DN100，20–650 m³/h",
        "JJG 1037-2008",
        24,
        CQJL,
        "TX",
        accuracy_class="1.0",
        sealed=True,
        components=(
            Part("气体涡轮流量传感器", "1.0"),
            Part("压力变送器", "0.2"),
            Part("温度传感器", mpe_percent=0.2),
            Part("体积修正仪", mpe_percent=0.1),
        ),
    ),
    # defect (7): never verified as a system, so its accuracy is its components' (contract §6.4.2):
    # √(1.5² + 1.0² + 0.5² + 1.0²) ≈ 2.12
    "ng_boiler_system": Template(
        "gas_flow_system",
        "LUGB-2303 + XSJ-39流量积算仪",
        "重庆川仪自动化股份有限公司",
        "DN50，8–120 m³/h",
        "JJG 1029-2007",
        24,
        CQJL,
        "CY",
        sealed=True,
        components=(
            Part("涡街流量传感器", "1.5"),
            Part("压力变送器", "1.0"),
            Part("温度变送器", mpe_percent=0.5),
            Part("流量积算仪", "1.0"),
        ),
    ),
    "steam_system": Template(
        "steam_flow_system",
        "LUGB-DN150 + 蒸汽流量计算机",
        "开封仪表有限公司",
        "DN150，1.5–18 t/h",
        "JJG 1029-2007",
        24,
        CQJL,
        "KF",
        accuracy_class="1.0",
        sealed=True,
        components=(
            Part("涡街流量传感器", "1.0"),
            Part("压力变送器", "0.25"),
            Part("温度变送器", mpe_percent=0.2),
            Part("流量计算机", mpe_percent=0.2),
        ),
    ),
    "temp_tx": Template(
        "temperature_transmitter",
        "WZPB-230 + TT302",
        "重庆川仪自动化股份有限公司",
        "0–300 °C",
        "JJF 1183-2007",
        12,
        CQJL,
        "CY",
        accuracy_class="0.5",
    ),
    "press_tx": Template(
        "pressure_transmitter",
        "PDS403H",
        "重庆川仪自动化股份有限公司",
        "0–2.5 MPa",
        "JJG 882-2019",
        12,
        CQJL,
        "CY",
        accuracy_class="0.25",
    ),
    "heat_meter": Template(
        "heat_meter",
        "HZR-DN100（超声波热能表）",
        "唐山汇中仪表股份有限公司",
        "DN100，1.2–120 m³/h",
        "JJG 225-2001",
        24,
        CQJL,
        "HZ",
        accuracy_class="2",
        sealed=True,
    ),
    "gas_diaphragm": Template(
        "gas_meter",
        "G25（膜式燃气表）",
        "重庆前卫克罗姆表业有限责任公司",
        "0.25–40 m³/h",
        "JJG 577-2012",
        60,
        CQJL,
        "QW",
        accuracy_class="1.5",
        smart=False,
        sealed=True,
    ),
    "air_vortex": Template(
        "flow_meter",
        "LUGB-DN150",
        "重庆川仪自动化股份有限公司",
        "DN150，100–1500 m³/h",
        "JJG 1029-2007",
        24,
        CQJL,
        "CY",
        accuracy_class="1.5",
    ),
    "water_mag": Template(
        "flow_meter",
        "LDG-DN300（电磁）",
        "开封仪表有限公司",
        "0–1200 m³/h",
        "JJG 1033-2007",
        24,
        CQJL,
        "KF",
        accuracy_class="0.5",
    ),
    # -- laboratory ---------------------------------------------------------------------------------------
    "calorimeter": Template(
        "calorimeter",
        "5E-C5508",
        "长沙开元仪器有限公司",
        "≤40 MJ",
        "JJG 672-2018",
        12,
        CQJL,
        "KY",
        mpe_percent=0.2,
    ),
    "calorimeter_b": Template(
        "calorimeter",
        "ZDHW-9000",
        "鹤壁市天冠仪器仪表有限公司",
        "≤40 MJ",
        "JJG 672-2018",
        12,
        CQJL,
        "TG",
        mpe_percent=0.2,
    ),
    "cs_analyser": Template(
        "carbon_sulfur_analyser",
        "CS-2800（高频红外）",
        "钢研纳克检测技术股份有限公司",
        "C 0.0001%–6%（扩展至100%）",
        "JJG 395-2016",
        12,
        CQJL,
        "NK",
        mpe_percent=1.0,
    ),
    "chn": Template(
        "elemental_analyser",
        "5E-CHN2200",
        "长沙开元仪器有限公司",
        "C 0.02–100 mg",
        "JJF 1321-2011",
        12,
        CQJL,
        "KY",
        mpe_percent=0.5,
    ),
    "xrf": Template(
        "xrf_spectrometer",
        "WDX4000（波长色散）",
        "江苏天瑞仪器股份有限公司",
        "Na–U；CaO 0–100 %",
        "JJG 810-1993",
        24,
        CQJL,
        "TR",
        mpe_percent=1.0,
    ),
    "balance": Template(
        "analytical_balance",
        "FA2004",
        "上海舜宇恒平科学仪器有限公司",
        "0–200 g（d=0.1 mg）",
        "JJG 1036-2022",
        12,
        CQJL,
        "HP",
        accuracy_class="I",
    ),
    "oven_thermo": Template(
        "thermometer",
        "DHG-9140A（配数字温度计）",
        "上海一恒科学仪器有限公司",
        "室温+10–250 °C",
        "JJF 1101-2019",
        12,
        CQJL,
        "YHK",
        mpe_abs=1.0,
        mpe_abs_unit="°C",
    ),
    "muffle": Template(
        "thermometer",
        "SX2-4-10（马弗炉温控仪）",
        "上海一恒科学仪器有限公司",
        "0–1000 °C",
        "JJF 1376-2012",
        12,
        CQJL,
        "YHK",
        mpe_abs=5.0,
        mpe_abs_unit="°C",
    ),
    "ext_chn": Template(
        "elemental_analyser",
        "vario EL cube",
        "德国Elementar公司",
        "C 0.01–100 mg",
        "JJF 1321-2011",
        12,
        NIMTT,
        "EL",
        mpe_percent=0.3,
    ),
    "ext_calorimeter": Template(
        "calorimeter",
        "5E-C5508",
        "长沙开元仪器有限公司",
        "≤40 MJ",
        "JJG 672-2018",
        12,
        NIMTT,
        "KY",
        mpe_percent=0.2,
    ),
    "calorimeter_old": Template(
        "calorimeter",
        "XRY-1A",
        "上海昌吉地质仪器有限公司",
        "≤35 MJ",
        "JJG 672-2018",
        12,
        CQJL,
        "CJ",
        mpe_percent=0.5,
        smart=False,
    ),
    # -- CEMS and unorganized monitoring -----------------------------------------------------------------
    "cems_co2": Template(
        "cems_co2_analyser",
        "SCS-900（NDIR）",
        "北京雪迪龙科技股份有限公司",
        "CO2 0–25 %（v/v）",
        "JJG 635-2011",
        12,
        CQJL,
        "SDL",
        mpe_percent=2.0,
    ),
    "cems_flow": Template(
        "cems_flow_velocity",
        "SCS-900（皮托管流速仪）",
        "北京雪迪龙科技股份有限公司",
        "0–40 m/s",
        "HJ 75-2017",
        12,
        CQJL,
        "SDL",
        mpe_percent=5.0,
    ),
    "cems_temp": Template(
        "cems_temperature",
        "SCS-900（Pt100温度变送器）",
        "北京雪迪龙科技股份有限公司",
        "0–300 °C",
        "JJF 1183-2007",
        12,
        CQJL,
        "SDL",
        mpe_abs=2.0,
        mpe_abs_unit="°C",
    ),
    "cems_hum": Template(
        "cems_humidity",
        "SCS-900（阻容法湿度仪）",
        "北京雪迪龙科技股份有限公司",
        "0–40 %（v/v）",
        "HJ 75-2017",
        12,
        CQJL,
        "SDL",
        mpe_percent=10.0,
    ),
    "cems_press": Template(
        "cems_pressure",
        "SCS-900（压力变送器）",
        "北京雪迪龙科技股份有限公司",
        "−10–10 kPa",
        "JJG 882-2019",
        12,
        CQJL,
        "SDL",
        accuracy_class="0.5",
    ),
    "cems_o2": Template(
        "cems_o2_analyser",
        "SCS-900（氧化锆）",
        "北京雪迪龙科技股份有限公司",
        "O2 0–25 %（v/v）",
        "JJG 535-2004",
        12,
        CQJL,
        "SDL",
        mpe_percent=2.0,
    ),
    "kiln_cems_co2": Template(
        "cems_co2_analyser",
        "CEMS-2000B（CO2通道）",
        "聚光科技（杭州）股份有限公司",
        "CO2 0–30 %（v/v）",
        "JJG 635-2011",
        12,
        CQJL,
        "FPI",
        mpe_percent=2.0,
    ),
    "kiln_cems_flow": Template(
        "cems_flow_velocity",
        "CEMS-2000B（超声波流速仪）",
        "聚光科技（杭州）股份有限公司",
        "0–40 m/s",
        "HJ 75-2017",
        12,
        CQJL,
        "FPI",
        mpe_percent=5.0,
    ),
    "open_path": Template(
        "open_path_gas_analyser",
        "LGA-4500（开路式激光）",
        "聚光科技（杭州）股份有限公司",
        "CO2 0–5000 μmol/mol",
        "JJG 635-2011（参照）",
        12,
        CQJL,
        "FPI",
        mpe_percent=5.0,
    ),
    "anemometer": Template(
        "anemometer",
        "EC9-1（风向风速仪）",
        "长春气象仪器研究所有限责任公司",
        "0.3–60 m/s",
        "JJG 431-2014",
        12,
        CQJL,
        "CCQX",
        mpe_percent=5.0,
    ),
    # -- portable self-check instruments -----------------------------------------------------------------
    "p_ultrasonic": Template(
        "ultrasonic_flow_meter",
        "TDS-100H（便携式）",
        "大连海峰仪器发展有限公司",
        "DN15–DN6000，0–32 m/s",
        "JJG 1030-2007",
        12,
        CQJL,
        "HF",
        accuracy_class="1.0",
    ),
    "p_pq": Template(
        "power_quality_analyser",
        "Fluke 435-Ⅱ",
        "福禄克测试仪器（上海）有限公司",
        "1–1000 V，0.5–6000 A",
        "DL/T 1028-2006",
        12,
        CQJL,
        "FL",
        mpe_percent=0.2,
    ),
    "p_gas": Template(
        "portable_gas_analyser",
        "崂应3023（便携式红外）",
        "青岛崂应海纳光电环保集团有限公司",
        "CO2 0–20 %（v/v）",
        "JJG 968-2002",
        12,
        CQJL,
        "LA",
        mpe_percent=3.0,
    ),
    "p_em_tester": Template(
        "meter_field_tester",
        "CL3115（三相电能表现场校验仪）",
        "深圳市科陆电子科技股份有限公司",
        "57.7–380 V，0.05–100 A",
        "JJG 1085-2013",
        12,
        CQJL,
        "CL",
        accuracy_class="0.05",
    ),
    "p_ir": Template(
        "infrared_thermometer",
        "UT303C",
        "优利德科技（中国）股份有限公司",
        "−32–1050 °C",
        "JJG 856-2015",
        12,
        CQJL,
        "UT",
        mpe_percent=1.5,
    ),
}

# --------------------------------------------------------------------------------------------------------
# The register (Table B.1), grouped by area in the order the plant keeps it.  Instrument ids are the area
# code and the position within the area (ZJ-01, ZJ-02, …); asset numbers run through the whole register.
# --------------------------------------------------------------------------------------------------------


class Entry(NamedTuple):
    template: str
    name: str
    location: str
    points: tuple[str, ...] = ()
    status: str = "in_use"
    ownership: str = "own"
    portable: bool = False
    seal_broken: bool = False
    #: regular | expired (last pass ran out in Dec 2025) | voided (failed Nov 2025 after a 2025 pass)
    #: | scrapped_2024 (last passed 2023) | scrapped_2025 (last passed 2024, failed Jul 2025, scrapped)
    history: str = "regular"


class Area(NamedTuple):
    code: str
    name: str
    entries: list[Entry]


#: 10 kV feeders of the 110 kV substation's two bus sections, each with its own 0.5S meter.
FEEDERS: dict[str, list[str]] = {
    "Ⅰ": [
        "1#原料立磨",
        "1#窑尾高温风机",
        "1#窑尾排风机",
        "1#窑头排风机",
        "1#篦冷机风机组",
        "1#煤磨",
        "1#窑主传动",
        "1#生料均化及入窑提升",
        "1#窑尾袋收尘风机",
        "1#水泥磨主电机",
        "1#辊压机",
        "2#水泥磨主电机",
        "2#辊压机",
        "辅料破碎",
        "空压站",
        "协同处置车间",
        "1#电容补偿",
        "1#站用变",
    ],
    "Ⅱ": [
        "2#原料立磨",
        "2#窑尾高温风机",
        "2#窑尾排风机",
        "2#窑头排风机",
        "2#篦冷机风机组",
        "2#煤磨",
        "2#窑主传动",
        "2#生料均化及入窑提升",
        "2#窑尾袋收尘风机",
        "3#水泥磨主电机",
        "3#辊压机",
        "4#水泥磨主电机",
        "4#辊压机",
        "循环水泵房",
        "包装及散装",
        "余热电站联络",
        "2#电容补偿",
        "2#站用变",
    ],
}

NCV_POINTS = ("P01.2", "P02.2", "P03.2", "P04.2", "P10.2", "P11.2", "P12.2", "P19.2")
CARBON_POINTS = ("P01.3", "P02.3", "P03.3", "P04.3", "P19.3", "P09.3")
OXIDE_POINTS = ("P05.2", "P05.3", "P06.2", "P06.3", "P07.2")


def _substation() -> list[Entry]:
    bay = "110kV总降压站"
    entries = [
        Entry(
            "em_gateway",
            "110kV进线Ⅰ关口电能表（主表）",
            f"{bay} 进线Ⅰ计量柜",
            ("P22.1",),
            ownership="supplier",
        ),
        Entry("em_02s", "110kV进线Ⅰ考核电能表（副表）", f"{bay} 进线Ⅰ计量柜", ("P22.1",)),
        Entry(
            "em_gateway",
            "110kV进线Ⅱ关口电能表（主表）",
            f"{bay} 进线Ⅱ计量柜",
            ("P22.2",),
            ownership="supplier",
        ),
        Entry("em_02s", "110kV进线Ⅱ考核电能表（副表）", f"{bay} 进线Ⅱ计量柜", ("P22.2",)),
        Entry("em_02s", "1#主变高压侧电能表", f"{bay} 1#主变间隔"),
        Entry("em_02s", "2#主变高压侧电能表", f"{bay} 2#主变间隔"),
        Entry("em_05s", "1#主变低压侧（10kV Ⅰ段进线）电能表", f"{bay} 10kV配电室 Ⅰ段进线柜"),
        Entry("em_05s", "2#主变低压侧（10kV Ⅱ段进线）电能表", f"{bay} 10kV配电室 Ⅱ段进线柜"),
    ]
    for section, feeders in FEEDERS.items():
        entries += [
            Entry("em_05s", f"{feeder}馈线电能表", f"{bay} 10kV配电室 {section}段 {feeder}出线柜")
            for feeder in feeders
        ]
    entries += [
        Entry("em_05s", "10kV馈线备用电能表", f"{bay} 备品库", status="standby"),
        Entry(
            "em_old",
            "原1#原料立磨馈线电能表（2024年更换）",
            f"{bay} 备品库",
            status="scrapped",
            history="scrapped_2024",
        ),
    ]
    return entries


def _kiln_line(n: int, clinker_scale_history: str = "regular") -> list[Entry]:
    """One clinker line (raw mill, coal mill, kiln, cooler) — the two lines are built alike."""
    kiln_head, calciner, clinker = ("P01.1", "P02.1", "P05.1") if n == 1 else ("P03.1", "P04.1", "P06.1")
    return [
        Entry("coal_feeder", f"{n}#窑头煤粉秤", f"{n}#窑头煤粉仓下", (kiln_head,)),
        Entry("coal_feeder", f"{n}#分解炉煤粉秤", f"{n}#窑尾煤粉仓下", (calciner,)),
        Entry("meal_feeder", f"{n}#入窑生料计量秤", f"{n}#生料均化库底", ("P08.1",)),
        Entry(
            "belt",
            f"{n}#熟料入库电子皮带秤",
            f"{n}#熟料库顶输送机",
            (clinker,),
            history=clinker_scale_history,
        ),
        Entry("belt_feed", f"{n}#原煤进煤磨皮带秤", f"{n}#煤磨喂料"),
        Entry("belt_feed", f"{n}#原料磨石灰石配料秤", f"{n}#原料配料站"),
        Entry("belt_feed", f"{n}#原料磨砂岩配料秤", f"{n}#原料配料站"),
        Entry("oval_gear", f"{n}#窑点火油流量计", f"点火油泵房 {n}#回路", ("P20.1",)),
        Entry("kiln_cems_co2", f"{n}#窑尾烟气CEMS CO2分析仪", f"{n}#窑尾烟囱 CEMS小屋"),
        Entry("kiln_cems_flow", f"{n}#窑尾烟气CEMS流速仪", f"{n}#窑尾烟囱 45 m平台"),
        Entry("em_1_lv", f"{n}#窑尾0.4kV MCC电能表", f"{n}#窑尾电气室"),
        Entry("em_1_lv", f"{n}#窑头0.4kV MCC电能表", f"{n}#窑头电气室"),
        Entry("em_1_lv", f"{n}#煤磨0.4kV MCC电能表", f"{n}#煤磨电气室"),
        Entry("em_1_lv", f"{n}#生料均化库0.4kV MCC电能表", f"{n}#生料库电气室"),
    ]


def _cement_mills() -> list[Entry]:
    entries = [
        Entry("belt_feed", f"{m}#水泥磨{material}配料秤", f"{m}#水泥磨配料站")
        for m in range(1, 5)
        for material in ("熟料", "石膏", "混合材")
    ]
    entries += [Entry("em_1_lv", f"{m}#水泥磨0.4kV MCC电能表", f"{m}#水泥磨电气室") for m in range(1, 5)]
    entries += [
        Entry("em_1_lv", "包装车间0.4kV电能表", "包装车间电气室"),
        Entry("em_1_lv", "散装库0.4kV电能表", "散装库电气室"),
        Entry("small_feed", "矿渣烘干热风炉喂煤皮带秤", "矿渣烘干车间 热风炉", ("P19.1",)),
        Entry("belt_feed", "1#熟料汽车散装计量秤", "熟料散装库 1#散装口"),
        Entry("belt_feed", "2#熟料汽车散装计量秤", "熟料散装库 2#散装口"),
        Entry(
            "belt_old",
            "原1#水泥磨熟料配料秤（2024年更换）",
            "1#水泥磨配料站",
            status="scrapped",
            history="scrapped_2024",
        ),
    ]
    return entries


REGISTER: list[Area] = [
    Area("ZJ", "110kV总降压站及10kV配电", _substation()),
    Area(
        "WB",
        "地磅房（原燃料进厂、成品出厂）",
        [
            Entry("truck_100", "1#进厂电子汽车衡", "1#地磅房（原燃料进厂）", ("P09.1", "P12.1", "P21.1")),
            Entry("truck_100", "2#进厂电子汽车衡", "2#地磅房（原燃料进厂）", ("P09.1", "P12.1", "P21.1")),
            Entry(
                "truck_100",
                "3#辅料电子汽车衡",
                "3#地磅房（辅料进厂、窑灰外运）",
                ("P07.1",),
                history="expired",
            ),
            Entry("truck_150", "4#出厂电子汽车衡（水泥）", "4#地磅房（成品出厂）"),
            Entry("truck_150", "5#出厂电子汽车衡（水泥）", "4#地磅房（成品出厂）"),
            Entry("truck_150", "6#出厂电子汽车衡（熟料）", "5#地磅房（熟料出厂）"),
            Entry("truck_150", "7#出厂电子汽车衡（熟料）", "5#地磅房（熟料出厂）"),
            Entry(
                "truck_old",
                "原3#机械式汽车衡（2024年拆除）",
                "3#地磅房",
                status="scrapped",
                history="scrapped_2024",
            ),
        ],
    ),
    Area(
        "KS",
        "石灰石矿山",
        [
            Entry("truck_100", "矿山电子汽车衡", "矿山地磅房"),
            Entry("em_1_hv", "矿山10kV专线计量电能表", "矿山10kV开闭所 计量柜", ("P22.3",)),
            Entry("em_1_lv", "矿山0.4kV总电能表", "矿山变电所"),
            Entry("em_05s", "石灰石破碎机电能表", "矿山破碎站 10kV柜"),
            Entry("dispenser", "矿山加油站1#加油机", "矿山加油站", ("P14.2",)),
            Entry("dispenser", "矿山加油站2#加油机", "矿山加油站", ("P14.2",), seal_broken=True),
            Entry(
                "tanker_meter",
                "柴油配送罐车流量计（供油商）",
                "矿山加油站卸油口（随车）",
                ("P14.1",),
                ownership="supplier",
            ),
            Entry("platform", "民爆器材库电子台秤", "矿山民爆器材库", ("P18.1",)),
            Entry("belt", "石灰石入堆场电子皮带秤", "矿山长皮带 石灰石输送"),
            Entry("belt", "砂岩入堆场电子皮带秤", "砂岩堆棚入口"),
        ],
    ),
    Area("L1", "1#熟料生产线（原料、烧成）", _kiln_line(1)),
    Area("L2", "2#熟料生产线（原料、烧成）", _kiln_line(2, clinker_scale_history="voided")),
    Area("SN", "水泥粉磨、矿渣烘干及包装", _cement_mills()),
    Area(
        "XT",
        "协同处置车间",
        [
            Entry("chain_scale", "RDF入分解炉计量秤", "协同处置车间 RDF喂料线", ("P10.1",)),
            Entry("small_feed", "废旧轮胎喂料称重输送机", "1#窑尾轮胎喂料系统"),
            Entry(
                "coriolis",
                "废矿物油质量流量计（原在用，2025年报废）",
                "协同处置车间 废油泵站",
                status="scrapped",
                history="scrapped_2025",
            ),
            Entry(
                "coriolis",
                "废矿物油质量流量计（备用）",
                "协同处置车间 废油泵站",
                ("P11.1",),
                status="standby",
            ),
            Entry("cems_co2", "协同处置烟囱CEMS CO2分析仪", "协同处置焚烧烟囱 CEMS小屋", ("P25.1",)),
            Entry("cems_flow", "协同处置烟囱CEMS烟气流速仪", "协同处置焚烧烟囱 30 m平台", ("P25.2",)),
            Entry("cems_temp", "协同处置烟囱CEMS烟气温度变送器", "协同处置焚烧烟囱 30 m平台", ("P25.3",)),
            Entry("cems_hum", "协同处置烟囱CEMS烟气湿度仪", "协同处置焚烧烟囱 30 m平台", ("P25.4",)),
            Entry("cems_press", "协同处置烟囱CEMS烟气压力变送器", "协同处置焚烧烟囱 30 m平台", ("P25.5",)),
            Entry("cems_o2", "协同处置烟囱CEMS O2分析仪", "协同处置焚烧烟囱 CEMS小屋"),
            Entry("open_path", "RDF贮坑下风向开路激光CO2监测仪", "RDF贮坑 下风向周界", ("P26.1",)),
            Entry("open_path", "RDF贮坑上风向开路激光CO2监测仪", "RDF贮坑 上风向周界", ("P26.2",)),
            Entry("anemometer", "RDF贮坑周界风向风速仪", "RDF贮坑 屋面气象杆", ("P26.3",)),
            Entry("em_1_lv", "协同处置车间0.4kV电能表", "协同处置车间电气室"),
        ],
    ),
    Area(
        "YR",
        "余热电站",
        [
            Entry("em_02s", "1#余热发电机出口电能表", "余热电站 1#发电机出口柜"),
            Entry("em_02s", "2#余热发电机出口电能表", "余热电站 2#发电机出口柜"),
            Entry(
                "em_gateway",
                "余热电站上网关口电能表（主表）",
                "余热电站 并网计量柜",
                ("P24.1",),
                ownership="supplier",
            ),
            Entry("em_02s", "余热电站上网考核电能表（副表）", "余热电站 并网计量柜", ("P24.1",)),
            Entry("em_05s", "余热电站厂用电总电能表", "余热电站 厂用电柜"),
            Entry("em_1_lv", "1#余热锅炉0.4kV电能表", "1#窑头余热锅炉电气室"),
            Entry("em_1_lv", "2#余热锅炉0.4kV电能表", "2#窑头余热锅炉电气室"),
        ],
    ),
    Area(
        "GY",
        "公用工程及生活区",
        [
            Entry(
                "ng_trade_system",
                "天然气进厂贸易结算流量计（燃气公司）",
                "厂区天然气调压站",
                ("P13.1",),
                ownership="supplier",
            ),
            Entry("ng_boiler_system", "燃气锅炉天然气流量计量系统", "燃气锅炉房", ("P13.2",)),
            Entry("gas_diaphragm", "职工食堂天然气表", "职工食堂"),
            Entry(
                "steam_system",
                "外购蒸汽贸易结算流量计（供汽方）",
                "蒸汽进厂计量间",
                ("P23.1",),
                ownership="supplier",
            ),
            Entry("temp_tx", "进厂蒸汽温度变送器", "蒸汽进厂计量间", ("P23.2",)),
            Entry("press_tx", "进厂蒸汽压力变送器", "蒸汽进厂计量间", ("P23.3",)),
            Entry("heat_meter", "生活区换热站热能表", "生活区换热站", ("P23.4",)),
            Entry(
                "em_05s_gateway",
                "生活区10kV专线关口电能表",
                "生活区10kV配电室 计量柜",
                ("P22.4",),
                ownership="supplier",
            ),
            Entry("em_1_lv", "办公楼0.4kV电能表", "办公楼配电间"),
            Entry("oval_gear", "应急柴油发电机油耗流量计", "应急柴油发电机房", ("P15.1",)),
            Entry("platform", "食堂液化气钢瓶电子台秤", "职工食堂", ("P17.1",)),
            Entry(
                "dispenser",
                "公务车辆定点加油站加油机（中国石化）",
                "中国石化忠县城东加油站",
                ("P16.1",),
                ownership="supplier",
            ),
            Entry("air_vortex", "空压站1#压缩空气流量计", "空压站"),
            Entry("air_vortex", "空压站2#压缩空气流量计", "空压站"),
            Entry("water_mag", "循环水总管电磁流量计", "循环水泵房"),
            Entry("press_tx", "备用压力变送器", "仪表备品库", status="standby"),
            Entry("temp_tx", "备用温度变送器", "仪表备品库", status="standby"),
        ],
    ),
    Area(
        "HY",
        "中心化验室",
        [
            Entry("calorimeter", "1#氧弹量热仪", "中心化验室 热值室", NCV_POINTS),
            Entry("calorimeter_b", "2#氧弹量热仪", "中心化验室 热值室", status="standby"),
            Entry("cs_analyser", "高频红外碳硫分析仪", "中心化验室 元素分析室", CARBON_POINTS),
            Entry("chn", "元素分析仪", "中心化验室 元素分析室", CARBON_POINTS),
            Entry("xrf", "X射线荧光光谱仪", "中心化验室 荧光分析室", OXIDE_POINTS),
            Entry("balance", "1#电子分析天平", "中心化验室 天平室", NCV_POINTS + CARBON_POINTS),
            Entry("balance", "2#电子分析天平", "中心化验室 天平室"),
            Entry("oven_thermo", "电热鼓风干燥箱（温度）", "中心化验室 制样室", NCV_POINTS),
            Entry("muffle", "马弗炉（温度）", "中心化验室 制样室"),
            Entry(
                "ext_chn",
                "元素分析仪（外委检测机构）",
                "外委：重庆渝测检测技术有限公司",
                ("P10.3",),
                ownership="external_lab",
            ),
            Entry(
                "ext_calorimeter",
                "氧弹量热仪（外委检测机构）",
                "外委：重庆渝测检测技术有限公司",
                ("P09.2",),
                ownership="external_lab",
            ),
            Entry(
                "calorimeter_old",
                "原氧弹量热仪（2024年报废）",
                "中心化验室 热值室",
                status="scrapped",
                history="scrapped_2024",
            ),
        ],
    ),
    Area(
        "BX",
        "便携式计量器具（计量室）",
        [
            Entry("p_ultrasonic", "便携式超声波流量计", "计量室", portable=True),
            Entry("p_pq", "便携式电能质量分析仪", "计量室", portable=True),
            Entry("p_gas", "便携式红外烟气分析仪", "计量室", ("P27.1",), portable=True),
            Entry("p_em_tester", "便携式三相电能表现场校验仪", "计量室", portable=True),
            Entry("p_ir", "便携式红外测温仪", "计量室", portable=True),
        ],
    ),
]

# --------------------------------------------------------------------------------------------------------
# The planted defects: (instrument or point id, 中文, English).  Each is found once or twice by the engine.
# --------------------------------------------------------------------------------------------------------

DEFECTS: list[tuple[str, str, str]] = [
    (
        "WB-03",
        "在用3#辅料电子汽车衡检定已于2025年12月到期，未复检（窑灰外运量无有效计量）",
        "In-use truck scale WB-03: its verification expired in December 2025 and was not renewed",
    ),
    (
        "L2-04",
        "2#熟料入库电子皮带秤2025年3月检定合格，2025年11月复检不合格，仍在用",
        "Belt scale L2-04 passed in March 2025 but failed its re-verification in November 2025; still in use",
    ),
    (
        "KS-02",
        "矿山10kV专线计量电能表为1.0级，Ⅱ类用户计量点要求0.5S级",
        "Electricity meter KS-02 is class 1.0 on a class II user point that requires 0.5S",
    ),
    (
        "P11.1",
        "废矿物油入窑量计量点仅关联备用状态的流量计XT-04（备用表计入配备率）",
        "Point P11.1 (waste oil fed to the kiln) is linked only to the standby meter XT-04",
    ),
    (
        "P08.2",
        "主要源流生料有机碳（TOC）含量计量点未配备任何分析仪器",
        "Point P08.2 (organic carbon of raw meal, a major stream) has no analyser at all",
    ),
    ("KS-06", "矿山加油站2#加油机铅封损坏，仍在用", "Fuel dispenser KS-06 is in use with a broken seal"),
    (
        "GY-02",
        "燃气锅炉天然气流量计量系统未作整体检定、未标称系统等级，各组成部分方和根合成约±2.12%，超出天然气2.0级要求",
        "Gas flow system GY-02 was never verified as a system and states no class of its own; its components "
        "combine (root-sum-square) to ±2.12 %, worse than the class 2.0 natural gas requires",
    ),
    (
        "P09.4",
        "废旧轮胎化石碳比例按缺省值填报，但水泥部分未给出该参数的缺省值，须实测（EQP-02）",
        "Tyres' fossil fraction is declared a default, but the cement part allows none: it must be measured",
    ),
    (
        "P10.4",
        "RDF化石碳比例按缺省值填报，但水泥部分未给出该参数的缺省值，须实测（EQP-02）",
        "RDF's fossil fraction is declared a default, but the cement part allows none: it must be measured",
    ),
]

#: Management defects, by the subject the engine names: a person's name or a document kind.
MANAGEMENT_DEFECTS: list[tuple[str, str, str]] = [
    ("陈静", "化验员上岗证已于2025年10月31日过期", "Lab analyst's certificate expired on 2025-10-31"),
    (
        "records_archive",
        "计量文件与档案管理制度尚未批准（征求意见稿）",
        "Records and archive management procedure not yet approved (draft)",
    ),
]

# --------------------------------------------------------------------------------------------------------
# People and documents
# --------------------------------------------------------------------------------------------------------


class Person(NamedTuple):
    name: str
    role: str
    certificates: tuple[tuple[str, str | None], ...]
    responsible: bool = False


PERSONNEL: list[Person] = [
    Person(
        "张建国",
        "碳计量负责人（副总经理）",
        (("计量管理人员培训合格证", "2027-06-30"), ("碳排放管理员（三级）职业技能等级证书", "2028-09-30")),
        responsible=True,
    ),
    Person("李红梅", "计量管理员（能源管理部）", (("二级注册计量师注册证", "2027-09-30"),)),
    Person("周涛", "电气计量管理员", (("特种作业操作证（高压电工）", "2028-03-15"),)),
    Person("王磊", "中心化验室主任", (("煤质化验员上岗证", "2026-08-31"), ("化学检验员（高级）", None))),
    Person("陈静", "化验员", (("化验员上岗证", "2025-10-31"),)),
    Person("刘洋", "碳排放数据员", (("碳排放管理员（四级）职业技能等级证书", "2027-12-31"),)),
    Person("赵敏", "CEMS运维工程师", (("CEMS运维人员培训合格证", "2026-11-30"),)),
]

DOCUMENTS: list[tuple[str, str, str | None]] = [
    ("metering_management", "碳计量管理制度（Q/ZLSN-JL-001-2025）", "2025-03-20"),
    (
        "instrument_management",
        "碳计量器具管理制度（采购、验收、使用、维护、报废）（Q/ZLSN-JL-002-2025）",
        "2025-03-20",
    ),
    ("verification_calibration", "计量器具检定/校准管理制度（Q/ZLSN-JL-003-2025）", "2025-03-20"),
    ("data_management", "碳计量数据管理制度（Q/ZLSN-JL-004-2025）", "2025-04-15"),
    ("personnel_training", "计量人员培训与持证上岗制度（Q/ZLSN-JL-005-2025）", "2025-03-20"),
    ("records_archive", "计量文件与档案管理制度（征求意见稿）", None),
    ("monitoring_plan", "2025年度温室气体排放监测计划", "2024-12-25"),
    ("metering_network", "碳计量网络图（2025版）", "2025-05-10"),
    ("verification_plan", "2026年度计量器具检定/校准计划", "2025-12-18"),
]

# ========================================================================================================
# Building the snapshot
# ========================================================================================================

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 (no I, O, S, V, Z)


def credit_code(division: str, org_body: str) -> str:
    """统一社会信用代码 of an enterprise (9 1 …) with both check characters computed.

    >>> credit_code("500233", "66893012")
    '91500233668930128A'
    """
    org_sum = sum(int(c, 36) * w for c, w in zip(org_body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    org_check = 11 - org_sum % 11
    org_code = org_body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    body = "91" + division + org_code
    total = sum(_CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later (or earlier); days above 28 are not used by this generator."""
    assert d.day <= 28, d
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, d.day)


def _day(rng: random.Random, lo: date, hi: date) -> date:
    """A working date between lo and hi (inclusive) with a day of month ≤ 28."""
    while True:
        d = lo + timedelta(days=rng.randint(0, (hi - lo).days))
        if d.day <= 28 and d.weekday() < 5:
            return d


def _earlier(rng: random.Random, later: date, interval: int) -> date:
    """The previous record: a few days to three weeks before ``later``'s predecessor ran out."""
    d = _weekday(add_months(later, -interval) + timedelta(days=rng.randint(1, 20)))
    if d.day > 28:  # keep whole-month arithmetic exact: move to the first working day of the next month
        d = _weekday(date(d.year + d.month // 12, d.month % 12 + 1, 1))
    return d


def _weekday(d: date) -> date:
    """The first working day on or after ``d`` (agencies work Monday to Friday)."""
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _chain(rng: random.Random, last: date, interval: int) -> list[date]:
    """Record dates ending at ``last``, every ``interval`` months back to the start of the history.

    Intervals of five years or more (gateway electricity meters, diaphragm gas meters) leave one record.
    """
    dates = [last]
    while interval < 60 and (d := _earlier(rng, dates[-1], interval)) >= HISTORY_START:
        dates.append(d)
    return sorted(dates)


class Record(NamedTuple):
    day: date
    passed: bool


def history(rng: random.Random, kind: str, interval: int) -> list[Record]:
    """The dated pass/fail records of one instrument."""
    if kind == "expired":  # renewed every December; the December 2025 renewal never happened
        last = _day(rng, date(2024, 12, 2), date(2024, 12, 12))
        return [Record(d, True) for d in _chain(rng, last, interval)]
    if kind == "voided":  # passed in March 2025, failed its re-verification on 18 November 2025
        passes = _chain(rng, _day(rng, date(2025, 3, 3), date(2025, 3, 21)), interval)
        return [*(Record(d, True) for d in passes), Record(date(2025, 11, 18), False)]
    if kind == "scrapped_2024":  # last passed in 2023, replaced during 2024
        return [Record(_day(rng, date(2023, 2, 1), date(2023, 6, 30)), True)]
    if kind == "scrapped_2025":  # passed in 2024, failed in July 2025, then scrapped
        passes = _chain(rng, _day(rng, date(2024, 8, 1), date(2024, 9, 30)), interval)
        failed = _day(rng, date(2025, 7, 7), date(2025, 7, 25))
        return [*(Record(d, True) for d in passes), Record(failed, False)]
    lo = max(HISTORY_START, add_months(DUE_HORIZON, -interval))
    return [Record(d, True) for d in _chain(rng, _day(rng, lo, HISTORY_END), interval)]


def _serial(rng: random.Random, prefix: str, used: set[str], made: int) -> str:
    while (serial := f"{prefix}{made}{rng.randint(0, 999999):06d}") in used:
        pass
    used.add(serial)
    return serial


def _cal_kind(basis: str) -> str:
    """检定 under a verification regulation (JJG, DL/T 检定规程), 校准 under a specification (JJF, HJ)."""
    return "verification" if basis.startswith(("JJG", "DL/T")) else "calibration"


def _instrument(
    rng: random.Random, area: Area, e: Entry, iid: str, asset: int, used: set[str]
) -> dict[str, Any]:
    """One row of the register (Table B.1) in the key order of contract §2."""
    t = TEMPLATES[e.template]
    made = rng.randint(2012, 2016) if e.status == "scrapped" else rng.randint(2017, 2023)
    inst: dict[str, Any] = {
        "id": iid,
        "name": e.name,
        "type": t.type,
        "model": t.model,
        "serial_no": _serial(rng, t.serial_prefix, used, made),
        "asset_no": f"CM-JL-{asset:04d}",
        "manufacturer": t.manufacturer,
        "measuring_range": t.measuring_range,
        "location": e.location,
    }
    if t.accuracy_class is not None:
        inst["accuracy_class"] = t.accuracy_class
    if t.mpe_percent is not None:
        inst["mpe_percent"] = t.mpe_percent
    if t.mpe_abs is not None:
        inst["mpe_abs"], inst["mpe_abs_unit"] = t.mpe_abs, t.mpe_abs_unit
    if t.components:
        inst["components"] = [
            {
                "type": c.type,
                **({"accuracy_class": c.accuracy_class} if c.accuracy_class else {}),
                **({"mpe_percent": c.mpe_percent} if c.mpe_percent is not None else {}),
            }
            for c in t.components
        ]
    inst |= {
        "traceability_basis": t.basis,
        "interval_months": t.interval,
        "status": e.status,
        "points": list(e.points),
        "portable": e.portable,
        "smart": t.smart,
    }
    if t.sealed:
        inst["seal_intact"] = not e.seal_broken
    inst |= {"ownership": e.ownership, "extra": {"area": area.name}}
    return inst


class Done(NamedTuple):
    """One verification or calibration carried out, before it gets its certificate number."""

    day: date
    instrument: str
    passed: bool
    template: Template


def _certificate_u(t: Template) -> float | None:
    """A calibration certificate's U (k = 2), % of the value: fictional, half the instrument's relative MPE
    (a class number, or the stated MPE), so a calibrated instrument is a little better than its bound."""
    if t.mpe_percent is not None:
        return round(t.mpe_percent / 2, 3)
    try:
        return round(float((t.accuracy_class or "").rstrip("S")) / 2, 3)
    except ValueError:
        return None


def _calibrations(rng: random.Random, done: list[Done]) -> list[dict[str, Any]]:
    """The records in date order; each agency numbers its certificates per year as it issues them."""
    counters: dict[tuple[str, int, str], int] = {}
    rows = []
    for d in sorted(done, key=lambda d: (d.day, d.instrument)):
        t = d.template
        kind = _cal_kind(t.basis)
        letter = ("J" if kind == "verification" else "C") if d.passed else "T"  # T: 检定结果通知书 (fail)
        key = (t.agency, d.day.year, letter)
        counters[key] = counters.get(key, rng.randint(80, 400)) + rng.randint(1, 25)
        row: dict[str, Any] = {"instrument": d.instrument, "kind": kind, "date": d.day.isoformat()}
        if d.passed:
            row["valid_until"] = (add_months(d.day, t.interval) - timedelta(days=1)).isoformat()
        row |= {
            "result": "pass" if d.passed else "fail",
            "certificate_no": f"{CERT_PREFIX[t.agency]}-{letter}{d.day.year}-{counters[key]:05d}",
            "agency": t.agency,
        }
        stated = _certificate_u(t)
        if d.passed and kind == "calibration" and stated is not None:
            row |= {"expanded_uncertainty_percent": stated, "coverage_factor": 2}
        rows.append(row)
    return rows


def build_instruments(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The register in area order and every instrument's verification/calibration records."""
    instruments: list[dict[str, Any]] = []
    done: list[Done] = []
    used: set[str] = set()
    for area in REGISTER:
        for pos, e in enumerate(area.entries, 1):
            iid = f"{area.code}-{pos:02d}"
            instruments.append(_instrument(rng, area, e, iid, len(instruments) + 1, used))
            t = TEMPLATES[e.template]
            done += [Done(r.day, iid, r.passed, t) for r in history(rng, e.history, t.interval)]
    return instruments, _calibrations(rng, done)


def build_streams() -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "method": s.method,
            "emission_mode": s.mode,
            "annual_emissions_t": s.tonnes,
            "facility": STREAM_FACILITY.get(s.id, "F0"),
            **({"formula": FORMULAS[s.id]} if s.id in FORMULAS else {}),
        }
        for s in STREAMS
    ]


def build_points() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in POINTS:
        row: dict[str, Any] = {
            "id": p.id,
            "stream": p.stream,
            "name": p.name,
            "role": p.role,
            "parameter": p.parameter,
        }
        if p.purpose is None:
            row["determination"] = "default"
        else:
            row |= {"determination": "measured", "purpose": p.purpose}
        row["trade_settlement"] = p.trade
        if p.operating_value is not None:
            row["operating_value"] = p.operating_value
        v = VALUES.get(p.id)
        if v is not None:
            if v.value is not None:
                row |= {"value": v.value, "unit": v.unit or "1"}
            if v.u_rel is not None:
                row["u_rel"] = v.u_rel
            if v.factor is not None:
                row["factor"] = v.factor
        out.append(row)
    return out


def build_personnel() -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "role": p.role,
            "responsible": p.responsible,
            "certificates": [{"name": n, "valid_until": v} for n, v in p.certificates],
        }
        for p in PERSONNEL
    ]


def build_documents() -> list[dict[str, Any]]:
    return [{"kind": k, "title": title, "approved": approved} for k, title, approved in DOCUMENTS]


def build() -> dict[str, Any]:
    """The whole snapshot, deterministically."""
    rng = random.Random(SEED)
    instruments, calibrations = build_instruments(rng)
    doc: dict[str, Any] = {
        "schema": "carbonmeter.snapshot/1",
        "organization": {
            "name": ORG_NAME,
            "credit_code": credit_code(ORG_DIVISION, ORG_CODE_BODY),
            "industry": "cement",
            "key_emission_unit": True,
            "region": "重庆市",
            "extra": {
                "address": "重庆市忠县（虚构）",
                "capacity": "2×5000 t/d 新型干法熟料生产线，配套2×9 MW余热电站",
                "note": "演示数据：单位名称、代码及全部数值均为虚构",
            },
        },
        "reporting_year": REPORTING_YEAR,
        "as_of": AS_OF.isoformat(),
        "source_streams": build_streams(),
        "measuring_points": build_points(),
        "instruments": instruments,
        "calibrations": calibrations,
        "personnel": build_personnel(),
        "documents": build_documents(),
        "facilities": [{"id": i, "name": n, "level": lv} for i, n, lv in FACILITIES],
    }
    _self_check(doc)
    return doc


def _self_check(doc: dict[str, Any]) -> None:
    """Unique ids, resolvable references, and every planted defect present where DEFECTS says."""
    points = {p["id"] for p in doc["measuring_points"]}
    instruments = {i["id"]: i for i in doc["instruments"]}
    streams = {s["id"] for s in doc["source_streams"]}
    assert len(points) == len(doc["measuring_points"]) and len(instruments) == len(doc["instruments"])
    assert all(p["stream"] in streams for p in doc["measuring_points"])
    assert all(ref in points for i in instruments.values() for ref in i["points"])
    assert all(r["instrument"] in instruments for r in doc["calibrations"])
    assert all(ident in points or ident in instruments for ident, _, _ in DEFECTS)
    linked = {ref for i in instruments.values() for ref in i["points"]}
    measured = {p["id"] for p in doc["measuring_points"] if p["determination"] == "measured"}
    assert measured - linked == {"P08.2"}, measured - linked  # defect (5) is the only bare point
    assert [i["id"] for i in instruments.values() if "P11.1" in i["points"]] == ["XT-04"]
    assert instruments["XT-04"]["status"] == "standby"
    assert instruments["KS-06"]["seal_intact"] is False
    assert sum(i.get("seal_intact") is False for i in instruments.values()) == 1


def main() -> None:
    doc = build()
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    kinds: dict[str, int] = {}
    for s in STREAMS:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    print(
        f"wrote {OUT.name}: {len(doc['source_streams'])} streams {kinds}, "
        f"{len(doc['measuring_points'])} points, {len(doc['instruments'])} instruments, "
        f"{len(doc['calibrations'])} records, {len(doc['personnel'])} people, "
        f"{len(doc['documents'])} documents"
    )


if __name__ == "__main__":
    main()
