"""Contract §6.4 corrections judged through ``assess``: root cause (§6.4.4), facilities (§6.4.6), not judged
(§6.4.3) and ``provisional`` on every finding (§6.4.8).  Hand-worked plants, a few lines each."""

from __future__ import annotations

from datetime import date

import msgspec

from carbonmeter.core.assess import assess
from carbonmeter.core.snapshot import Facility, Snapshot
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from tests.builders import failed, instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
EXPIRED = date(2025, 12, 31)  # before as_of 2026-01-15


def by_code(snap: Snapshot) -> dict[tuple[str, str], str | None]:
    """(code, subject) → root cause of every finding."""
    return {(f.code, f.subject): f.root_cause for f in assess(snap, CQ).findings}


class TestRootCause:
    def test_point_served_only_by_an_expired_instrument_names_it(self) -> None:
        # I1 expired 2025-12-31: P1 is unequipped (EQP-01-A) because of I1, and I1's TRC-01-B is its own root.
        snap = snapshot(
            (stream(),), (point(),), (instrument("I1"),), (passed(on=date(2025, 1, 1), until=EXPIRED),)
        )
        causes = by_code(snap)
        assert causes[("EQP-01-A", "P1")] == "I1"
        assert causes[("TRC-01-B", "I1")] == "I1"

    def test_first_untraceable_instrument_in_snapshot_order(self) -> None:
        # I2 (never verified) comes before I1 (voided) in the register: I2 is named.
        snap = snapshot(
            (stream(),),
            (point(),),
            (instrument("I2"), instrument("I1")),
            (passed("I1", on=date(2025, 1, 1)), failed("I1", on=date(2025, 11, 1))),
        )
        causes = by_code(snap)
        assert causes[("EQP-01-A", "P1")] == "I2"
        assert (causes[("TRC-01-A", "I2")], causes[("TRC-01-C", "I1")]) == ("I2", "I1")

    def test_standby_instruments_do_not_count_as_in_use(self) -> None:
        # P1's only in-use instrument I1 is untraceable; I0 on standby is traceable but not in use.
        snap = snapshot(
            (stream(),),
            (point(),),
            (instrument("I0", status="standby"), instrument("I1")),
            (passed("I0"),),
        )
        assert by_code(snap)[("EQP-01-A", "P1")] == "I1"

    def test_no_root_cause_without_an_in_use_instrument(self) -> None:
        # Only a standby instrument: nothing to repair, a gap to fill.
        snap = snapshot((stream(),), (point(),), (instrument("I1", status="standby"),), (passed("I1"),))
        assert by_code(snap)[("EQP-01-A", "P1")] is None

    def test_a_traceable_in_use_instrument_means_no_root_cause(self) -> None:
        # I2 is traceable but fails accuracy (1.0 against 0.5); I1 untraceable: not *only* untraceable ones.
        snap = snapshot(
            (stream(),),
            (point(),),
            (instrument("I1"), instrument("I2", accuracy_class="1.0")),
            (passed("I2"),),
        )
        causes = by_code(snap)
        assert ("EQP-01-A", "P1") not in causes  # I2 counts (accuracy does not gate equipping in cq-part1)
        assert causes[("ACC-01", "I2")] is None
        assert causes[("TRC-01-A", "I1")] == "I1"

    def test_document_carries_root_cause(self) -> None:
        snap = snapshot((stream(),), (point(),), (instrument("I1"),), ())
        doc = to_document(assess(snap, CQ))
        assert {(f["code"], f["root_cause"]) for f in doc["findings"]} >= {
            ("EQP-01-A", "I1"),
            ("TRC-01-A", "I1"),
        }


