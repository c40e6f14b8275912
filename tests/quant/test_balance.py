"""Metering-network balance (quant.balance): hand-worked months and the properties every balance keeps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmeter.quant.balance import Meter, NetworkError, Node, cycle, judge, networks


def test_significant_imbalance_names_the_meter_with_the_least_implausible_correction() -> None:
    # main 1000 kWh at u_rel 0.5 % → u = 5; A 600 at 1 % → 6; B 350 at 1 % → 3.5
    b = judge(Meter("M", 1000.0, 0.005), [Meter("A", 600.0, 0.01), Meter("B", 350.0, 0.01)], k=2.0)
    assert b.main_total == 1000.0 and b.sub_total == 950.0
    assert b.imbalance == pytest.approx(50.0)  # 1000 − (600 + 350)
    assert b.u == pytest.approx(math.sqrt(5**2 + 6**2 + 3.5**2))  # √73.25 = 8.5586
    assert b.u == pytest.approx(8.5586, abs=1e-4)
    assert b.u95 == pytest.approx(17.1172, abs=1e-4)  # 2 × 8.5586
    assert b.imbalance_rel == pytest.approx(0.05)
    assert b.significant is True  # 50 > 17.12
    z = {s.id: s.z for s in b.suspects}
    assert z == pytest.approx({"M": 50 / 5, "A": 50 / 6, "B": 50 / 3.5})  # 10, 8.33, 14.29
    assert b.suspect == "A"  # the smallest correction in units of its own u
    shares = {s.id: s.share for s in b.suspects}
    assert shares == pytest.approx({"M": 25 / 73.25, "A": 36 / 73.25, "B": 12.25 / 73.25})
    corrections = {s.id: s.correction for s in b.suspects}
    assert corrections == pytest.approx({"M": -50.0, "A": 50.0, "B": 50.0})  # main reads high or a sub low


def test_imbalance_within_u95_is_not_significant_and_names_nobody() -> None:
    # u: 5, 6, 3.9 → u_c = √(25 + 36 + 15.21) = √76.21 = 8.7298, U95 = 17.46 > r = 10
    b = judge(Meter("M", 1000.0, 0.005), [Meter("A", 600.0, 0.01), Meter("B", 390.0, 0.01)], k=2.0)
    assert b.imbalance == pytest.approx(10.0)
    assert b.u95 == pytest.approx(2 * math.sqrt(76.21))
    assert b.significant is False
    assert b.suspect is None


def test_an_imbalance_equal_to_u95_is_not_significant() -> None:
    # main 100 at 5 % → u = 5; the sub certain (u = 0): u_c = 5, U95 = 10 = |100 − 90|
    b = judge(Meter("M", 100.0, 0.05), [Meter("A", 90.0, 0.0)], k=2.0)
    assert b.imbalance == 10.0 and b.u95 == 10.0
    assert b.significant is False


def test_subs_above_the_main_meter_give_a_negative_imbalance_and_the_coverage_factor_is_the_packs() -> None:
    # main 500 at 1 % → 5; A 520 at 0.5 % → 2.6: r = −20, u_c = √(25 + 6.76) = 5.6356, U95(k=3) = 16.907
    b = judge(Meter("M", 500.0, 0.01), [Meter("A", 520.0, 0.005)], k=3.0)
    assert b.imbalance == pytest.approx(-20.0)
    assert b.u95 == pytest.approx(3 * math.sqrt(31.76))
    assert b.significant is True
    assert b.suspect == "M"  # 20/5 = 4 < 20/2.6 = 7.7
    assert {s.id: s.correction for s in b.suspects} == pytest.approx({"M": 20.0, "A": -20.0})


def test_a_certain_meter_is_never_the_suspect() -> None:
    # A has u = 0: it would need an infinite number of its own uncertainties
    b = judge(Meter("M", 100.0, 0.001), [Meter("A", 80.0, 0.0)], k=2.0)
    assert b.significant is True
    assert {s.id: s.z for s in b.suspects}["A"] == math.inf
    assert b.suspect == "M"


def test_ties_go_to_the_first_meter_in_network_order() -> None:
    # A and B: both u = 200 × 1 % = 2, r = 30
    b = judge(Meter("M", 430.0, 0.0), [Meter("A", 200.0, 0.01), Meter("B", 200.0, 0.01)], k=2.0)
    assert b.suspect == "A"


def test_a_month_without_a_total_or_an_uncertainty_is_not_judged() -> None:
    no_data = judge(Meter("M", 100.0, 0.01), [Meter("A", None, 0.01), Meter("B", 40.0, 0.01)], k=2.0)
    assert (no_data.not_judged, no_data.missing) == ("no_total", ("A",))
    assert no_data.imbalance is None and no_data.significant is None and no_data.suspect is None

    no_u = judge(Meter("M", 100.0, None), [Meter("A", 60.0, 0.01)], k=2.0)
    assert (no_u.not_judged, no_u.missing) == ("no_uncertainty", ("M",))
    assert no_u.imbalance == pytest.approx(40.0)  # the difference is still shown
    assert no_u.u95 is None and no_u.significant is None


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="coverage factor"):
        judge(Meter("M", 1.0, 0.01), [Meter("A", 1.0, 0.01)], k=0.0)
    with pytest.raises(ValueError, match="no sub-meters"):
        judge(Meter("M", 1.0, 0.01), [], k=2.0)
    with pytest.raises(ValueError, match=r"'A'.*relative uncertainty"):
        judge(Meter("M", 1.0, 0.01), [Meter("A", 1.0, -0.01)], k=2.0)


def test_networks_are_listed_top_down_with_their_direct_sub_meters() -> None:
    parent = {"M": None, "A": "M", "B": "M", "B1": "B", "B2": "B", "X": None, "L": None, "L1": "L"}
    assert networks(parent, order=["M", "B", "A", "B2", "B1", "L", "L1"]) == [
        Node("M", ("B", "A"), 0),
        Node("B", ("B2", "B1"), 1),
        Node("L", ("L1",), 0),
    ]
    assert networks(parent)[0] == Node("L", ("L1",), 0)  # default: sorted ids


def test_a_cycle_is_refused_naming_its_meters() -> None:
    parent = {"M": "B", "A": "M", "B": "A"}
    assert cycle(parent, "M") == ["M", "B", "A", "M"]
    assert cycle({"A": "M", "M": None}, "A") is None
    with pytest.raises(NetworkError, match="M → B → A → M"):
        networks(parent)


# Zero or a plant-sized number (no subnormal floats: they lose digits when squared)
totals = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9))
u_rels = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=0.2))


@given(st.lists(st.tuples(totals, u_rels), min_size=1, max_size=8), u_rels, st.floats(1.0, 3.0))
def test_a_balanced_network_is_never_flagged(
    subs: list[tuple[float, float]], u_main: float, k: float
) -> None:
    meters = [Meter(f"S{i}", t, u) for i, (t, u) in enumerate(subs)]
    main = Meter("M", sum(t for t, _ in subs), u_main)
    b = judge(main, meters, k)
    assert b.imbalance == 0.0
    assert b.significant is False and b.suspect is None


@given(
    st.tuples(totals, u_rels),
    st.lists(st.tuples(totals, u_rels), min_size=1, max_size=6),
    st.floats(min_value=1e-3, max_value=1e3),
)
def test_scaling_every_total_scales_imbalance_and_u95_alike(
    main: tuple[float, float], subs: list[tuple[float, float]], c: float
) -> None:
    def month(factor: float):  # type: ignore[no-untyped-def]
        return judge(
            Meter("M", main[0] * factor, main[1]),
            [Meter(f"S{i}", t * factor, u) for i, (t, u) in enumerate(subs)],
            k=2.0,
        )

    base, scaled = month(1.0), month(c)
    assert base.imbalance is not None and scaled.imbalance is not None
    assert base.u95 is not None and scaled.u95 is not None
    scale = max(main[0], *(t for t, _ in subs)) * c
    assert scaled.imbalance == pytest.approx(c * base.imbalance, rel=1e-9, abs=1e-9 * scale)
    assert scaled.u95 == pytest.approx(c * base.u95, rel=1e-9, abs=1e-12 * scale)
    # the ratio that decides significance is scale-free, so the verdict stays (away from the boundary)
    if base.u95 > 0 and abs(abs(base.imbalance) / base.u95 - 1) > 1e-6:
        assert scaled.significant == base.significant
