"""Deterministic synthetic plant snapshot (contract §2) for the benchmark.

``python bench/make_synthetic_plant.py OUT.json [--seed N] [--streams N] [--points N] [--instruments N]
[--calibrations N]`` writes a valid ``carbonmeter.snapshot/1`` document.  The same seed and counts give the
same bytes.  Defaults: 5,000 streams, 12,000 points, 20,000 instruments, 60,000 calibration records.

Variety, so that every code path of the engine is exercised:

* every stream kind and both methods; measurement streams organized and unorganized (some unorganized ones
  below the threshold, so they require nothing); emissions spread so that every Table A.1 row has points,
  with some values exactly on the category bounds;
* every measuring purpose of the ``cq-part1`` pack, some points determined by default values, some points
  with no instrument at all;
* instruments mostly one per point, some redundant (several instruments on one point), some serving several
  points, some measuring systems with components, portable and spare instruments linked to nothing, all
  five statuses, a few register entries with missing fields;
* calibration histories that are current, due soon, expired, voided by a later failure, recovered after a
  failure, dated after ``as_of``, or absent.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple, get_args

from carbonmeter.core.snapshot import StreamKind

AS_OF = date(2026, 1, 15)
REPORTING_YEAR = 2025

Json = dict[str, Any]


class Purpose(NamedTuple):
    """One measuring purpose of the cq-part1 pack and the instruments that serve it."""

    parameter: str
    purpose: str
    itype: str
    name: str
    #: (field, value) of an accuracy that meets the requirement, and of one that does not.
    good: tuple[str, Any]
    bad: tuple[str, Any]


def C(value: str) -> tuple[str, Any]:
    """An accuracy class."""
    return ("accuracy_class", value)


def M(value: float) -> tuple[str, Any]:
    """A relative MPE in percent."""
    return ("mpe_percent", value)


def A(value: float) -> tuple[str, Any]:
    """An absolute MPE in °C."""
    return ("mpe_abs", value)


P = Purpose

ACTIVITY_FUEL: tuple[Purpose, ...] = (
    P("consumption", "weighing_static", "truck_scale", "电子汽车衡", C("III"), C("IIII")),
    P("consumption", "weighing_dynamic", "belt_scale", "电子皮带秤", C("0.5"), C("1.0")),
    P("consumption", "refined_oil", "fuel_dispenser", "成品油流量计", C("0.5"), C("1.0")),
    P("consumption", "refined_oil_trade", "fuel_dispenser", "加油机", C("0.3"), C("0.5")),
    P("consumption", "heavy_oil", "flow_meter", "重油流量计", C("1.0"), C("1.5")),
    P("consumption", "natural_gas_trade", "gas_meter", "天然气贸易计量表", C("1.0"), C("1.5")),
    P("consumption", "coal_gas", "flow_meter", "煤气流量计", C("2.0"), C("2.5")),
    P("consumption", "natural_gas", "gas_meter", "天然气流量计", M(1.5), M(3.0)),
    P("temperature", "temperature_mass_calc", "thermometer", "温度变送器", C("0.5"), C("1.5")),
    P("pressure", "pressure_mass_calc", "pressure_gauge", "压力变送器", C("0.5"), C("1.6")),
)
ACTIVITY_MATERIAL: tuple[Purpose, ...] = ACTIVITY_FUEL[:2]
ACTIVITY_ELECTRICITY: tuple[Purpose, ...] = (
    P("electricity", "electricity_class_I", "electricity_meter", "关口电能表", C("0.2S"), C("0.5S")),
    P("electricity", "electricity_class_II", "electricity_meter", "电能表", C("0.5S"), C("1.0")),
    P("electricity", "electricity_class_III", "electricity_meter", "电能表", C("1.0"), C("2.0")),
    P("electricity", "electricity_class_IV", "electricity_meter", "电能表", C("2.0"), C("3.0")),
    P("electricity", "electricity_class_V", "electricity_meter", "电能表", C("2.0"), C("3.0")),
    P("electricity", "electricity_dc", "dc_meter", "直流电能表", C("1.0"), C("2.5")),
)
ACTIVITY_HEAT: tuple[Purpose, ...] = (
    P("heat", "heat_meter", "heat_meter", "热量表", C("2"), C("3")),
    P("heat", "steam", "flow_meter", "蒸汽流量计", C("1.5"), C("4.0")),
    P("temperature", "temperature_energy", "thermometer", "温度计", C("1.0"), C("2.5")),
    P("pressure", "pressure_energy", "pressure_gauge", "压力表", C("1.6"), C("2.5")),
)
FACTOR: tuple[Purpose, ...] = (
    P("ncv", "calorimeter", "calorimeter", "量热仪", M(0.2), M(0.5)),
    P("carbon_content", "carbon_analyser", "carbon_analyser", "元素分析仪", M(0.5), M(1.0)),
)
CEMS: tuple[Purpose, ...] = (
    P("co2_concentration", "cems_co2_concentration", "cems_analyser", "CEMS CO2分析仪", M(2.0), M(5.0)),
    P("flow_velocity", "cems_flow_velocity", "cems_flow", "CEMS 烟气流速仪", M(5.0), M(15.0)),
    P("temperature", "cems_temperature", "cems_thermometer", "CEMS 温度计", A(2.0), A(5.0)),
    P("humidity", "cems_humidity", "cems_hygrometer", "CEMS 湿度仪", M(10.0), M(30.0)),
    P("pressure", "cems_pressure", "cems_pressure", "CEMS 压力计", M(1.0), M(2.0)),
)
UNORGANIZED = P(
    "co2_concentration", "unorganized_monitoring", "open_path_analyser", "无组织排放监测仪", M(5.0), M(15.0)
)

STREAM_KINDS: tuple[str, ...] = get_args(StreamKind)
KIND_WEIGHTS: tuple[int, ...] = (34, 20, 12, 6, 3, 3, 7, 15)
STREAM_NAMES: dict[str, tuple[str, ...]] = {
    "fuel_combustion": ("烟煤", "无烟煤", "天然气", "柴油", "汽油", "重油", "焦炉煤气", "高炉煤气", "石油焦"),
    "process": ("生料碳酸盐分解", "石灰石脱硫", "电石渣", "白云石煅烧", "碳酸钠使用"),
    "purchased_electricity": ("购入电力",),
    "purchased_heat": ("购入热力", "购入蒸汽"),
    "exported_electricity": ("输出电力",),
    "exported_heat": ("输出热力", "输出蒸汽"),
    "carbon_product": ("粗钢固碳", "甲醇固碳", "电极"),
    "other": ("废水处理", "火炬燃烧", "逸散排放"),
}
STATUSES: tuple[str, ...] = ("in_use", "standby", "stopped", "sealed", "scrapped")
STATUS_WEIGHTS: tuple[int, ...] = (82, 7, 4, 3, 4)
MANUFACTURERS: tuple[str, ...] = ("赛摩", "威胜", "开元", "正星", "横河", "艾默生", "西门子", "川仪")
AGENCIES: tuple[str, ...] = (
    "重庆市计量质量检测研究院",
    "中国测试技术研究院",
    "国网重庆电力计量中心",
    "厂内计量室",
)
DOCUMENT_KINDS: tuple[str, ...] = (
    "metering_management",
    "instrument_management",
    "verification_calibration",
    "data_management",
    "personnel_training",
)


@dataclass(frozen=True)
class Counts:
    """How big the plant is."""

    streams: int = 5_000
    points: int = 12_000
    instruments: int = 20_000
    calibrations: int = 60_000


@dataclass
class PointPlan:
    """A measuring point and the purpose entry it was drawn from (to equip it consistently)."""

    doc: Json
    purpose: Purpose


@dataclass
class Plant:
    """The lists of the snapshot under construction."""

    streams: list[Json] = field(default_factory=list)
    points: list[PointPlan] = field(default_factory=list)
    instruments: list[Json] = field(default_factory=list)
    calibrations: list[Json] = field(default_factory=list)


# --- source streams ---------------------------------------------------------------------------------------


def _emissions(rng: random.Random) -> float:
    """Annual emissions spread over the three categories, with some values exactly on a bound."""
    draw = rng.random()
    if draw < 0.02:
        return rng.choice((5000.0, 1000.0, 4999.9, 999.9, 0.0))
    if draw < 0.30:
        return round(10 ** rng.uniform(3.7, 5.6), 1)  # major (≥ 5000 t)
    if draw < 0.60:
        return round(rng.uniform(1000.0, 4999.0), 1)  # minor
    return round(rng.uniform(0.0, 999.0), 1)  # de minimis


def make_stream(rng: random.Random, index: int) -> Json:
    kind = rng.choices(STREAM_KINDS, KIND_WEIGHTS)[0]
    method = "calculation"
    if kind in ("fuel_combustion", "process", "other") and rng.random() < 0.12:
        method = "measurement"
    stream: Json = {
        "id": f"S{index:05d}",
        "name": f"{rng.choice(STREAM_NAMES[kind])}-{index}",
        "kind": kind,
        "method": method,
        "annual_emissions_t": _emissions(rng),
    }
    if method == "measurement" and rng.random() < 0.3:
        stream["emission_mode"] = "unorganized"
    return stream


# --- measuring points -------------------------------------------------------------------------------------


AUXILIARY = ("temperature", "pressure")


def _activity_table(kind: str) -> tuple[Purpose, ...]:
    if kind in ("purchased_electricity", "exported_electricity"):
        return ACTIVITY_ELECTRICITY
    if kind in ("purchased_heat", "exported_heat"):
        return ACTIVITY_HEAT
    if kind in ("process", "carbon_product"):
        return ACTIVITY_MATERIAL
    return ACTIVITY_FUEL


def _point_purpose(rng: random.Random, stream: Json, primary: bool) -> tuple[str, Purpose]:
    """(role, purpose entry) of a new point of ``stream``: its first point is its activity data."""
    if stream["method"] == "measurement":
        if stream.get("emission_mode") == "unorganized":
            return "cems", UNORGANIZED
        return "cems", CEMS[0] if primary else rng.choice(CEMS)
    table = _activity_table(stream["kind"])
    if primary:  # the quantity consumed or delivered, not an auxiliary temperature or pressure
        return "activity_data", rng.choice([p for p in table if p.parameter not in AUXILIARY])
    if table in (ACTIVITY_ELECTRICITY, ACTIVITY_HEAT) or rng.random() < 0.3:
        return "activity_data", rng.choice(table)
    return "emission_factor", rng.choice(FACTOR)


def make_point(rng: random.Random, stream: Json, index: int, primary: bool) -> PointPlan:
    role, purpose = _point_purpose(rng, stream, primary)
    doc: Json = {"id": f"P{index:05d}", "stream": stream["id"], "role": role, "parameter": purpose.parameter}
    if role == "emission_factor" and rng.random() < 0.3:
        doc["determination"] = "default"  # a value from the accounting guide: needs no instrument
    else:
        doc["purpose"] = purpose.purpose
    if purpose.purpose in ("refined_oil_trade", "natural_gas_trade") or (
        purpose.purpose == "electricity_class_I" and rng.random() < 0.5
    ):
        doc["trade_settlement"] = True
    if purpose.purpose == "cems_flow_velocity":
        doc["operating_value"] = round(rng.uniform(4.0, 25.0), 1)
    elif purpose.purpose == "cems_humidity":
        doc["operating_value"] = round(rng.uniform(2.0, 15.0), 1)
    return PointPlan(doc, purpose)


def make_points(rng: random.Random, streams: Sequence[Json], n: int) -> list[PointPlan]:
    """One primary point per stream (while n lasts), the rest over random streams; grouped by stream."""
    owners = list(range(min(n, len(streams))))
    owners += [rng.randrange(len(streams)) for _ in range(n - len(owners))] if streams else []
    owners.sort()
    plans: list[PointPlan] = []
    previous = -1
    for index, owner in enumerate(owners, start=1):
        plans.append(make_point(rng, streams[owner], index, primary=owner != previous))
        previous = owner
    return plans


# --- instruments ------------------------------------------------------------------------------------------


def _accuracy(rng: random.Random, purpose: Purpose) -> Json:
    """The instrument's stated accuracy: usually good enough, sometimes not, now and then missing."""
    draw = rng.random()
    if draw < 0.03:
        return {}
    key, value = purpose.good if draw < 0.90 else purpose.bad
    if key == "mpe_abs":
        return {"mpe_abs": value, "mpe_abs_unit": "°C"}
    return {key: value}


