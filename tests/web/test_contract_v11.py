"""Contract v1.1 (§6.1) in the web app: the new fields are kept, built into the snapshot, exported and
re-imported unchanged, entered through the forms by name (never by key), and an organization's industry
selects its rule pack."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from carbonmeter.io.snapshot_json import parse_json, to_jsonable
from carbonmeter.io.snapshot_xlsx import read_xlsx
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.assessment.services.snapshot import build_snapshot, snapshot_document
from carbonmeter.web.assessment.services.transfer import ShownChange, export_xlsx, report_rows
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.forms import MeasuringPointAdminForm, SourceStreamAdminForm
from carbonmeter.web.registry.models import (
    Facility,
    Instrument,
    MeasuringPoint,
    Organization,
    SourceStream,
)
from carbonmeter.web.registry.pack_terms import factor_label, formula_label
from carbonmeter.web.registry.services import import_snapshot
from tests.web.conftest import login, make_user

AS_OF = date(2026, 1, 15)

#: A small plant using every v1.1 field: two facilities, a fuel stream with a formula and its declared
#: emissions, an electricity stream with a formula and none declared (the engine computes them).
V11: dict[str, Any] = {
    "schema": "carbonmeter.snapshot/1",
    "organization": {
        "name": "合同一点一水泥有限公司",
        "credit_code": "91500000000000011X",
        "industry": "cement",
    },
    "reporting_year": 2025,
    "as_of": AS_OF.isoformat(),
    "facilities": [
        {"id": "F0", "name": "全厂", "level": "enterprise"},
        {"id": "F1", "name": "1#熟料生产线", "level": "key_facility"},
    ],
    "source_streams": [
        {
            "id": "S1",
            "name": "烟煤",
            "kind": "fuel_combustion",
            "method": "calculation",
            "facility": "F1",
            "formula": "fuel_ncv_cc",
            "annual_emissions_t": 182000.0,
        },
        {
            "id": "S2",
            "name": "购入电力",
            "kind": "purchased_electricity",
            "method": "calculation",
            "facility": "F0",
            "formula": "electricity",
        },
    ],
    "measuring_points": [
        {
            "id": "P1",
            "stream": "S1",
            "role": "activity_data",
            "parameter": "consumption",
            "purpose": "weighing_dynamic",
            "value": 125000.0,
            "unit": "t",
        },
        {
            "id": "P2",
            "stream": "S1",
            "role": "emission_factor",
            "parameter": "ncv",
            "purpose": "calorimeter",
            "value": 21.5,
            "unit": "GJ/t",
            "u_rel": 0.01,
        },
        {
            "id": "P3",
            "stream": "S2",
            "role": "activity_data",
            "parameter": "electricity",
            "purpose": "electricity_class_I",
            "value": 15000.0,
            "unit": "MWh",
        },
        {
            "id": "P4",
            "stream": "S2",
            "role": "emission_factor",
            "parameter": "emission_factor",
            "determination": "default",
            "factor": "grid.provincial.chongqing.2022",
        },
    ],
    "instruments": [
        {
            "id": "I1",
            "name": "电子皮带秤",
            "type": "belt_scale",
            "accuracy_class": "0.5",
            "points": ["P1"],
            "in_service_from": "2025-03-01",
        },
        {
            "id": "I2",
            "name": "关口电能表",
            "type": "electricity_meter",
            "accuracy_class": "0.2S",
            "points": ["P3"],
        },
    ],
    "calibrations": [
        {
            "instrument": "I1",
            "kind": "verification",
            "date": "2025-03-01",
            "valid_until": "2026-02-28",
            "result": "pass",
            "certificate_no": "JD2025-011",
            "expanded_uncertainty_percent": 0.2,
            "coverage_factor": 2.0,
        },
        {
            "instrument": "I2",
            "kind": "verification",
            "date": "2025-04-01",
            "valid_until": "2026-03-31",
            "result": "pass",
            "certificate_no": "JD2025-012",
        },
    ],
}


@pytest.fixture
def v11(db: Any) -> Organization:
    org, _ = import_snapshot(parse_json(json.dumps(V11).encode(), "v11.json"), reason="v1.1 test")
    assert org is not None
    return org


def test_no_model_change_lacks_its_migration(db: Any) -> None:
    """``makemigrations --check`` exits non-zero when a model change has no migration."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


