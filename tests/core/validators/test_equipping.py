"""EQP-01 (5.2.1, Table A.1): a required measuring point has no counted instrument.

Contract §5.2–5.6: a point's row follows its stream (indirect, measurement, or calculation.<category>.<role>);
required points are the measured ones, except on an unorganized stream below both unorganized thresholds; a
point is equipped when a linked instrument is in use and traceable; rates are 100 % except de minimis
activity data (60 %) and de minimis emission factor of a unit that is not a key emission unit (60 %).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Calibration, Instrument, MeasuringPoint, Snapshot, SourceStream
from carbonmeter.core.validators import equipping
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack, Tagged
from tests.builders import failed, instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")
BIG = stream("S1", 200_000.0)  # a major stream that keeps the others' shares small
TINY = stream("S2", 500.0)  # 0.25 % of BIG and under 1000 t: de minimis in both packs


def accuracy_gates_equipping(gates: bool) -> Pack:
    """cq-part1 with ``settings.accuracy_affects_equipping`` set."""
    settings = msgspec.structs.replace(
        CQ.settings, **{"accuracy_affects_equipping": Tagged[bool](value=gates, tag="seed")}
    )
    return msgspec.structs.replace(CQ, **{"settings": settings})


def check(snap: Snapshot, pack: Pack = CQ) -> list[Finding]:
    return equipping.check(establish(snap, pack, snap.as_of))


def points_on(stream_id: str, n: int, role: str = "activity_data") -> tuple[MeasuringPoint, ...]:
    return tuple(point(f"P{k}", stream_id, role=role) for k in range(1, n + 1))


def counted_instruments(point_ids: list[str]) -> tuple[tuple[Instrument, ...], tuple[Calibration, ...]]:
    """One in-use, traceable instrument per point."""
    insts = tuple(instrument(f"I-{p}", points=(p,)) for p in point_ids)
    return insts, tuple(passed(i.id) for i in insts)


def plant(
    streams: tuple[SourceStream, ...],
    n_points: int,
    n_equipped: int,
    *,
    role: str = "activity_data",
    **kw: Any,
) -> Snapshot:
    """``n_points`` points on the last stream, the first ``n_equipped`` of them with a counted instrument."""
    points = points_on(streams[-1].id, n_points, role)
    insts, recs = counted_instruments([p.id for p in points[:n_equipped]])
    return snapshot(streams, points, insts, recs, **kw)


def only(findings: list[Finding], subject: str) -> Finding:
    mine = [f for f in findings if f.subject == subject]
    assert len(mine) == 1, findings
    return mine[0]


class TestEQP01A:
    def test_unequipped_point_of_a_major_stream_is_a_nonconformity(self) -> None:
        findings = check(snapshot((stream("S1", 10_000.0),), (point("P1"),)))
        f = only(findings, "P1")
        assert (f.code, f.clause, f.severity, f.provisional) == ("EQP-01-A", "5.2.1", "nonconformity", False)
        assert f.evidence["row"] == "calculation.major.activity_data"
        assert (f.evidence["rate"], f.evidence["required_rate"]) == (0.0, 1.0)
        assert f.evidence["linked_instruments"] == []
        assert f.params["linked"] == []

    def test_point_with_a_counted_instrument_raises_nothing(self) -> None:
        assert check(plant((stream("S1", 10_000.0),), 1, 1)) == []

    def test_one_counted_instrument_among_several_linked_equips_the_point(self) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0),),
            (point("P1"),),
            (instrument("I1", status="standby"), instrument("I2")),
            (passed("I1"), passed("I2")),
        )
        assert check(snap) == []

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed", "scrapped"])
    def test_traceable_instrument_not_in_use_is_not_counted(self, status: str) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0),), (point("P1"),), (instrument("I1", status=status),), (passed("I1"),)
        )
        f = only(check(snap), "P1")
        assert f.code == "EQP-01-A"
        assert f.params["linked"] == [{"id": "I1", "because": [{"label": f"status.{status}"}]}]
        assert f.evidence["linked_instruments"] == [
            {"instrument": "I1", "status": status, "traceable": True, "trace": "ok"}
        ]

    @pytest.mark.parametrize(
        ("records", "reason"),
        [
            ((), "never"),
            ((passed("I1", until=date(2026, 1, 14)),), "expired"),
            ((passed("I1"), failed("I1", on=date(2025, 11, 1))), "voided"),
        ],
    )
    def test_untraceable_instrument_in_use_is_not_counted(
        self, records: tuple[Calibration, ...], reason: str
    ) -> None:
        snap = snapshot((stream("S1", 10_000.0),), (point("P1"),), (instrument("I1"),), records)
        f = only(check(snap), "P1")
        assert f.code == "EQP-01-A"
        assert f.params["linked"] == [{"id": "I1", "because": [{"label": f"trace.{reason}"}]}]
        assert f.evidence["linked_instruments"][0]["traceable"] is False

    def test_exactly_5000_t_stream_falls_in_the_major_row(self) -> None:
        snap = snapshot((stream("S1", 995_000.0), stream("S2", 5000.0)), (point("P1", "S2"),))
        assert only(check(snap), "P1").evidence["row"] == "calculation.major.activity_data"

    def test_exactly_10_percent_share_falls_in_the_major_row(self) -> None:
        snap = snapshot((stream("S1", 8100.0), stream("S2", 900.0)), (point("P1", "S2"),))
        assert only(check(snap), "P1").evidence["row"] == "calculation.major.activity_data"

    def test_minor_stream_activity_data_needs_every_point(self) -> None:
        # 4 of 5 points (80 %) is not enough for a minor stream (100 %).
        findings = check(plant((BIG, stream("S2", 2000.0)), 5, 4))
        f = only(findings, "P5")
        assert f.evidence["row"] == "calculation.minor.activity_data"
        assert (f.evidence["rate"], f.evidence["required_rate"]) == (pytest.approx(0.8), 1.0)

    def test_inaccurate_instrument_still_equips_the_point_unless_the_pack_says_so(self) -> None:
        # Contract §5.7: accuracy is reported, and changes the equipped count only where the pack says so.
        snap = snapshot(
            (stream("S1", 10_000.0),),
            (point("P1"),),
            (instrument("I1", accuracy_class="2.0"),),
            (passed("I1"),),
        )
        assert CQ.settings.accuracy_affects_equipping.value is False
        assert check(snap, CQ) == []
        f = only(check(snap, accuracy_gates_equipping(True)), "P1")
        assert f.code == "EQP-01-A"
        assert f.params["linked"] == [{"id": "I1", "because": [{"label": "accuracy.fail"}]}]

    def test_purchased_electricity_falls_in_the_indirect_row_whatever_its_size(self) -> None:
        snap = snapshot(
            (BIG, stream("S3", 10.0, kind="purchased_electricity")),
            (point("P1", "S3", parameter="electricity", purpose="electricity_class_III"),),
        )
        f = only(check(snap), "P1")
        assert (f.code, f.evidence["row"], f.evidence["required_rate"]) == (
            "EQP-01-A",
            "indirect.electricity_heat",
            1.0,
        )

    def test_measurement_method_point_falls_in_the_measurement_row(self) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0, method="measurement"),),
            (point("P1", role="cems", parameter="co2_concentration", purpose="cems_co2_concentration"),),
        )
        assert only(check(snap), "P1").evidence["row"] == "measurement.organized"

    def test_unorganized_stream_exactly_at_1000_t_requires_its_points(self) -> None:
        # 1000 t of a 1 Mt plant: 0.1 %, below the share test but at the absolute one.
        snap = snapshot(
            (
                stream("S1", 999_000.0),
                stream("S2", 1000.0, method="measurement", emission_mode="unorganized"),
            ),
            (point("P1", "S2", role="cems", purpose="unorganized_monitoring"),),
        )
        f = only(check(snap), "P1")
        assert (f.code, f.evidence["row"]) == ("EQP-01-A", "measurement.unorganized")

    def test_unorganized_stream_below_both_thresholds_requires_nothing(self) -> None:
        snap = snapshot(
            (stream("S1", 999_000.0), stream("S2", 999.0, method="measurement", emission_mode="unorganized")),
            (point("P1", "S2", role="cems", purpose="unorganized_monitoring"),),
        )
        assert check(snap) == []

    def test_unorganized_share_threshold_is_1_percent_in_cq_and_2_percent_in_jjf(self) -> None:
        # 600 t at 1.5 %: needs metering under cq-part1, exempt under JJF 2309.
        snap = snapshot(
            (stream("S1", 39_400.0), stream("S2", 600.0, method="measurement", emission_mode="unorganized")),
            (point("P1", "S2", role="cems", purpose="unorganized_monitoring"),),
        )
        assert only(check(snap, CQ), "P1").code == "EQP-01-A"
        assert check(snap, JJF) == []

    def test_unorganized_threshold_exempts_only_measurement_streams(self) -> None:
        # Contract §6.4.1: 999 t of a 1 Mt plant (0.1 %) is below both unorganized tests, but the stream is
        # computed (计算法), so its weighing point is required like any calculation point: a de minimis
        # activity-data row of 0/1 (0 % < 60 %) is a nonconformity.
        snap = snapshot(
            (stream("S1", 999_000.0), stream("S2", 999.0, method="calculation", emission_mode="unorganized")),
            (point("P1", "S2"),),
        )
        f = only(check(snap), "P1")
        assert (f.code, f.evidence["row"]) == ("EQP-01-A", "calculation.de_minimis.activity_data")
        facts = establish(snap, CQ, snap.as_of)
        assert facts.required == {"P1": "calculation.de_minimis.activity_data"}

    def test_point_taken_from_a_default_value_needs_no_instrument(self) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0),), (point("P1", role="emission_factor", determination="default"),)
        )
        assert check(snap) == []

    def test_de_minimis_activity_data_below_60_percent_is_a_nonconformity(self) -> None:
        findings = check(plant((BIG, TINY), 5, 2))
        assert [f.subject for f in findings] == ["P3", "P4", "P5"]
        assert {f.code for f in findings} == {"EQP-01-A"}
        f = findings[0]
        assert f.evidence["row"] == "calculation.de_minimis.activity_data"
        assert (f.evidence["rate"], f.evidence["required_rate"]) == (pytest.approx(0.4), pytest.approx(0.6))

    def test_de_minimis_emission_factor_of_a_key_unit_needs_every_point(self) -> None:
        findings = check(plant((BIG, TINY), 3, 2, role="emission_factor", key_emission_unit=True))
        f = only(findings, "P3")
        assert (f.code, f.severity) == ("EQP-01-A", "nonconformity")
        assert (f.evidence["row"], f.evidence["required_rate"]) == (
            "calculation.de_minimis.emission_factor",
            1.0,
        )

    def test_message_renders_in_zh_and_en(self) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0, name="烟煤"),),
            (point("P1", name="入炉煤量"),),
            (instrument("I1", status="standby"), instrument("I2")),
            (passed("I1"),),
        )
        f = only(check(snap), "P1")
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "P1" in zh and "烟煤" in zh and "入炉煤量" in zh and "主要源流·活动数据" in zh
        assert "I1（备用）" in zh and "I2（无合格检定/校准记录）" in zh
        assert "I1 (standby)" in en and "I2 (never verified)" in en and "major · activity data" in en
        assert "{" not in zh + en and "label" not in zh + en


class TestEQP01B:
    def test_de_minimis_activity_data_at_exactly_60_percent_is_an_observation(self) -> None:
        findings = check(plant((BIG, TINY), 5, 3))
        assert [f.subject for f in findings] == ["P4", "P5"]
        f = findings[0]
        assert (f.code, f.clause, f.severity) == ("EQP-01-B", "5.2.1", "observation")
        assert f.evidence["row"] == "calculation.de_minimis.activity_data"
        assert f.evidence["rate"] == pytest.approx(0.6)

    def test_fully_equipped_de_minimis_row_raises_nothing(self) -> None:
        assert check(plant((BIG, TINY), 5, 5)) == []

    @pytest.mark.parametrize(("key_emission_unit", "code"), [(True, "EQP-01-A"), (False, "EQP-01-B")])
    def test_de_minimis_emission_factor_rate_depends_on_key_unit(
        self, key_emission_unit: bool, code: str
    ) -> None:
        # 2 of 3 points (67 %): short of 100 % for a key emission unit, enough for the 60 % of other units.
        f = only(
            check(plant((BIG, TINY), 3, 2, role="emission_factor", key_emission_unit=key_emission_unit)), "P3"
        )
        assert f.code == code
        assert f.evidence["required_rate"] == pytest.approx(1.0 if key_emission_unit else 0.6)

    def test_jjf_stream_under_2_percent_is_de_minimis_with_a_60_percent_rate(self) -> None:
        # 600 t at 1.5 %: minor (100 %) under cq-part1, de minimis (60 %) under JJF 2309; 3 of 5 equipped.
        snap = plant((stream("S1", 39_400.0), stream("S2", 600.0)), 5, 3)
        assert {f.code for f in check(snap, CQ)} == {"EQP-01-A"}
        jjf = check(snap, JJF)
        assert {f.code for f in jjf} == {"EQP-01-B"}
        assert jjf[0].evidence["row"] == "calculation.de_minimis.activity_data"

    def test_message_renders_in_zh_and_en(self) -> None:
        f = check(plant((BIG, TINY), 5, 3))[0]
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "P4" in zh and "微量源流·活动数据" in zh and "60%" in zh
        assert "P4" in en and "de minimis · activity data" in en and "60 %" in en
        assert "{" not in zh + en and "label" not in zh + en