def _components(rng: random.Random, purpose: Purpose) -> list[Json]:
    """Components of a measuring system (flow sensor, transmitters, calculator)."""
    if purpose.purpose == "heat_meter":
        return [
            {"type": "flow_sensor", "accuracy_class": "1.0"},
            {"type": "temperature_pair", "mpe_percent": 0.5},
            {"type": "calculator", "mpe_percent": rng.choice((0.5, 1.0))},
        ]
    return [
        {"type": "flow_sensor", "accuracy_class": rng.choice(("0.5", "1.0"))},
        {"type": "pressure_transmitter", "accuracy_class": "0.2"},
        {"type": "temperature_transmitter", "accuracy_class": "0.5"},
        {"type": "flow_computer", "mpe_percent": 0.1},
    ]


def make_instrument(rng: random.Random, index: int, purpose: Purpose, points: list[str]) -> Json:
    inst: Json = {
        "id": f"I{index:05d}",
        "name": purpose.name,
        "type": purpose.itype,
        "model": f"M-{rng.randrange(100, 999)}",
        "serial_no": f"SN{rng.randrange(10**7, 10**8)}",
        "asset_no": f"JL-{index:05d}",
        "manufacturer": rng.choice(MANUFACTURERS),
        "measuring_range": f"0-{rng.choice((50, 100, 300, 500, 1000))}",
        "location": f"{rng.randrange(1, 40)}#车间",
    }
    if purpose.purpose in ("heat_meter", "steam", "natural_gas", "coal_gas") and rng.random() < 0.25:
        inst["components"] = _components(rng, purpose)
        inst["accuracy_class"] = purpose.good[1] if purpose.good[0] == "accuracy_class" else "1.0"
    else:
        inst.update(_accuracy(rng, purpose))
    if rng.random() < 0.02:
        del inst[rng.choice(("model", "serial_no", "manufacturer", "location"))]
    status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    if status != "in_use":
        inst["status"] = status
    if points:
        inst["points"] = points
    itype = purpose.itype
    if itype in ("electricity_meter", "dc_meter", "gas_meter", "fuel_dispenser"):
        inst["seal_intact"] = rng.random() < 0.95
    if rng.random() < 0.4:
        inst["smart"] = True
    if itype == "gas_meter" and rng.random() < 0.5:
        inst["ownership"] = "supplier"
    elif itype in ("calorimeter", "carbon_analyser") and rng.random() < 0.3:
        inst["ownership"] = "external_lab"
    return inst


