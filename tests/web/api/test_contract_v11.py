"""Contract v1.1 fields (§6.1) through the API: read on streams, points, instruments and records, written
where the API writes (an instrument's 投用日期, a record's U and k)."""

from __future__ import annotations

from typing import Any

from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Facility, Instrument, MeasuringPoint, Organization, SourceStream


def test_streams_and_points_carry_facility_formula_and_value(as_user: Any, org_a: Organization) -> None:
    facility = Facility.objects.get(organization=org_a, code="F1")  # the demo's 1#熟料生产线
    stream = SourceStream.objects.filter(organization=org_a).order_by("code").first()
    assert stream is not None
    stream.facility, stream.formula, stream.annual_emissions_t = facility, "fuel_ncv_cc", None
    stream._change_reason = "test"
    stream.save()
    point = MeasuringPoint.objects.filter(stream=stream).order_by("code").first()
    assert point is not None
    point.value, point.unit, point.u_rel = 125000.0, "t", 0.005
    point._change_reason = "test"
    point.save()

    streams = {s["code"]: s for s in as_user("officer_a").get("/api/streams", organization=org_a.pk).json()}
    got = streams[stream.code]
    assert (got["facility"], got["formula"], got["annual_emissions_t"]) == ("F1", "fuel_ncv_cc", None)
    # The demo's other streams: each with its facility's code, the formula as its id where it has one.
    db = {s.code: s for s in SourceStream.objects.filter(organization=org_a).select_related("facility")}
    for code, s in streams.items():
        assert s["facility"] == (db[code].facility.code if db[code].facility else None)
        assert s["formula"] == db[code].formula
    points = {p["code"]: p for p in as_user("officer_a").get("/api/points", stream=stream.pk).json()}
    assert {k: points[point.code][k] for k in ("value", "unit", "u_rel", "factor")} == {
        "value": 125000.0,
        "unit": "t",
        "u_rel": 0.005,
        "factor": "",
    }


def test_an_instruments_first_day_in_service_is_written_and_read(as_user: Any, org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    response = as_user("officer_a").patch(
        f"/api/instruments/{inst.pk}", {"in_service_from": "2025-03-01", "reason": "补录投用日期"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["in_service_from"] == "2025-03-01"
    inst.refresh_from_db()
    assert str(inst.in_service_from) == "2025-03-01"
    assert inst.history.first().history_change_reason == "补录投用日期"  # type: ignore[union-attr]


def test_a_record_takes_u_and_k(as_user: Any, org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    body = {
        "instrument": inst.pk,
        "kind": "calibration",
        "date": "2026-01-10",
        "valid_until": "2027-01-09",
        "result": "pass",
        "certificate_no": "JZ2026-UK",
        "expanded_uncertainty_percent": 0.25,
        "coverage_factor": 2.0,
    }
    response = as_user("clerk_a").post("/api/calibrations", body)
    assert response.status_code == 201, response.content
    assert (response.json()["expanded_uncertainty_percent"], response.json()["coverage_factor"]) == (
        0.25,
        2.0,
    )
    stored = Calibration.objects.get(pk=response.json()["id"])
    assert (stored.expanded_uncertainty_percent, stored.coverage_factor) == (0.25, 2.0)
    refused = as_user("clerk_a").post("/api/calibrations", body | {"coverage_factor": 0})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "coverage_factor"