# --- models ---------------------------------------------------------------------------------------------


def test_the_import_keeps_every_v11_field(v11: Organization) -> None:
    f1 = Facility.objects.get(organization=v11, code="F1")
    assert (f1.name, f1.level) == ("1#熟料生产线", "key_facility")
    s1, s2 = SourceStream.objects.filter(organization=v11).order_by("code")
    assert (s1.facility, s1.formula, s1.annual_emissions_t) == (f1, "fuel_ncv_cc", 182000.0)
    assert (s2.facility.code, s2.formula, s2.annual_emissions_t) == ("F0", "electricity", None)
    p2 = MeasuringPoint.objects.get(organization=v11, code="P2")
    assert (p2.value, p2.unit, p2.u_rel, p2.factor) == (21.5, "GJ/t", 0.01, "")
    assert MeasuringPoint.objects.get(organization=v11, code="P4").factor == "grid.provincial.chongqing.2022"
    assert Instrument.objects.get(organization=v11, code="I1").in_service_from == date(2025, 3, 1)
    record = Calibration.objects.get(instrument__organization=v11, certificate_no="JD2025-011")
    assert (record.expanded_uncertainty_percent, record.coverage_factor) == (0.2, 2.0)
    # every row was written with its history, attributed to the import
    assert s2.history.get().history_change_reason == "v1.1 test"
    assert f1.history.get().history_change_reason == "v1.1 test"


def test_emissions_are_optional_only_with_a_formula(v11: Organization) -> None:
    stream = SourceStream.objects.get(organization=v11, code="S2")
    stream.formula = ""
    stream._change_reason = "test"
    with pytest.raises(ValidationError) as err:
        stream.save()
    assert "annual_emissions_t" in err.value.message_dict


def test_a_value_needs_its_unit_and_u_k_are_positive(v11: Organization) -> None:
    point = MeasuringPoint.objects.get(organization=v11, code="P1")
    point.unit = ""
    point._change_reason = "test"
    with pytest.raises(ValidationError) as err:
        point.save()
    assert "unit" in err.value.message_dict
    record = Calibration.objects.get(instrument__organization=v11, certificate_no="JD2025-011")
    record.coverage_factor = 0
    record._change_reason = "test"
    with pytest.raises(ValidationError) as err:
        record.save()
    assert "coverage_factor" in err.value.message_dict


def test_a_change_of_a_new_field_is_attributed(v11: Organization) -> None:
    point = MeasuringPoint.objects.get(organization=v11, code="P1")
    point.value = 126000.0
    point._change_reason = "年度值更正"
    point.save()
    newest, older = point.history.all()[:2]
    assert (older.value, newest.value, newest.history_change_reason) == (125000.0, 126000.0, "年度值更正")


# --- the snapshot builder and the engine ----------------------------------------------------------------


def test_the_snapshot_carries_the_v11_fields(v11: Organization) -> None:
    doc = snapshot_document(v11, AS_OF)
    assert doc["facilities"] == [
        {"id": "F0", "name": "全厂", "level": "enterprise"},
        {"id": "F1", "name": "1#熟料生产线", "level": "key_facility"},
    ]
    s1, s2 = doc["source_streams"]
    assert (s1["facility"], s1["formula"], s1["annual_emissions_t"]) == ("F1", "fuel_ncv_cc", 182000.0)
    assert (s2["facility"], s2["formula"]) == ("F0", "electricity") and "annual_emissions_t" not in s2
    points = {p["id"]: p for p in doc["measuring_points"]}
    assert (points["P2"]["value"], points["P2"]["unit"], points["P2"]["u_rel"]) == (21.5, "GJ/t", 0.01)
    assert points["P4"]["factor"] == "grid.provincial.chongqing.2022" and "value" not in points["P4"]
    assert doc["instruments"][0]["in_service_from"] == date(2025, 3, 1)
    assert doc["calibrations"][0]["expanded_uncertainty_percent"] == 0.2
    assert doc["calibrations"][0]["coverage_factor"] == 2.0
    # and the same as the file it came from, through the engine's own strict conversion
    assert to_jsonable(build_snapshot(v11, AS_OF)) == to_jsonable(
        parse_json(json.dumps(V11).encode(), "v11.json")
    )


