"""The one registry: the plant's units are defined once and the readings ledger uses the same registry."""

from __future__ import annotations

import pytest

from carbonmeter.quant import units
from carbonmeter.readings import units as reading_units


@pytest.mark.parametrize(
    ("unit", "target", "expected"),
    [
        ("10^4 Nm^3", "m^3", 10_000.0),  # the contract's spelling; pint alone would read (N·m)³
        ("10^4 Nm3", "Nm3", 10_000.0),
        ("Nm³", "m^3", 1.0),
        ("GJ/(10^4 Nm^3)", "MJ/Nm3", 0.1),
        ("tce", "GJ", 29.3076),  # GB/T 2589: 1 kgce = 29,307.6 kJ
        ("tC", "t", 1.0),
        ("tCO2", "kg", 1_000.0),
        ("tCO2/TJ", "tCO2/GJ", 0.001),
        ("kWh", "MWh", 0.001),
        ("%", "dimensionless", 0.01),
        ("fraction", "%", 100.0),
        ("tC/t", "%", 100.0),
    ],
)
def test_factor(unit: str, target: str, expected: float) -> None:
    assert units.factor(unit, target) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("unit", "target"), [("t", "MWh"), ("GJ/t", "GJ/Nm3"), ("no such unit", "t"), ("degC", "K")]
)
def test_mismatch(unit: str, target: str) -> None:
    with pytest.raises(units.UnitMismatch):
        units.factor(unit, target)


def test_one_registry_for_the_product() -> None:
    assert reading_units.registry() is units.registry()
    q = units.registry().Quantity
    assert (q(1, "tce") + q(1, "GJ")).to("GJ").magnitude == pytest.approx(30.3076)


def test_readings_keep_their_public_behaviour() -> None:
    assert reading_units.conversion("万Nm3", "m^3") == (10_000.0, 0.0)
    assert reading_units.conversion("吨标准煤", "GJ") == (29.3076, 0.0)


def test_convert() -> None:
    assert units.convert(1_200.0, "10^4 Nm^3", "Nm3") == pytest.approx(12_000_000.0)
