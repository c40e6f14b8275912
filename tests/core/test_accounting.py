"""Contract v1.1 §6.2–6.3 on hand-worked plants: computed emissions, the uncertainty of each input and of the
total, tiers, the advisor, tonnes at stake, EQP-02/03, EMI-01 and the located input errors.

Every expected number is worked out in the test from the contract's rules, not read back from the engine.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import msgspec
import pytest

from carbonmeter.core.accounting import InputProblems, accounts, instrument_uncertainty
from carbonmeter.core.assess import assess
from carbonmeter.core.snapshot import MeasuringPoint, Snapshot
from carbonmeter.core.traceability import trace
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import Pack, Tagged
from tests.builders import instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
CO2_PER_C = 44 / 12
SQRT3 = math.sqrt(3)


def coal_plant(**over: Any) -> Snapshot:
    """One coal stream by fuel_ncv_cc: a belt scale of class 0.5 weighs it, the lab states NCV (1 %) and
    carbon content (2 %), the oxidation rate is a default of 0.98 with 1 % stated by its source."""
    points = [
        point("P1", "S1", parameter="consumption", value=10_000.0, unit="t"),
        point("P2", "S1", role="emission_factor", parameter="ncv", purpose="calorimeter",
              value=25.0, unit="GJ/t", u_rel=0.01),
        point("P3", "S1", role="emission_factor", parameter="carbon_content", purpose="carbon_analyser",
              value=0.026, unit="tC/GJ", u_rel=0.02),
        point("P4", "S1", role="emission_factor", parameter="oxidation_rate", purpose=None,
              determination="default", value=0.98, unit="1", u_rel=0.01),
    ]  # fmt: skip
    base = snapshot(
        streams=(stream("S1", None, formula="fuel_ncv_cc"),),
        points=tuple(points),
        instruments=(
            instrument("I1", ("P1",), accuracy_class="0.5"),
            instrument("I2", ("P2",), accuracy_class="0.5"),
            instrument("I3", ("P3",), accuracy_class="0.5"),
        ),
        calibrations=(passed("I1"), passed("I2"), passed("I3")),
    )
    return msgspec.structs.replace(base, **over) if over else base


def hand_coal() -> tuple[float, float]:
    e = 10_000 * 25 * 0.026 * 0.98 * CO2_PER_C
    u_rel = math.sqrt((0.005 / SQRT3) ** 2 + 0.01**2 + 0.02**2 + 0.01**2)
    return e, u_rel


def test_computed_emissions_and_gum_uncertainty_by_hand() -> None:
    a = assess(coal_plant(), CQ)
    acc = a.accounting
    assert acc is not None
    s1 = acc.streams["S1"]
    e, u_rel = hand_coal()
    assert s1.computed_t == pytest.approx(e, rel=1e-12)
    assert s1.declared_t is None and a.total_emissions_t == pytest.approx(e)
    assert s1.u_rel == pytest.approx(u_rel, rel=1e-9)
    assert s1.u95_t == pytest.approx(2 * u_rel * e, rel=1e-9)
    # Budget: contributions are variance shares; carbon content (2 %) dominates: 0.02² / u_rel².
    assert s1.evaluation is not None
    top = s1.evaluation.budget[0]
    assert (top.point, top.contribution) == ("P3", pytest.approx(0.02**2 / u_rel**2))
    assert sum(b.contribution or 0 for b in s1.evaluation.budget) == pytest.approx(1.0)
    # The total is this one stream: U95 is the stream's, and it is complete.
    assert acc.total_u95_t == pytest.approx(s1.u95_t) and acc.complete


def test_tier_of_the_activity_amount() -> None:
    # Class 0.5 belt scale: u = 0.5 %/√3, U95 = 2u = 0.577 % ≤ 1.5 % → tier 4.
    s1 = assess(coal_plant(), CQ).accounting.streams["S1"]  # type: ignore[union-attr]
    assert s1.activity_u95_percent == pytest.approx(2 * 0.5 / SQRT3)
    assert s1.tier == 4
    # Class 2 (MPE 2 %): U95 = 2.31 % → tier 3; class 5: 5.77 % → tier 1; class 10: 11.5 % → none (0).
    for cls, expected in (("2", 3), ("5", 1), ("10", 0)):
        snap = coal_plant()
        snap = msgspec.structs.replace(
            snap, instruments=(instrument("I1", ("P1",), accuracy_class=cls), *snap.instruments[1:])
        )
        assert assess(snap, CQ).accounting.streams["S1"].tier == expected  # type: ignore[union-attr]


def test_certificate_u_over_k_is_preferred_to_the_mpe() -> None:
    i = instrument("I1", accuracy_class="0.5")
    with_u = trace([passed("I1", expanded_uncertainty_percent=0.2, coverage_factor=2)], date(2026, 1, 15))
    without = trace([passed("I1")], date(2026, 1, 15))
    u = instrument_uncertainty(i, with_u)
    assert u is not None and (u.u_rel, u.distribution, u.source) == (0.001, "normal", "certificate")
    u = instrument_uncertainty(i, without)
    assert u is not None and u.u_rel == pytest.approx(0.005 / SQRT3) and u.distribution == "rectangular"
    # k defaults to 2; k = 3 divides by 3.
    k3 = trace([passed("I1", expanded_uncertainty_percent=0.3, coverage_factor=3)], date(2026, 1, 15))
    assert instrument_uncertainty(i, k3).u_rel == pytest.approx(0.001)  # type: ignore[union-attr]
    # An expired certificate's U does not count: the MPE does.
    late = trace([passed("I1", expanded_uncertainty_percent=0.2)], date(2027, 1, 1))
    assert instrument_uncertainty(i, late).source == "mpe"  # type: ignore[union-attr]
    # A stated system accuracy is used as is; an unreadable class has no source.
    assert instrument_uncertainty(instrument("X", accuracy_class="foo"), without) is None


def test_determining_instrument_counted_first_then_smallest_uncertainty() -> None:
    snap = coal_plant()
    # Two scales on P1: I0 is class 0.2 but standby (not counted); I1 class 0.5 counts → I1 decides.
    standby = instrument("I0", ("P1",), accuracy_class="0.2", status="standby")
    snap = msgspec.structs.replace(
        snap, instruments=(standby, *snap.instruments), calibrations=(passed("I0"), *snap.calibrations)
    )
    lines = assess(snap, CQ).accounting.streams["S1"].evaluation.budget  # type: ignore[union-attr]
    p1 = next(b for b in lines if b.point == "P1")
    assert p1.instrument == "I1" and p1.u_rel == pytest.approx(0.005 / SQRT3)
    # Put I0 in use: both count, the smaller uncertainty (0.2) decides.
    snap = msgspec.structs.replace(
        snap,
        instruments=(msgspec.structs.replace(snap.instruments[0], status="in_use"), *snap.instruments[1:]),
    )
    lines = assess(snap, CQ).accounting.streams["S1"].evaluation.budget  # type: ignore[union-attr]
    assert next(b for b in lines if b.point == "P1").instrument == "I0"


def test_inputs_of_one_instrument_are_fully_correlated() -> None:
    """Two activity parts on one scale: their components add before squaring (r = 1)."""
    snap = coal_plant()
    extra = point("P1b", "S1", parameter="consumption", value=10_000.0, unit="t")
    snap = msgspec.structs.replace(
        snap,
        measuring_points=(*snap.measuring_points, extra),
        instruments=(instrument("I1", ("P1", "P1b"), accuracy_class="0.5"), *snap.instruments[1:]),
    )
    s1 = assess(snap, CQ).accounting.streams["S1"]  # type: ignore[union-attr]
    e = 20_000 * 25 * 0.026 * 0.98 * CO2_PER_C
    # Correlated: the sum's relative u is the scale's own (0.5 %/√3); independent it would be /√2.
    u_rel = math.sqrt((0.005 / SQRT3) ** 2 + 0.01**2 + 0.02**2 + 0.01**2)
    assert s1.computed_t == pytest.approx(e) and s1.u_rel == pytest.approx(u_rel)


def test_net_total_deducts_exports_and_propagates_with_their_sign() -> None:
    snap = coal_plant()
    export = stream("S2", 3000.0, kind="exported_electricity")
    snap = msgspec.structs.replace(snap, source_streams=(*snap.source_streams, export))
    a = assess(snap, CQ)
    e, _ = hand_coal()
    assert a.total_emissions_t == pytest.approx(e - 3000.0)
    # S2 has no formula: its uncertainty is not judged, so the total is not complete.
    assert a.accounting is not None and not a.accounting.complete
    assert a.streams[0].share == pytest.approx(e / (e - 3000.0))


def test_missing_parameter_is_required_and_unequipped_under_stream_colon_parameter() -> None:
    snap = coal_plant()
    snap = msgspec.structs.replace(
        snap,
        measuring_points=snap.measuring_points[:2] + snap.measuring_points[3:],
        instruments=snap.instruments[:2],
        source_streams=(stream("S1", 100_000.0, formula="fuel_ncv_cc"),),
    )
    a = assess(snap, CQ)
    row = next(r for r in a.rows if r.row == "calculation.major.emission_factor")
    # ncv (P2) and the missing carbon content; the default oxidation rate (allowed) is not required.
    assert row.unequipped_points == ("S1:carbon_content",) and (row.required, row.equipped) == (2, 1)
    f = next(f for f in a.findings if f.subject == "S1:carbon_content")
    assert f.code == "EQP-01-A" and f.tonnes_at_stake == pytest.approx(100_000.0)
    assert a.accounting.streams["S1"].missing == ("carbon_content",)  # type: ignore[union-attr]


def test_default_where_the_formula_allows_none_is_eqp02_and_unequipped() -> None:
    snap = coal_plant()
    ncv_default = msgspec.structs.replace(snap.measuring_points[1], determination="default", purpose=None)
    snap = msgspec.structs.replace(
        snap, measuring_points=(snap.measuring_points[0], ncv_default, *snap.measuring_points[2:])
    )
    a = assess(snap, CQ)
    codes = {(f.code, f.subject) for f in a.findings}
    assert ("EQP-02", "P2") in codes and ("EQP-01-A", "P2") not in codes
    row = next(r for r in a.rows if r.row == "calculation.major.emission_factor")
    assert "P2" in row.unequipped_points
    # The oxidation rate is a default the formula allows at every category: never required.
    assert "P4" not in a.need.required  # type: ignore[union-attr]


def test_eqp03_only_in_a_v11_snapshot_and_only_for_streams_without_formula() -> None:
    snap = coal_plant()
    snap = msgspec.structs.replace(
        snap,
        source_streams=(*snap.source_streams, stream("S2", 500.0)),
        measuring_points=(*snap.measuring_points, point("Q1", "S2")),
    )
    assert [(f.code, f.subject) for f in assess(snap, CQ).findings if f.code == "EQP-03"] == [
        ("EQP-03", "S2")
    ]
    v1 = snapshot(streams=(stream("S2", 500.0),), points=(point("Q1", "S2"),))
    assert not [f for f in assess(v1, CQ).findings if f.code == "EQP-03"]


@pytest.mark.parametrize(("declared_factor", "flagged"), [(1.0, False), (1.02, False), (1.10, True)])
def test_emi01_when_declared_and_computed_differ_beyond_u95(declared_factor: float, flagged: bool) -> None:
    e, u_rel = hand_coal()  # U95 ≈ 5.1 % of E: 2 % inside, 10 % outside
    snap = coal_plant()
    snap = msgspec.structs.replace(
        snap, source_streams=(stream("S1", e * declared_factor, formula="fuel_ncv_cc"),)
    )
    found = [f for f in assess(snap, CQ).findings if f.code == "EMI-01"]
    assert bool(found) is flagged
    assert 2 * u_rel > 0.02 and 2 * u_rel < 0.10


def test_tonnes_at_stake_of_an_instrument_is_the_streams_it_serves() -> None:
    snap = coal_plant()
    snap = msgspec.structs.replace(snap, calibrations=snap.calibrations[1:])  # I1 never verified
    a = assess(snap, CQ)
    e, _ = hand_coal()
    on_instrument = [f for f in a.findings if f.subject == "I1"]
    on_point = [f for f in a.findings if f.subject == "P1"]
    assert on_instrument and all(f.tonnes_at_stake == pytest.approx(e) for f in on_instrument)
    assert on_point and all(f.tonnes_at_stake == pytest.approx(e) for f in on_point)
    # A management finding is about the organization: no tonnes.
    assert all(f.tonnes_at_stake is None for f in a.findings if f.subject == "organization")


def _with_ladder(pack: Pack, purpose: str, steps: tuple[str, ...]) -> Pack:
    ladder = dict(pack.upgrade_ladder) | {purpose: Tagged[tuple[str, ...]](value=steps, tag="seed")}
    return msgspec.structs.replace(pack, upgrade_ladder=ladder)


def test_advisor_ranks_by_contribution_and_prices_the_next_step() -> None:
    a = assess(coal_plant(), _with_ladder(CQ, "weighing_dynamic", ("1.0", "0.5", "0.2")))
    acc = a.accounting
    assert acc is not None
    _, u_rel = hand_coal()
    shares = {"P3": 0.02**2, "P2": 0.01**2, "P4": 0.01**2, "P1": (0.005 / SQRT3) ** 2}
    assert [x.point for x in acc.advisor] == ["P3", "P2", "P4", "P1"]
    for x in acc.advisor:
        assert x.contribution == pytest.approx(shares[x.point] / u_rel**2)
    p1 = acc.advisor[-1]
    assert (p1.action, p1.to) == ("upgrade", "0.2")
    e, _ = hand_coal()
    after = math.sqrt((0.002 / SQRT3) ** 2 + 0.01**2 + 0.02**2 + 0.01**2)
    assert p1.reduction_t == pytest.approx(2 * e * (u_rel - after))
    p4 = next(x for x in acc.advisor if x.point == "P4")
    assert (p4.action, p4.to, p4.reduction_t) == ("measure", None, None)
    without = math.sqrt((0.005 / SQRT3) ** 2 + 0.01**2 + 0.01**2)
    assert acc.advisor[0].max_reduction_t == pytest.approx(2 * e * (u_rel - without))


def test_not_judged_when_an_input_has_no_uncertainty_source() -> None:
    snap = coal_plant()
    bare = msgspec.structs.replace(snap.measuring_points[1], u_rel=None)
    snap = msgspec.structs.replace(
        snap,
        measuring_points=(snap.measuring_points[0], bare, *snap.measuring_points[2:]),
        instruments=(
            snap.instruments[0],
            instrument("I2", ("P2",), accuracy_class=None),
            snap.instruments[2],
        ),
    )
    a = assess(snap, CQ)
    assert [(n.subject, n.what) for n in a.not_judged if n.what != "accuracy"] == [("P2", "uncertainty")]
    # Nothing judged: no U95 for the stream, none for the total (not a zero).
    assert a.accounting.streams["S1"].u95_t is None and a.accounting.total_u95_t is None  # type: ignore[union-attr]
    doc = to_document(a)
    reasons = [n["reason"] for n in doc["not_judged"] if n["what"] == "uncertainty"]
    assert doc["uncertainty"]["complete"] is False and "不确定度未评定" in reasons[0]


def test_monte_carlo_agrees_with_gum_on_the_product_model() -> None:
    a = assess(coal_plant(), CQ, monte_carlo_draws=200_000)
    assert a.monte_carlo is not None and a.accounting is not None
    gum = a.accounting.total_u95_t
    assert gum is not None and a.monte_carlo.u95_t == pytest.approx(gum, rel=0.03)
    doc = to_document(a)
    assert doc["uncertainty"]["monte_carlo"] == {"draws": 200_000, "u95_t": a.monte_carlo.u95_t}


def _problems(snap: Snapshot, pack: Pack = CQ) -> list[tuple[str, str]]:
    from carbonmeter.core.facts import establish

    with pytest.raises(InputProblems) as exc:
        establish(snap, pack, snap.as_of)
    return [(p.pointer, p.message) for p in exc.value.problems]


def _with_point(snap: Snapshot, n: int, **changes: Any) -> Snapshot:
    pts: list[MeasuringPoint] = list(snap.measuring_points)
    pts[n] = msgspec.structs.replace(pts[n], **changes)
    return msgspec.structs.replace(snap, measuring_points=tuple(pts))


def test_input_that_contradicts_the_pack_is_located() -> None:
    snap = coal_plant()
    assert (
        _problems(msgspec.structs.replace(snap, source_streams=(stream("S1", None, formula="nope"),)))[0][0]
        == "/source_streams/0/formula"
    )
    assert _problems(_with_point(snap, 3, factor="no.such.factor"))[0][0] == "/measuring_points/3/factor"
    assert _problems(_with_point(snap, 1, unit="MWh"))[0][0] == "/measuring_points/1/unit"
    second = point("P2b", "S1", role="emission_factor", parameter="ncv", value=24.0, unit="GJ/t", u_rel=0.01)
    two = msgspec.structs.replace(snap, measuring_points=(*snap.measuring_points, second))
    assert _problems(two)[0][0] == "/measuring_points/4/value"
    no_value = _with_point(snap, 2, value=None)
    found = _problems(no_value)
    assert found[0][0] == "/source_streams/0/annual_emissions_t" and "carbon_content" in found[0][1]


def test_a_stream_with_a_formula_but_no_values_keeps_its_declared_figure() -> None:
    snap = coal_plant()
    snap = msgspec.structs.replace(snap, source_streams=(stream("S1", 50_000.0, formula="fuel_ncv_cc"),))
    snap = _with_point(snap, 2, value=None)
    a = assess(snap, CQ)
    assert a.accounting.streams["S1"].computed_t is None and a.total_emissions_t == 50_000.0  # type: ignore[union-attr]
    assert [(n.subject, n.what) for n in a.not_judged if n.what != "accuracy"] == [("P3", "emissions")]


def test_accounts_runs_without_pint_for_a_v1_snapshot() -> None:
    """A v1 snapshot has no formula: the accounting is the declared figures, nothing computed."""
    v1 = snapshot(streams=(stream("S1", 100.0),), points=(point("P1"),))
    acc = accounts(v1, CQ, {"P1": []}, {}, {})
    assert acc.emissions() == {"S1": 100.0} and acc.total_u95_t is None and acc.advisor == ()
