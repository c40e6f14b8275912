"""A month of real-looking metering data for the demo cement plant (``examples/demo-cement-plant.json``).

The month is chosen by the caller (``load_demo`` uses the month before the demo's as-of date), so the
demo looks the same whichever day it is started. The data are deterministic (seeded) and carry, on
purpose, each situation the data-quality chain must handle in front of a user:

* a totalizer **rollover**: the 110 kV line II energy register wraps at 10,000,000 kWh in mid-month (P22.2);
* a **meter replacement**: the natural-gas settlement meter is swapped on day 10 (P13.1, explicit event);
* **gaps**: six hours of the 1# calciner coal scale missing on day 17 (P02.1) and five hours of the
  line I energy register across midnight of day 25 (P22.1), so a gap meets a day boundary;
* a **failed calibration**: the 2# kiln-head coal scale (L2-01, point P03.1) fails an interim check on day 20
  and passes again after repair on day 21, so every reading since its last passed check is flagged;
* a CEMS hour with too few minutes (P25.x, day 12 02:00–03:00 has 40 of 60 minutes) and a lab result out
  of range (a clinker CaO of 165 %) that is quarantined.
* a **metering network** (计量网络平衡, issue 6.3.1): the mine's 10 kV line meter (KS-02, P22.3) is the
  main meter of the limestone crusher's meter (KS-04, new point P22.7) and the mine's 0.4 kV total meter
  (KS-03, new point P22.8), with hourly registers over the demo month and the two months before it; the
  two earlier months balance within U95, and in the demo month the line meter reads 3 % high (a wrong CT
  ratio set after maintenance on day 1), a significant imbalance that names KS-02.

Pure: returns rows and settings; the web shell (``load_demo``) writes them through the one ingest service.
"""

from __future__ import annotations

import calendar
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

Row = dict[str, str]


@dataclass(frozen=True)
class ProfileSpec:
    """Settings of one point's data (mirrors ``PointProfile``)."""

    point: str
    quantity: str
    expected_interval: int | None
    min_value: float | None = None
    max_value: float | None = None
    counter_modulus: float | None = None
    substitution: str = "none"
    default_value: float | None = None
    default_source: str = ""
    instrument: str | None = None


@dataclass(frozen=True)
class EventSpec:
    """An explicit counter event (mirrors ``CounterEvent``); ``ts`` is Asia/Shanghai local time."""

    point: str
    ts: datetime
    kind: str
    old_end: float | None
    new_start: float | None
    reason: str


@dataclass(frozen=True)
class CalibrationSpec:
    """A verification/calibration record added for the demo month."""

    instrument: str
    kind: str
    on: date
    valid_until: date | None
    result: str
    certificate_no: str
    agency: str


@dataclass(frozen=True)
class PointSpec:
    """A measuring point the demo adds to the plan (a sub-meter's point), linked to its instrument."""

    code: str
    stream: str
    name: str
    parameter: str
    purpose: str
    instrument: str


