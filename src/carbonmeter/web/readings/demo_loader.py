"""Load the demo month of metering data (``carbonmeter.readings.demo``) into the database and the lake.

Everything goes through the same doors a user's data go through: point profiles and counter events as
rows with a reason, the extra calibration records as records, and the files through
:func:`carbonmeter.web.readings.services.ingest` — so the demo also exercises quarantine, the chain and the
validity gate. Loading twice stores nothing twice (ingest is idempotent by content hash).
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from openpyxl import Workbook

from carbonmeter.readings.demo import DemoReadings, Row, demo_readings
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings.models import CounterEvent, IngestRun, PointProfile
from carbonmeter.web.readings.services import ingest
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization, SourceStream
from carbonmeter.web.registry.services import set_points

SHANGHAI = ZoneInfo("Asia/Shanghai")
REASON = "演示数据：一个月的计量数据"
REASON_NETWORK = "演示数据：矿山10kV专线计量网络（主表与分表）"


def previous_month(day: date) -> date:
    """First day of the month before ``day``'s month: the last complete month, shown by the demo."""
    first = day.replace(day=1)
    return (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )


def _write_csv(path: Path, rows: list[Row]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[Row]) -> None:
    """Lab results arrive as a workbook with Chinese headers, as laboratories send them."""
    headers = {
        "point": "计量点",
        "quantity": "量",
        "ts": "时间",
        "value": "数值",
        "unit": "单位",
        "sample_id": "样品编号",
        "analyzed_at": "分析日期",
        "laboratory": "化验单位",
    }
    book = Workbook(write_only=True)
    sheet = book.create_sheet("读数")
    columns = list(headers)
    sheet.append([headers[c] for c in columns])
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    book.save(path)


def _network(org: Organization, demo: DemoReadings) -> None:
    """The sub-meters' points (added to the plan and linked to their meters) and the main meter of each
    sub-meter (计量网络), each change with its reason in the history."""
    for spec in demo.points:
        point = MeasuringPoint.objects.filter(organization=org, code=spec.code).first()
        if point is None:
            point = MeasuringPoint(
                organization=org,
                code=spec.code,
                stream=SourceStream.objects.get(organization=org, code=spec.stream),
                name=spec.name,
                role="activity_data",
                parameter=spec.parameter,
                purpose=spec.purpose,
            )
            point._change_reason = REASON_NETWORK
            point.save()
        instrument = Instrument.objects.get(organization=org, code=spec.instrument)
        linked = set(instrument.points.values_list("pk", flat=True))
        set_points(instrument, linked | {point.pk}, REASON_NETWORK)
    for code, main in demo.network.items():
        instrument = Instrument.objects.get(organization=org, code=code)
        parent = Instrument.objects.get(organization=org, code=main)
        if instrument.parent_id != parent.pk:
            instrument.parent = parent
            instrument.full_clean()
            instrument._change_reason = REASON_NETWORK
            instrument.save()


def _profiles(org: Organization, demo: DemoReadings) -> None:
    for spec in demo.profiles:
        point = MeasuringPoint.objects.get(organization=org, code=spec.point)
        if PointProfile.objects.filter(point=point).exists():
            continue
        profile = PointProfile(
            organization=org,
            point=point,
            quantity=spec.quantity,
            expected_interval=spec.expected_interval,
            min_value=spec.min_value,
            max_value=spec.max_value,
            counter_modulus=spec.counter_modulus,
            substitution=spec.substitution,
            default_value=spec.default_value,
            default_source=spec.default_source,
            instrument=Instrument.objects.filter(organization=org, code=spec.instrument).first(),
        )
        profile._change_reason = REASON
        profile.save()


#: What CEMS mass needs beyond the readings: the co-processing stack's flue is 2.0 m across (P25.2) and its
#: CO2 analyser is an extractive system that dries the sample (P25.1).
POINT_EXTRAS: dict[str, dict[str, object]] = {
    "P25.2": {"duct_area_m2": 3.1416},
    "P25.1": {"co2_basis": "dry"},
}


def _point_extras(org: Organization) -> None:
    for code, extra in POINT_EXTRAS.items():
        point = MeasuringPoint.objects.get(organization=org, code=code)
        if all(point.extra.get(k) == v for k, v in extra.items()):
            continue
        point.extra = {**point.extra, **extra}
        point._change_reason = REASON
        point.save()


def _events(org: Organization, demo: DemoReadings) -> None:
    for spec in demo.events:
        point = MeasuringPoint.objects.get(organization=org, code=spec.point)
        ts = spec.ts.replace(tzinfo=SHANGHAI)
        if CounterEvent.objects.filter(point=point, ts=ts, kind=spec.kind).exists():
            continue
        event = CounterEvent(
            organization=org,
            point=point,
            ts=ts,
            kind=spec.kind,
            old_end=spec.old_end,
            new_start=spec.new_start,
            reason=spec.reason,
        )
        event._change_reason = REASON
        event.save()


def _calibrations(org: Organization, demo: DemoReadings) -> None:
    for spec in demo.calibrations:
        instrument = Instrument.objects.get(organization=org, code=spec.instrument)
        if Calibration.objects.filter(instrument=instrument, date=spec.on, result=spec.result).exists():
            continue
        record = Calibration(
            instrument=instrument,
            kind=spec.kind,
            date=spec.on,
            valid_until=spec.valid_until,
            result=spec.result,
            certificate_no=spec.certificate_no,
            agency=spec.agency,
        )
        record._change_reason = REASON
        record.save()


def load_demo_readings(
    org: Organization, month_start: date, user: AbstractBaseUser | None = None
) -> list[IngestRun]:
    """Profiles, events, the failed calibration and the month's files; returns the ingest runs."""
    demo = demo_readings(month_start)
    _network(org, demo)
    _profiles(org, demo)
    _point_extras(org)
    _events(org, demo)
    _calibrations(org, demo)
    runs = []
    with tempfile.TemporaryDirectory(prefix="carbonmeter-demo-") as tmp:
        for name, rows in demo.files.items():
            path = Path(tmp) / f"{month_start:%Y-%m}-{name}"
            (_write_xlsx if name.endswith(".xlsx") else _write_csv)(path, rows)
            runs.append(ingest(org, source="upload", path=path, filename=path.name, user=user))
    return runs
