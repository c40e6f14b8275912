"""Annual point values of the demo plant from its demo month of metering data (web side), and the same values
in the snapshot the web exports and the command line reads."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.quant.formulas import CO2_PER_C
from carbonmeter.readings.demo import demo_readings
from carbonmeter.readings.values import PointValue, year_span_slots
from carbonmeter.web.assessment.services.snapshot import build_snapshot, snapshot_document
from carbonmeter.web.readings import quality
from carbonmeter.web.readings.demo_loader import load_demo_readings
from carbonmeter.web.readings.values import point_values
from carbonmeter.web.registry.models import MeasuringPoint, Organization, SourceStream

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # inside ibis 12

MONTH = dt.date(2025, 12, 1)  # the demo month; the demo plant reports 2025
YEAR = 2025
QUARTERS_2025 = 35040
HOURS_2025 = 8760


@pytest.fixture
def demo(lake: Path, org_a: Organization) -> dict[str, PointValue]:
    assert org_a.reporting_year == YEAR
    load_demo_readings(org_a, MONTH)
    values = point_values(org_a, YEAR)
    for code, v in sorted(values.items()):  # for the record (pytest -s)
        print(
            f"{code}: {v.value:.4f} {v.unit} availability={v.availability} "
            f"substituted={v.substituted_share:.5f} basis={v.basis} n={v.n} co2_t={v.co2_t}"
        )
    return values


def rows(point: str) -> list[dict[str, str]]:
    demo = demo_readings(MONTH)
    return [r for rows in demo.files.values() for r in rows if r["point"] == point]


def month_of(org: Organization, code: str) -> quality.PointQuality:
    point = MeasuringPoint.objects.get(organization=org, code=code)
    return quality.point_month(org, point, MONTH)


def test_demo_points_with_readings_get_values(demo: dict[str, PointValue]) -> None:
    # Every profiled demo point with readings; P25.2–P25.5 are the CO2 point's CEMS set, not values of
    # their own, and the demo has no P03.2 analyses. P22.3, P22.7 and P22.8 are the metering network's
    # meters (three months of registers).
    assert set(demo) == {
        "P01.1", "P02.1", "P03.1", "P04.1", "P05.1", "P13.1", "P22.1", "P22.2",
        "P01.2", "P01.3", "P03.3", "P05.2", "P25.1", "P22.3", "P22.7", "P22.8",
    }  # fmt: skip


def test_interval_point_is_the_sum_of_its_readings(demo: dict[str, PointValue]) -> None:
    p011 = demo["P01.1"]
    assert p011.value == pytest.approx(math.fsum(float(r["value"]) for r in rows("P01.1")))
    assert p011.unit == "t" and p011.basis == "interval_sum" and p011.substituted_share == 0.0
    # a complete December: 31 × 96 = 2,976 of the year's 35,040 quarter hours
    assert p011.n == 2976 and p011.availability == pytest.approx(2976 / QUARTERS_2025)


def test_gap_is_filled_by_the_profile_rule_as_the_quality_page_fills_it(
    demo: dict[str, PointValue], org_a: Organization
) -> None:
    p021 = demo["P02.1"]
    page = month_of(org_a, "P02.1")
    assert page.totals is not None and page.totals.substituted > 0
    measured = math.fsum(float(r["value"]) for r in rows("P02.1"))
    assert page.totals.measured == pytest.approx(measured)
    assert p021.value == pytest.approx(measured + page.totals.substituted)
    assert p021.substituted_share == pytest.approx(page.totals.substituted / p021.value)
    # six hours missing on day 17: 2,976 − 24 = 2,952 quarter hours measured
    assert p021.n == 2952 and p021.availability == pytest.approx(2952 / QUARTERS_2025)


def test_totalizers_rollover_and_meter_swap(demo: dict[str, PointValue], org_a: Organization) -> None:
    line2 = [float(r["value"]) / 1000 for r in rows("P22.2")]  # kWh → MWh
    # the register wraps once at 10,000 MWh in the month
    assert demo["P22.2"].value == pytest.approx(line2[-1] + 10_000.0 - line2[0], abs=1e-6)
    assert demo["P22.2"].basis == "totalizer_deltas" and demo["P22.2"].unit == "MWh"
    # the gas meter swap: the ledger's year agrees with the quality page's month (the same deltas)
    page = month_of(org_a, "P13.1")
    assert page.counter is not None
    assert demo["P13.1"].value == pytest.approx(page.counter.total, rel=1e-9)
    assert demo["P13.1"].unit == "m^3"


def test_lab_factors_weighted_by_the_streams_activity(demo: dict[str, PointValue]) -> None:
    # One month of activity: the weighted mean is that month's mean of the analyses.
    ncv = [float(r["value"]) for r in rows("P01.2")]  # MJ/kg = GJ/t
    assert demo["P01.2"].value == pytest.approx(math.fsum(ncv) / len(ncv))
    assert demo["P01.2"].unit == "GJ/t" and demo["P01.2"].basis == "activity_weighted_mean"
    assert demo["P01.2"].availability == pytest.approx(1.0)  # all of S01's coal is in analysed months
    # day 15's CaO of 165 % was quarantined: the mean rests on the 30 others
    cao = [float(r["value"]) for r in rows("P05.2") if float(r["value"]) < 100]
    assert demo["P05.2"].n == 30 and demo["P05.2"].value == pytest.approx(math.fsum(cao) / 30)


def test_cems_mass_is_the_quality_pages_hours(demo: dict[str, PointValue], org_a: Organization) -> None:
    p251 = demo["P25.1"]
    page = month_of(org_a, "P25.1")
    assert page.cems is not None and page.cems.co2_t is not None
    assert p251.co2_t == pytest.approx(page.cems.co2_t, rel=1e-12)
    # 744 December hours, one with 40 of 60 minutes (insufficient)
    assert p251.n == 743 and p251.availability == pytest.approx(743 / HOURS_2025)
    assert p251.unit == "%" and 20.0 < p251.value < 23.0  # the demo's CO2 is 21.5 % ± 0.6


def test_plausible_against_the_declared_streams(demo: dict[str, PointValue], org_a: Organization) -> None:
    """One month of readings, scaled to a year, against the demo's declared annual emissions (the figures
    go to the report; the check is an order of magnitude: the readings generator and the declared streams
    are independent inventions)."""
    declared = {s.code: s.annual_emissions_t for s in SourceStream.objects.filter(organization=org_a)}
    coal = demo["P01.1"].value
    cc = demo["P01.3"].value / 100  # t C per t coal (the demo's analyses are mass %)
    s01_year = coal * cc * CO2_PER_C * 12
    s25_year = (demo["P25.1"].co2_t or 0.0) * HOURS_2025 / demo["P25.1"].n
    print(f"S01: {coal:.1f} t coal × {cc:.4f} tC/t × 44/12 = {coal * cc * CO2_PER_C:.0f} t CO2 in December")
    print(f"S01 × 12 = {s01_year:.0f} t vs declared {declared['S01']:.0f} t")
    print(f"S25 hours scaled to the year = {s25_year:.0f} t vs declared {declared['S25']:.0f} t")
    assert 0.5 < s01_year / declared["S01"] < 4
    assert s25_year > 0


def test_snapshot_carries_the_values_and_the_file_reads_them_back(
    demo: dict[str, PointValue], org_a: Organization, tmp_path: Path
) -> None:
    """The web's snapshot document, written as JSON and read by the command line's parser, holds the same
    point values: what ``carbonmeter assess`` judges on the export is what the web computed. A value the
    plant recorded for a point is kept (the demo holds one month of readings, not a year); the ledger fills
    the points that have none."""
    recorded = {
        p.code: p.value for p in MeasuringPoint.objects.filter(organization=org_a, code__in=list(demo))
    }
    kept = snapshot_document(org_a, dt.date(2026, 1, 15))
    for point in kept["measuring_points"]:
        if recorded.get(point["id"]) is not None:
            assert point["value"] == recorded[point["id"]] and "availability" not in point, point["id"]
    for point in MeasuringPoint.objects.filter(organization=org_a, code__in=list(demo)):
        point.value, point.unit = None, ""
        point._change_reason = "test: a plant that records no annual values of its own"
        point.save()
    document = snapshot_document(org_a, dt.date(2026, 1, 15))
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(document, ensure_ascii=False, default=str), encoding="utf-8")
    snapshot = parse_json(path.read_bytes(), str(path))
    by_id = {p.id: p for p in snapshot.measuring_points}
    for code, v in demo.items():
        p = by_id[code]
        # JSON keeps a float's 17 digits; the two computations run on one thread each, so they agree exactly
        assert p.value == v.value and p.unit == v.unit, code
        assert p.availability == v.availability and p.substituted_share == v.substituted_share, code
    # points without readings keep their recorded value and no availability
    p061 = MeasuringPoint.objects.get(organization=org_a, code="P06.1")
    assert by_id["P06.1"].value == p061.value and by_id["P06.1"].availability is None
    typed = build_snapshot(org_a, dt.date(2026, 1, 15))
    from_ledger = {p.id: p.value for p in typed.measuring_points if p.availability is not None}
    assert from_ledger == {c: v.value for c, v in demo.items()}


def test_no_readings_no_values(lake: Path, org_a: Organization) -> None:
    assert point_values(org_a, YEAR) == {}
    document: dict[str, Any] = snapshot_document(org_a, dt.date(2026, 1, 15))
    assert all("availability" not in p for p in document["measuring_points"])  # nothing from a ledger
    assert year_span_slots(YEAR, 900) == QUARTERS_2025