def test_the_web_assesses_formula_streams_with_the_cement_pack(v11: Organization) -> None:
    """The run takes the v1.1 snapshot through the engine with the pack the industry selects.  (Computing a
    stream's emissions from its formula is the engine's part of v1.1, not yet on main: S2 declares its
    15000 MWh × 0.5227 tCO2/MWh = 7840.5 t here.)"""
    stream = SourceStream.objects.get(organization=v11, code="S2")
    stream.annual_emissions_t = 7840.5
    stream._change_reason = "test"
    stream.save()
    run = run_assessment(v11, AS_OF)
    assert run.pack_id == "cq-part2-cement"
    assert run.document["total_emissions_t"] == pytest.approx(182000.0 + 7840.5)


# --- export → import ------------------------------------------------------------------------------------


def test_the_register_workbook_reimports_unchanged(v11: Organization) -> None:
    admin = make_user("v11-admin", is_superuser=True, is_staff=True)
    workbook = export_xlsx(admin, v11, AS_OF)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.xlsx"
        path.write_bytes(workbook)
        again = read_xlsx(path)
    assert to_jsonable(again) == to_jsonable(build_snapshot(v11, AS_OF))
    assert [f.id for f in again.facilities] == ["F0", "F1"]  # the 生产设施 sheet
    _, report = import_snapshot(again, reason="re-import", dry_run=True)
    assert report.changes == 0
    assert report.unchanged["facilities"] == 2 and report.unchanged["measuring_points"] == 4