def _portable(rng: random.Random, index: int) -> Json:
    inst = make_instrument(rng, index, rng.choice(CEMS + ACTIVITY_FUEL[2:6]), [])
    inst["name"] = "便携式" + inst["name"]
    inst["portable"] = True
    return inst


def make_instruments(rng: random.Random, plans: Sequence[PointPlan], n: int) -> list[Json]:
    """About one instrument per measured point, then redundancy, shared meters and spares up to ``n``.

    The register is shuffled: a plant lists instruments by asset number, not in monitoring-plan order.
    """
    measured = [p for p in plans if p.doc.get("determination") != "default"]
    by_purpose: dict[Purpose, list[PointPlan]] = {}
    for plan in measured:
        by_purpose.setdefault(plan.purpose, []).append(plan)
    out: list[Json] = []
    for plan in measured:
        if len(out) >= n:
            break
        if rng.random() < 0.05:
            continue  # a point nobody equipped
        links = [plan.doc["id"]]
        if rng.random() < 0.05:  # one meter serving two or three points of the same purpose
            siblings = rng.sample(by_purpose[plan.purpose], min(2, len(by_purpose[plan.purpose])))
            links += [s.doc["id"] for s in siblings[: rng.randrange(1, 3)] if s is not plan]
        out.append(make_instrument(rng, len(out) + 1, plan.purpose, links))
    while len(out) < n:
        if rng.random() < 0.15 or not measured:
            out.append(_portable(rng, len(out) + 1))
        else:
            plan = rng.choice(measured)  # a redundant or backup instrument on a point
            out.append(make_instrument(rng, len(out) + 1, plan.purpose, [plan.doc["id"]]))
    rng.shuffle(out)
    for number, inst in enumerate(out, start=1):
        inst["id"], inst["asset_no"] = f"I{number:05d}", f"JL-{number:05d}"
    return out


