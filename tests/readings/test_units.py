"""Units: factors into the canonical units of quantities.yaml, exact where the definitions are decimal, and
a located reason (unknown or incompatible) for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmeter.readings.model import quantities
from carbonmeter.readings.units import UnitError, conversion, normalise


@pytest.mark.parametrize(
    ("unit", "canonical", "expected"),
    [
        ("kWh", "MWh", (0.001, 0.0)),
        ("千瓦时", "MWh", (0.001, 0.0)),
        ("万千瓦时", "MWh", (10.0, 0.0)),
        ("度", "MWh", (0.001, 0.0)),
        ("MWh", "MWh", (1.0, 0.0)),
        ("kg", "t", (0.001, 0.0)),
        ("吨", "t", (1.0, 0.0)),
        ("万吨", "t", (10000.0, 0.0)),
        ("Nm3", "m^3", (1.0, 0.0)),
        ("Nm³", "m^3", (1.0, 0.0)),
        ("万Nm3", "m^3", (10000.0, 0.0)),
        ("10⁴Nm³", "m^3", (10000.0, 0.0)),
        ("m3", "m^3", (1.0, 0.0)),
        ("%", "%", (1.0, 0.0)),
        ("%(v/v)", "%", (1.0, 0.0)),
        ("ppm", "%", (0.0001, 0.0)),
        ("tce", "GJ", (29.3076, 0.0)),
        ("吨标准煤", "GJ", (29.3076, 0.0)),
        ("MJ/kg", "GJ/t", (1.0, 0.0)),
        ("吉焦/吨", "GJ/t", (1.0, 0.0)),
        ("GJ/万Nm3", "GJ/(10^4 Nm3)", (1.0, 0.0)),
        ("MJ/Nm3", "GJ/(10^4 Nm3)", (10.0, 0.0)),
        ("km/h", "m/s", (5 / 18, 0.0)),
        ("Pa", "kPa", (0.001, 0.0)),
        ("℃", "degC", (1.0, 0.0)),
        ("K", "degC", (1.0, -273.15)),
        ("degF", "degC", (5 / 9, -160 / 9)),
    ],
)
def test_factors(unit: str, canonical: str, expected: tuple[float, float]) -> None:
    assert conversion(unit, canonical) == expected


def test_kwh_to_mwh_is_exact_for_a_column() -> None:
    factor, _ = conversion("kWh", "MWh")
    assert [v * factor for v in (1500.0, 250.0, 0.5)] == [1.5, 0.25, 0.0005]


@pytest.mark.parametrize("unit", ["foo", "", "   ", "10^1000 t", "__import__('os')", "2", "万"])
def test_unknown_units_say_so(unit: str) -> None:
    with pytest.raises(UnitError) as caught:
        conversion(unit, "t")
    assert caught.value.unit == unit
    assert caught.value.variant in {"unknown", "incompatible"}


@pytest.mark.parametrize(("unit", "canonical"), [("kg", "MWh"), ("MWh", "t"), ("m/s", "%"), ("kPa", "degC")])
def test_incompatible_units_name_both_dimensions(unit: str, canonical: str) -> None:
    with pytest.raises(UnitError) as caught:
        conversion(unit, canonical)
    assert caught.value.variant == "incompatible"
    assert "≠" in caught.value.detail and caught.value.canonical == canonical


@pytest.mark.parametrize("code", sorted(quantities()))
def test_every_canonical_unit_is_a_unit(code: str) -> None:
    unit = quantities()[code].unit
    assert conversion(unit, unit) == (1.0, 0.0)


def test_a_factor_is_computed_once_per_pair() -> None:
    conversion("kWh", "MWh")
    before = conversion.cache_info()
    for _ in range(1000):
        conversion("kWh", "MWh")
    after = conversion.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 1000


def test_normalise_spellings() -> None:
    assert normalise("万千瓦时") == "(10^4 kWh)"
    assert normalise("GJ/万Nm3") == "GJ/(10^4 Nm3)"
    assert normalise("kW·h") == "kW*h"
    assert normalise(" t ") == "t"


MASS = ["t", "kg", "g", "吨", "千克", "万吨", "tC"]
ENERGY = ["GJ", "MJ", "kWh", "MWh", "tce", "万千瓦时", "吉焦"]


@given(st.sampled_from([MASS, ENERGY]).flatmap(lambda units: st.tuples(*[st.sampled_from(units)] * 3)))
def test_factors_compose(units: tuple[str, str, str]) -> None:
    """a→c is a→b then b→c (to rounding): one dimension, one consistent set of factors."""
    a, b, c = units
    ab, bc, ac = conversion(a, b)[0], conversion(b, c)[0], conversion(a, c)[0]
    assert ab * bc == pytest.approx(ac, rel=1e-15)
    assert conversion(a, b)[0] * conversion(b, a)[0] == pytest.approx(1.0, rel=1e-15)