class TestFacilities:
    def plant(self) -> Snapshot:
        # F1: S1 (major, 2 activity points, 1 equipped); F2: S2 (major, 1 point, equipped); S3 in no facility.
        # Plant row calculation.major.activity_data: 2 of 4 required (P4 on S3 unequipped).
        base = snapshot(
            (
                stream("S1", 60_000.0, facility="F1"),
                stream("S2", 30_000.0, facility="F2"),
                stream("S3", 10_000.0),
            ),
            (point("P1", "S1"), point("P2", "S1"), point("P3", "S2"), point("P4", "S3")),
            (instrument("I1", points=("P1",)), instrument("I3", points=("P3",))),
            (passed("I1"), passed("I3")),
        )
        facilities = (Facility(id="F1", name="1#线"), Facility(id="F2", name="2#线"))
        return msgspec.structs.replace(base, facilities=facilities)

    def test_every_row_for_every_facility(self) -> None:
        a = assess(self.plant(), CQ)
        n_rows = len(CQ.equipping_rows)
        assert len(a.by_facility) == 2 * n_rows
        assert [fr.facility for fr in a.by_facility] == ["F1"] * n_rows + ["F2"] * n_rows

    def test_rows_count_only_the_facilitys_streams(self) -> None:
        doc = to_document(assess(self.plant(), CQ))
        rows = {(r["facility"], r["row"]): r for r in doc["equipping_by_facility"]}
        f1 = rows[("F1", "calculation.major.activity_data")]
        assert (f1["required"], f1["equipped"], f1["rate"], f1["pass"]) == (2, 1, 0.5, False)
        f2 = rows[("F2", "calculation.major.activity_data")]
        assert (f2["required"], f2["equipped"], f2["rate"], f2["pass"]) == (1, 1, 1.0, True)
        empty = rows[("F2", "indirect.electricity_heat")]
        assert (empty["required"], empty["rate"], empty["pass"]) == (0, None, True)
        assert set(f1) == {"facility", "row", "required", "equipped", "rate", "required_rate", "pass"}
        plant = next(r for r in doc["equipping"] if r["row"] == "calculation.major.activity_data")
        assert (plant["required"], plant["equipped"]) == (4, 2)

    def test_categories_stay_plant_level(self) -> None:
        # S3 is 2000 t of 102 000 t (≈1.96 %): minor at plant level.  Judged inside F3 alone it would be 100 %
        # of F3, i.e. major; the contract keeps the plant-level category, so its point is in the minor row.
        base = snapshot(
            (stream("S1", 100_000.0, facility="F1"), stream("S3", 2000.0, facility="F3")),
            (point("P1", "S1"), point("P3", "S3")),
        )
        snap = msgspec.structs.replace(base, facilities=(Facility(id="F1"), Facility(id="F3")))
        doc = to_document(assess(snap, CQ))
        f3 = {r["row"]: r["required"] for r in doc["equipping_by_facility"] if r["facility"] == "F3"}
        assert f3["calculation.minor.activity_data"] == 1
        assert f3["calculation.major.activity_data"] == 0

    def test_without_facilities_the_list_is_empty(self) -> None:
        snap = snapshot((stream(),), (point(),))
        assert to_document(assess(snap, CQ))["equipping_by_facility"] == []


class TestNotJudgedInTheDocument:
    def test_shape(self) -> None:
        snap = snapshot((stream(),), (point(role="emission_factor", purpose="calorimeter"),))
        doc = to_document(assess(snap, CQ))
        (item,) = doc["not_judged"]
        assert (item["subject"], item["what"], item["code"]) == ("P1", "accuracy", "ACC-02-A")
        assert "P1" in item["reason"] and "量热仪" in item["reason"]
        assert "P1" in item["reason_en"] and "Calorimeter" in item["reason_en"]
        assert not [f for f in doc["findings"] if f["code"].startswith(("ACC-02", "CAT-"))]


class TestProvisional:
    def test_every_finding_carries_provisional(self) -> None:
        # ACC-01 at a belt scale rests on the provisional 0.5 of Table A.3 (cq-part1 tags it provisional);
        # MGT-03 (broken seal) rests on no pack value.
        snap = snapshot(
            (stream(),),
            (point(),),
            (instrument("I1", accuracy_class="1.0", seal_intact=False),),
            (passed("I1"),),
        )
        doc = to_document(assess(snap, CQ))
        assert all(isinstance(f["provisional"], bool) for f in doc["findings"])
        marks = {f["code"]: f["provisional"] for f in doc["findings"]}
        assert marks["ACC-01"] is True
        assert marks["MGT-03"] is False