def test_a_changed_value_in_the_workbook_is_previewed_by_name(v11: Organization) -> None:
    snapshot = build_snapshot(v11, AS_OF)
    point = snapshot.measuring_points[0]
    changed = snapshot.__class__(
        **{
            **{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
            "measuring_points": (
                point.__class__(**{**{f: getattr(point, f) for f in point.__struct_fields__}, "value": 1.0}),
                *snapshot.measuring_points[1:],
            ),
        }
    )
    _, report = import_snapshot(changed, reason="dry", dry_run=True)
    assert report.updated == {"measuring_points": ["P1"]}
    assert [(c.field, c.old, c.new) for c in report.diffs["measuring_points"]["P1"]] == [
        ("value", 125000.0, 1.0)
    ]


# --- industry → pack ------------------------------------------------------------------------------------


def test_the_industry_selects_the_pack_unless_one_is_named(settings: Any) -> None:
    cement = Organization(name="x", credit_code="1", industry="cement")
    assert cement.pack_ref == "cq-part2-cement"
    assert Organization(name="x", credit_code="2", industry="水泥").pack_ref == "cq-part2-cement"
    assert Organization(name="x", credit_code="3", industry="steel").pack_ref == "cq-part1"
    assert Organization(name="x", credit_code="4", industry="cement", pack="jjf2309-2025").pack_ref == (
        "jjf2309-2025"
    )
    settings.CARBONMETER_INDUSTRY_PACKS = {"steel": "jjf2309-2025"}  # a table, not code
    assert Organization(name="x", credit_code="5", industry="steel").pack_ref == "jjf2309-2025"
    assert cement.pack_ref == "cq-part1"
    for pack in {"cq-part2-cement", "cq-part1"}:
        load_pack(pack)  # every pack the default table names exists


def test_the_demo_plant_is_judged_by_the_cement_pack(org_a: Organization) -> None:
    assert org_a.name == "重庆忠岚水泥有限公司" and not org_a.pack
    assert org_a.pack_ref == "cq-part2-cement"
    assert run_assessment(org_a, AS_OF).pack_id == "cq-part2-cement"


# --- names, never keys ----------------------------------------------------------------------------------


def test_formulas_and_factors_are_named_in_both_languages() -> None:
    pack = load_pack("cq-part2-cement")
    with translation.override("zh-hans"):
        assert formula_label(pack, "electricity") == pack.formulas["electricity"].title.zh
        assert (
            factor_label(pack, "grid.provincial.chongqing.2022")
            == "电网排放因子 · 重庆 · 2022 · 0.5227 tCO2/MWh"
        )
        assert (
            factor_label(pack, "grid.national_fossil.2021")
            == "电网排放因子 · 全国 · 化石能源 · 2021 · 0.8426 tCO2/MWh"
        )
        assert factor_label(pack, "ncv.default") == "低位发热量 · 缺省值未载入"
    with translation.override("en"):
        assert formula_label(pack, "electricity") == pack.formulas["electricity"].title.en
        assert factor_label(pack, "grid.provincial.chongqing.2022") == (
            "Grid emission factor · Chongqing · 2022 · 0.5227 tCO2/MWh"
        )


def _stream_data(stream: SourceStream, **over: Any) -> dict[str, Any]:
    return {
        "organization": stream.organization_id,
        "code": stream.code,
        "name": stream.name,
        "facility": stream.facility_id or "",
        "kind": stream.kind,
        "method": stream.method,
        "emission_mode": stream.emission_mode,
        "annual_emissions_t": "" if stream.annual_emissions_t is None else stream.annual_emissions_t,
        "formula": stream.formula,
        "extra": "{}",
    } | over


def test_the_stream_form_offers_the_packs_formulas_by_title_and_refuses_others(v11: Organization) -> None:
    stream = SourceStream.objects.get(organization=v11, code="S1")
    form = SourceStreamAdminForm(instance=stream)
    choices = dict(form.fields["formula"].choices)  # type: ignore[attr-defined]
    cement = load_pack("cq-part2-cement")
    assert set(choices) == {"", *cement.formulas}
    with translation.override("zh-hans"):
        assert choices["clinker_dust"] == cement.formulas["clinker_dust"].title.zh  # the cement pack's own
    assert SourceStreamAdminForm(_stream_data(stream, formula="clinker"), instance=stream).is_valid()
    bad = SourceStreamAdminForm(_stream_data(stream, formula="no_such_formula"), instance=stream)
    assert not bad.is_valid() and "formula" in bad.errors
    neither = SourceStreamAdminForm(_stream_data(stream, formula="", annual_emissions_t=""), instance=stream)
    assert not neither.is_valid() and "annual_emissions_t" in neither.errors


def test_the_point_form_offers_the_packs_factors_by_name(v11: Organization) -> None:
    point = MeasuringPoint.objects.get(organization=v11, code="P4")
    form = MeasuringPointAdminForm(instance=point)
    choices = dict(form.fields["factor"].choices)  # type: ignore[attr-defined]
    assert set(choices) == {"", *load_pack("cq-part2-cement").factors}
    data = {
        "organization": v11.pk,
        "code": "P4",
        "stream": point.stream_id,
        "name": "",
        "role": "emission_factor",
        "parameter": "emission_factor",
        "determination": "default",
        "purpose": "",
        "factor": "grid.no_such.2099",
        "unit": "",
        "extra": "{}",
    }
    bad = MeasuringPointAdminForm(data, instance=point)
    assert not bad.is_valid() and "factor" in bad.errors
    good = MeasuringPointAdminForm(data | {"factor": "grid.national.2023"}, instance=point)
    assert good.is_valid(), good.errors


def test_the_admin_shows_the_formula_by_title(v11: Organization, client: Client) -> None:
    admin = make_user("v11-admin2", is_superuser=True, is_staff=True)
    client.force_login(admin)
    stream = SourceStream.objects.get(organization=v11, code="S1")
    with translation.override("zh-hans"):
        html = client.get(
            reverse("admin:registry_sourcestream_change", args=[stream.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    title = load_pack("cq-part1").formulas["fuel_ncv_cc"].title.zh
    assert f'<option value="fuel_ncv_cc" selected>{title}</option>' in html


def test_the_record_form_takes_u_and_k(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    today = timezone.localdate()
    data = {
        "shown": ["WB-03"],
        "instruments": ["WB-03"],
        "kind": "calibration",
        "date": today.isoformat(),
        "result": "pass",
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "certificate_no": "U-K-001",
        "expanded_uncertainty_percent": "0.3",
        "coverage_factor": "2",
        "reason": "校准证书录入",
    }
    response = login(client, users["officer_a"]).post("/calibration/record/", data)
    assert response.status_code == 302
    row = Calibration.objects.get(certificate_no="U-K-001")
    assert (row.expanded_uncertainty_percent, row.coverage_factor) == (0.3, 2.0)
    bad = login(client, users["officer_a"]).post(
        "/calibration/record/", data | {"certificate_no": "U-K-002", "coverage_factor": "0"}
    )
    assert bad.status_code == 200 and "coverage_factor" in bad.context["form"].errors
    assert not Calibration.objects.filter(certificate_no="U-K-002").exists()


def test_the_monitoring_plan_names_the_facility_and_the_formula(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    facility = Facility.objects.get(organization=org_a, code="F1")  # the demo's 1#熟料生产线
    assert facility.name == "1#熟料生产线"
    stream = SourceStream.objects.filter(organization=org_a).order_by("code").first()
    assert stream is not None
    stream.facility, stream.formula, stream.annual_emissions_t = facility, "fuel_ncv_cc", None
    stream._change_reason = "test"
    stream.save()
    login(client, users["officer_a"])
    html = client.get("/streams/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    title = load_pack("cq-part2-cement").formulas["fuel_ncv_cc"].title.zh
    assert f"核算公式：{title}" in html and "生产设施：1#熟料生产线" in html
    assert "年排放量按核算公式计算" in html and "fuel_ncv_cc" not in html


def test_the_instrument_page_shows_in_service_and_the_certificates_u_and_k(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    inst.in_service_from = date(2024, 5, 6)
    inst._change_reason = "test"
    inst.save()
    record = Calibration.objects.filter(instrument=inst).order_by("-date").first()
    assert record is not None
    record.expanded_uncertainty_percent = 0.35
    record._change_reason = "test"
    record.save()
    login(client, users["officer_a"])
    html = client.get(reverse("instrument_detail", args=["WB-03"])).content.decode()
    assert "2024-05-06" in html
    assert '<td class="cm-num">0.35</td>' in html
    assert '<td class="cm-num">2</td>' in html  # k not stated: 2, as the contract reads it


def test_the_import_preview_names_a_changed_formula(v11: Organization) -> None:
    snapshot = build_snapshot(v11, AS_OF)
    stream = snapshot.source_streams[1]
    changed = snapshot.__class__(
        **{
            **{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
            "source_streams": (
                snapshot.source_streams[0],
                stream.__class__(
                    **{**{f: getattr(stream, f) for f in stream.__struct_fields__}, "formula": "heat"}
                ),
            ),
        }
    )
    _, report = import_snapshot(changed, reason="dry", dry_run=True)
    pack = load_pack("cq-part2-cement")
    with translation.override("zh-hans"):
        row = next(r for r in report_rows(report, pack) if r.what == "source_streams")
        assert row.changes == [
            (
                "S2",
                [
                    ShownChange(
                        "核算公式", pack.formulas["electricity"].title.zh, pack.formulas["heat"].title.zh
                    )
                ],
            )
        ]