# --- calibration records ----------------------------------------------------------------------------------


#: Instruments under compulsory verification (检定); the others are calibrated (校准).
VERIFIED_TYPES = frozenset({"electricity_meter", "truck_scale", "fuel_dispenser", "gas_meter"})


def _record(rng: random.Random, inst: Json, when: date, passed: bool, months: int = 12) -> Json:
    rec: Json = {
        "instrument": inst["id"],
        "kind": "verification" if inst["type"] in VERIFIED_TYPES else "calibration",
        "date": when.isoformat(),
        "result": "pass" if passed else "fail",
        "certificate_no": f"JD{when.year}-{rng.randrange(10**5, 10**6)}",
        "agency": rng.choice(AGENCIES),
    }
    if passed:
        rec["valid_until"] = (when + timedelta(days=round(months * 30.4) - 1)).isoformat()
    return rec


def _days_before(days: int) -> date:
    return AS_OF - timedelta(days=days)


def history(rng: random.Random, inst: Json) -> list[Json]:
    """The records that decide traceability at AS_OF, by scenario."""
    draw = rng.random()
    if draw < 0.70:  # current certificate
        return [_record(rng, inst, _days_before(rng.randrange(0, 335)), True)]
    if draw < 0.76:  # current, but due within the warning horizon (or ending exactly on AS_OF)
        return [_record(rng, inst, _days_before(rng.randrange(335, 365)), True)]
    if draw < 0.84:  # expired
        return [_record(rng, inst, _days_before(rng.randrange(380, 700)), True)]
    if draw < 0.89:  # voided: a later recalibration failed
        passed = rng.randrange(60, 330)
        return [
            _record(rng, inst, _days_before(passed), True),
            _record(rng, inst, _days_before(rng.randrange(0, passed)), False),
        ]
    if draw < 0.93:  # recovered: failed, repaired, passed
        failed = rng.randrange(30, 300)
        return [
            _record(rng, inst, _days_before(failed), False),
            _record(rng, inst, _days_before(rng.randrange(0, failed)), True),
        ]
    if draw < 0.95:  # only a record dated after AS_OF
        return [_record(rng, inst, AS_OF + timedelta(days=rng.randrange(1, 60)), True)]
    return []  # never verified