@dataclass
class DemoReadings:
    """Everything the demo month consists of; ``files`` maps a file name to its rows (input columns);
    ``points`` are added to the plan and ``network`` gives instruments their main meter (code → code)."""

    month_start: date
    files: dict[str, list[Row]] = field(default_factory=dict)
    profiles: list[ProfileSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    calibrations: list[CalibrationSpec] = field(default_factory=list)
    points: list[PointSpec] = field(default_factory=list)
    network: dict[str, str] = field(default_factory=dict)


QUARTER_HOUR = 900
HOUR = 3600
MINUTE = 60
KWH_MODULUS = 10_000_000.0  # the energy registers show 7 integer digits of kWh


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def _slots(month_start: date, step: int) -> list[datetime]:
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    start = datetime(month_start.year, month_start.month, 1)
    return [start + timedelta(seconds=i * step) for i in range(days * 86400 // step)]


def _load_shape(ts: datetime) -> float:
    """Kilns run flat out; a mild daily ripple keeps the curves honest-looking."""
    return 1.0 + 0.04 * math.sin(2 * math.pi * (ts.hour * 60 + ts.minute) / 1440)


def _in_gap(ts: datetime, gap: tuple[datetime, datetime] | None) -> bool:
    return gap is not None and gap[0] <= ts < gap[1]


def _coal_rows(
    rnd: random.Random,
    point: str,
    slots: list[datetime],
    t_per_h: float,
    gap: tuple[datetime, datetime] | None,
) -> list[Row]:
    rows = []
    for ts in slots:
        if _in_gap(ts, gap):
            continue
        value = t_per_h / 4 * _load_shape(ts) * rnd.gauss(1.0, 0.02)
        rows.append(
            {
                "point": point,
                "quantity": "consumption_mass",
                "ts": _fmt(ts),
                "value": f"{value:.3f}",
                "unit": "t",
            }
        )
    return rows


def _register_rows(
    rnd: random.Random,
    point: str,
    quantity: str,
    unit: str,
    slots: list[datetime],
    start: float,
    per_slot: float,
    *,
    modulus: float | None = None,
    gap: tuple[datetime, datetime] | None = None,
    swap: tuple[datetime, float] | None = None,
) -> tuple[list[Row], float | None]:
    """Cumulative register readings; returns the rows and, for a swap, the old meter's end register."""
    rows: list[Row] = []
    register = start
    old_end: float | None = None
    for ts in slots:
        if swap is not None and old_end is None and ts >= swap[0]:
            old_end = round(register, 1)
            register = swap[1]
        register += per_slot * _load_shape(ts) * rnd.gauss(1.0, 0.03)
        if modulus is not None and register >= modulus:
            register -= modulus
        if _in_gap(ts, gap):
            continue
        rows.append(
            {"point": point, "quantity": quantity, "ts": _fmt(ts), "value": f"{register:.1f}", "unit": unit}
        )
    return rows, old_end


def _cems_rows(rnd: random.Random, slots: list[datetime], outage: tuple[datetime, datetime]) -> list[Row]:
    params = [
        ("P25.1", "co2_concentration", "%", 21.5, 0.6),
        ("P25.2", "flow_velocity", "m/s", 14.2, 0.5),
        ("P25.3", "temperature", "degC", 152.0, 2.0),
        ("P25.4", "humidity", "%", 8.5, 0.3),
        ("P25.5", "pressure", "kPa", 98.6, 0.15),
    ]
    rows = []
    for ts in slots:
        if outage[0] <= ts < outage[1]:
            continue
        for point, quantity, unit, mean, sd in params:
            value = rnd.gauss(mean, sd)
            rows.append(
                {"point": point, "quantity": quantity, "ts": _fmt(ts), "value": f"{value:.2f}", "unit": unit}
            )
    return rows


def _lab_rows(rnd: random.Random, month_start: date) -> list[Row]:
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    rows = []
    for d in range(days):
        day = month_start + timedelta(days=d)
        sampled = datetime(day.year, day.month, day.day, 8, 0)
        analyzed = _fmt(sampled + timedelta(hours=30))
        lab = "本厂化验室"
        sample = f"{day:%Y%m%d}"
        cao = 165.0 if d == 14 else rnd.gauss(65.2, 0.4)  # day 15: a typing slip (16.5 → 165) to quarantine
        for point, quantity, unit, value in [
            ("P01.2", "ncv", "MJ/kg", rnd.gauss(23.4, 0.3)),
            ("P01.3", "carbon_content", "%", rnd.gauss(61.8, 0.5)),
            ("P03.3", "carbon_content", "%", rnd.gauss(62.3, 0.5)),
            ("P05.2", "cao", "%", cao),
        ]:
            rows.append(
                {
                    "point": point,
                    "quantity": quantity,
                    "ts": _fmt(sampled),
                    "value": f"{value:.2f}",
                    "unit": unit,
                    "sample_id": f"{point}-{sample}",
                    "analyzed_at": analyzed,
                    "laboratory": lab,
                }
            )
    return rows


def _coal(point: str, rule: str, instrument: str) -> ProfileSpec:
    """A coal scale: 15-minute tonnes, at most 7.5 t in a quarter (30 t/h scale range)."""
    return ProfileSpec(
        point, "consumption_mass", QUARTER_HOUR, 0.0, 7.5, substitution=rule, instrument=instrument
    )


def _profiles() -> list[ProfileSpec]:
    energy = KWH_MODULUS / 1000  # the modulus in the canonical unit, MWh
    return [
        _coal("P01.1", "mean_adjacent", "L1-01"),
        _coal("P02.1", "mean_adjacent", "L1-02"),
        _coal("P03.1", "period_max", "L2-01"),
        _coal("P04.1", "period_max", "L2-02"),
        ProfileSpec(
            "P05.1", "production", QUARTER_HOUR, 0.0, 100.0, substitution="mean_adjacent", instrument="L1-04"
        ),
        ProfileSpec("P13.1", "register_volume", QUARTER_HOUR, 0.0, None, instrument="GY-01"),
        ProfileSpec("P22.1", "register_electricity", QUARTER_HOUR, 0.0, None, energy, instrument="ZJ-01"),
        ProfileSpec("P22.2", "register_electricity", QUARTER_HOUR, 0.0, None, energy, instrument="ZJ-03"),
        ProfileSpec(
            "P25.1", "co2_concentration", MINUTE, 0.0, 25.0, substitution="mean_plus_2sd", instrument="XT-05"
        ),
        ProfileSpec(
            "P25.2", "flow_velocity", MINUTE, 0.0, 40.0, substitution="mean_adjacent", instrument="XT-06"
        ),
        ProfileSpec(
            "P25.3", "temperature", MINUTE, 0.0, 300.0, substitution="mean_adjacent", instrument="XT-07"
        ),
        ProfileSpec("P25.4", "humidity", MINUTE, 0.0, 40.0, substitution="mean_adjacent", instrument="XT-08"),
        ProfileSpec(
            "P25.5", "pressure", MINUTE, 80.0, 110.0, substitution="mean_adjacent", instrument="XT-09"
        ),
        *(
            ProfileSpec(point, "register_electricity", HOUR, 0.0, None, energy, instrument=code)
            for code, point in (NETWORK_MAIN, *((c, p) for c, p, _ in NETWORK_SUBS))
        ),
        ProfileSpec("P01.2", "ncv", None, 15.0, 32.0, instrument="HY-01"),
        ProfileSpec("P01.3", "carbon_content", None, 30.0, 90.0, instrument="HY-03"),
        ProfileSpec("P03.3", "carbon_content", None, 30.0, 90.0, instrument="HY-03"),
        ProfileSpec("P05.2", "cao", None, 55.0, 72.0, instrument="HY-05"),
    ]


#: The mine network (module docstring): main meter, its point, and the sub-meters with their points and mean
#: loads in kW (the line carries their sum).
NETWORK_MAIN = ("KS-02", "P22.3")
NETWORK_SUBS = (("KS-04", "P22.7", 900.0), ("KS-03", "P22.8", 350.0))
#: Each meter's reading ÷ the true energy, per month of the network's data (two months before the demo
#: month, the one before, the demo month): small errors well inside the meters' classes, then the line
#: meter's 3 % over-reading in the demo month.
NETWORK_FACTORS: dict[str, tuple[float, float, float]] = {
    "KS-02": (1.002, 0.998, 1.03),
    "KS-04": (0.999, 1.001, 1.0),
    "KS-03": (1.003, 0.997, 1.0),
}
NETWORK_MONTHS = 3


def _month_back(month_start: date, n: int) -> date:
    index = month_start.year * 12 + month_start.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def network_points() -> list[PointSpec]:
    """The sub-meters' points the demo adds to source stream S22 (purchased electricity): internal
    sub-metering (分项计量), not parts of the purchased amount, so not the formula's ``electricity``."""
    return [
        PointSpec(
            "P22.7",
            "S22",
            "石灰石破碎机电量（矿山10kV专线分表）",
            "sub_metering",
            "electricity_class_III",
            "KS-04",
        ),
        PointSpec(
            "P22.8",
            "S22",
            "矿山0.4kV总电量（矿山10kV专线分表）",
            "sub_metering",
            "electricity_class_III",
            "KS-03",
        ),
    ]


def _network_rows(rnd: random.Random, month_start: date) -> list[Row]:
    """Hourly kWh registers of the mine network over :data:`NETWORK_MONTHS` months ending with the demo
    month: each sub-meter's true energy follows its load; the line's is their sum; each meter reads its
    month's factor of the truth."""
    first = _month_back(month_start, NETWORK_MONTHS - 1)
    months = [_month_back(month_start, n) for n in range(NETWORK_MONTHS - 1, -1, -1)]
    slots = [ts for m in months for ts in _slots(m, HOUR)]
    registers = {"KS-02": 58_310.0, "KS-04": 41_880.0, "KS-03": 16_240.0}
    points = {NETWORK_MAIN[0]: NETWORK_MAIN[1], **{code: point for code, point, _ in NETWORK_SUBS}}
    rows: list[Row] = []
    for ts in slots:
        index = (ts.year * 12 + ts.month - 1) - (first.year * 12 + first.month - 1)
        true = {code: kw * _load_shape(ts) * rnd.gauss(1.0, 0.05) for code, _, kw in NETWORK_SUBS}
        true[NETWORK_MAIN[0]] = sum(true.values())
        for code, energy in true.items():
            registers[code] += energy * NETWORK_FACTORS[code][index]
            rows.append(
                {
                    "point": points[code],
                    "quantity": "register_electricity",
                    "ts": _fmt(ts),
                    "value": f"{registers[code]:.1f}",
                    "unit": "kWh",
                }
            )
    return rows


def demo_readings(month_start: date, seed: int = 2025) -> DemoReadings:
    """The demo month starting on ``month_start`` (day 1, Asia/Shanghai)."""
    if month_start.day != 1:
        raise ValueError(f"month_start must be the first day of a month, not {month_start}")
    rnd = random.Random(seed)
    quarter = _slots(month_start, QUARTER_HOUR)
    base = datetime(month_start.year, month_start.month, 1)

    def day(n: int, hour: int = 0) -> datetime:
        return base + timedelta(days=n - 1, hours=hour)

    out = DemoReadings(month_start=month_start, profiles=_profiles())
    meters: list[Row] = []
    meters += _coal_rows(rnd, "P01.1", quarter, 11.6, None)
    meters += _coal_rows(rnd, "P02.1", quarter, 17.4, (day(17, 8), day(17, 14)))
    meters += _coal_rows(rnd, "P03.1", quarter, 11.9, None)
    meters += _coal_rows(rnd, "P04.1", quarter, 17.9, None)
    meters += [
        {**r, "quantity": "production"}
        for r in _coal_rows(rnd, "P05.1", quarter, 208.0, None)  # clinker, t/h
    ]
    gas_swap = day(10, 10)
    gas, gas_old_end = _register_rows(
        rnd, "P13.1", "register_volume", "m3", quarter, 1_283_400.0, 78.0, swap=(gas_swap, 0.0)
    )
    meters += gas
    line1, _ = _register_rows(
        rnd,
        "P22.1",
        "register_electricity",
        "kWh",
        quarter,
        431_220.0,
        2_150.0,
        modulus=KWH_MODULUS,
        gap=(day(25, 22), day(26, 3)),
    )
    line2, _ = _register_rows(
        rnd, "P22.2", "register_electricity", "kWh", quarter, 7_150_000.0, 1_980.0, modulus=KWH_MODULUS
    )
    meters += line1 + line2
    out.files["meters.csv"] = meters
    out.files["cems.csv"] = _cems_rows(
        rnd, _slots(month_start, MINUTE), (day(12, 2), day(12, 2) + timedelta(minutes=20))
    )
    out.files["lab.xlsx"] = _lab_rows(rnd, month_start)
    out.files["network.csv"] = _network_rows(random.Random(seed + 1), month_start)
    out.points = network_points()
    out.network = {code: NETWORK_MAIN[0] for code, _, _ in NETWORK_SUBS}
    out.events.append(
        EventSpec(
            "P13.1",
            gas_swap,
            "replacement",
            gas_old_end,
            0.0,
            "燃气公司更换贸易结算流量计（周期检定到期），旧表止码与新表起码经双方签字确认",
        )
    )
    fail_day = month_start + timedelta(days=19)
    out.calibrations += [
        CalibrationSpec(
            "L2-01",
            "calibration",
            fail_day,
            None,
            "fail",
            f"JZ{fail_day:%Y%m%d}-07",
            "重庆市计量质量检测研究院",
        ),
        CalibrationSpec(
            "L2-01",
            "calibration",
            fail_day + timedelta(days=1),
            fail_day + timedelta(days=366),
            "pass",
            f"JZ{fail_day:%Y%m%d}-08",
            "重庆市计量质量检测研究院",
        ),
    ]
    return out
