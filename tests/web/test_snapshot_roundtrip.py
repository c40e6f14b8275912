"""The database keeps a plant exactly: file → rows → snapshot gives back the file, and the same verdict."""

from __future__ import annotations

import msgspec
import pytest

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, Organization
from carbonmeter.web.registry.services import import_snapshot
from tests.web.conftest import DEMO


def test_demo_plant_survives_the_database_unchanged(org_a: Organization) -> None:
    original = parse_json(DEMO.read_bytes(), str(DEMO))
    rebuilt = build_snapshot(org_a, original.as_of)
    assert rebuilt.organization == original.organization
    assert rebuilt.source_streams == tuple(sorted(original.source_streams, key=lambda s: s.id))
    # The database keeps which points an instrument serves, not the order they were listed in.
    by_code = [msgspec.structs.replace(i, points=tuple(sorted(i.points))) for i in original.instruments]
    assert sorted(rebuilt.instruments, key=lambda i: i.id) == sorted(by_code, key=lambda i: i.id)
    assert sorted(rebuilt.calibrations, key=lambda c: (c.instrument, c.date)) == sorted(
        original.calibrations, key=lambda c: (c.instrument, c.date)
    )
    assert rebuilt.personnel == original.personnel and rebuilt.documents == original.documents
    pack = load_pack(org_a.pack_ref)  # the demo is a cement plant: cq-part2-cement
    assert pack.id == "cq-part2-cement"
    web, cli = to_document(assess(rebuilt, pack)), to_document(assess(original, pack))
    assert web["equipping"] == cli["equipping"] and web["conforms"] == cli["conforms"]
    # The accounting model gives the web's numbers from the file too (contract v1.1 §6.3).
    for w, c in zip(web["streams"], cli["streams"], strict=True):
        assert w["id"] == c["id"]
        for key in ("computed_emissions_t", "u95_t", "tier"):
            same = w.get(key) == c.get(key) or w.get(key) == pytest.approx(c.get(key), rel=1e-12)
            assert same, (w["id"], key)
    assert web["uncertainty"]["total_u95_t"] == pytest.approx(cli["uncertainty"]["total_u95_t"], rel=1e-12)
    assert sorted((f["code"], f["subject"]) for f in web["findings"]) == sorted(
        (f["code"], f["subject"]) for f in cli["findings"]
    )


def test_reimport_changes_nothing_and_a_change_is_attributed(org_a: Organization) -> None:
    original = parse_json(DEMO.read_bytes(), str(DEMO))
    _, report = import_snapshot(original, reason="again")
    assert report.changes == 0
    renamed = original.instruments[0].__class__(**{**_fields(original.instruments[0]), "name": "新名称"})
    changed = original.__class__(**{**_fields(original), "instruments": (renamed, *original.instruments[1:])})
    _, preview = import_snapshot(changed, reason="dry", dry_run=True)
    assert preview.updated == {"instruments": [renamed.id]}
    assert Instrument.objects.get(organization=org_a, code=renamed.id).name != "新名称"
    import_snapshot(changed, reason="renamed by test")
    row = Instrument.objects.get(organization=org_a, code=renamed.id)
    assert row.name == "新名称"
    assert row.history.first().history_change_reason == "renamed by test"


def _fields(obj: object) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__struct_fields__}  # type: ignore[attr-defined]


def test_a_restricted_range_survives_the_database_and_a_change_of_it_is_attributed(
    org_a: Organization,
) -> None:
    """Issue 9: 限用范围 of a record is imported, exported and re-imported; changing it is a history entry."""
    original = parse_json(DEMO.read_bytes(), str(DEMO))
    first = next(c for c in original.calibrations if c.result == "pass")
    restricted = msgspec.structs.replace(first, restricted_range="0–50 t/h")
    changed = msgspec.structs.replace(
        original, calibrations=tuple(restricted if c is first else c for c in original.calibrations)
    )
    _, report = import_snapshot(changed, reason="校准证书注明限用范围")
    assert report.updated == {"calibrations": [f"{first.instrument} {first.date}"]}
    rebuilt = build_snapshot(org_a, original.as_of)
    assert restricted in rebuilt.calibrations
    record = Calibration.objects.get(
        instrument__organization=org_a, instrument__code=first.instrument, date=first.date
    )
    latest = record.history.order_by("-history_date", "-history_id").first()  # type: ignore[attr-defined]
    assert latest.restricted_range == "0–50 t/h" and latest.history_change_reason == "校准证书注明限用范围"