def make_calibrations(rng: random.Random, instruments: Sequence[Json], n: int) -> list[Json]:
    """Deciding records per instrument, then older passing history up to ``n`` records, in date order."""
    records = [rec for inst in instruments for rec in history(rng, inst)][:n]
    while len(records) < n and instruments:
        inst = rng.choice(instruments)
        years_back = rng.randrange(2, 8)
        records.append(_record(rng, inst, _days_before(365 * years_back + rng.randrange(0, 300)), True))
    records.sort(key=lambda r: (r["date"], r["instrument"]))  # a calibration log is chronological
    return records


# --- the snapshot -----------------------------------------------------------------------------------------


def _people_and_documents(rng: random.Random) -> tuple[list[Json], list[Json]]:
    people: list[Json] = [
        {
            "name": "张伟",
            "role": "碳计量负责人",
            "responsible": True,
            "certificates": [{"name": "计量管理人员证书", "valid_until": "2027-06-30"}],
        },
        {
            "name": "李娜",
            "role": "计量员",
            "certificates": [{"name": "检定员证", "valid_until": "2025-12-31"}],
        },
        {"name": "王强", "role": "数据管理员"},
    ]
    docs: list[Json] = [{"kind": k, "title": f"{k} 制度", "approved": "2025-01-01"} for k in DOCUMENT_KINDS]
    return people, docs[: len(docs) - rng.randrange(0, 2)]


def make_plant(counts: Counts, seed: int = 20260115) -> Json:
    """The whole snapshot document; the same ``counts`` and ``seed`` give the same document."""
    rng = random.Random(seed)
    streams = [make_stream(rng, i) for i in range(1, counts.streams + 1)]
    plans = make_points(rng, streams, counts.points)
    instruments = make_instruments(rng, plans, counts.instruments)
    calibrations = make_calibrations(rng, instruments, counts.calibrations)
    people, documents = _people_and_documents(rng)
    return {
        "schema": "carbonmeter.snapshot/1",
        "organization": {
            "name": "合成基准集团有限公司",
            "credit_code": "91500000BENCH0000X",
            "industry": "mixed",
            "key_emission_unit": True,
        },
        "reporting_year": REPORTING_YEAR,
        "as_of": AS_OF.isoformat(),
        "source_streams": streams,
        "measuring_points": [p.doc for p in plans],
        "instruments": instruments,
        "calibrations": calibrations,
        "personnel": people,
        "documents": documents,
    }


def write_plant(path: Path, counts: Counts, seed: int = 20260115) -> Path:
    """Write the plant to ``path`` (UTF-8, one-space indent like ``carbonmeter convert``)."""
    text = json.dumps(make_plant(counts, seed), ensure_ascii=False, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("output", type=Path)
    p.add_argument("--seed", type=int, default=20260115)
    p.add_argument("--streams", type=int, default=Counts.streams)
    p.add_argument("--points", type=int, default=Counts.points)
    p.add_argument("--instruments", type=int, default=Counts.instruments)
    p.add_argument("--calibrations", type=int, default=Counts.calibrations)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    a = _args(argv)
    counts = Counts(a.streams, a.points, a.instruments, a.calibrations)
    path = write_plant(a.output, counts, a.seed)
    print(
        f"{path}: {counts.streams} streams, {counts.points} points, {counts.instruments} instruments, "
        f"{counts.calibrations} calibration records ({path.stat().st_size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
