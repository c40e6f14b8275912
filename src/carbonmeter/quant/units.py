"""The product's one pint registry: every unit the plant writes is defined here, once.

Quantities from different pint registries do not mix, so there is exactly one (``registry()``); the readings
ledger (``carbonmeter.readings.units``) and the formulas (``carbonmeter.quant.formulas``) both use it. It
computes in exact fractions, so 1 kWh is exactly 1/1000 MWh before the one rounding to float.

Units pint does not know, with why each is what it is:

- ``Nm3``, ``Sm3``: a cubic metre at a reference condition. The condition belongs to the measuring point,
  the unit only says "volume" (the original spelling is kept beside every converted value).
- ``tce``: 吨标准煤, 29.3076 GJ (GB/T 2589: 1 kgce = 29 307.6 kJ).
- ``tC``, ``tCO2``: a tonne of carbon, of carbon dioxide. Both are masses (``metric_ton``); turning one into
  the other is stoichiometry (44/12, :data:`carbonmeter.quant.formulas.CO2_PER_C`), never a unit conversion.

>>> factor("10^4 Nm^3", "m^3")
10000.0
>>> factor("kWh", "MWh")
0.001
>>> factor("%", "dimensionless")
0.01
>>> factor("tce", "GJ")
29.3076
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any, Final

import pint

#: pint definitions of the units pint does not know (see the module docstring for why each is so).
DEFINITIONS: Final[tuple[str, ...]] = (
    "Nm3 = meter ** 3",
    "Sm3 = meter ** 3",
    "tce = 29.3076 * gigajoule",
    "tC = metric_ton",
    "tCO2 = metric_ton",
)

#: ``Nm^3`` / ``Nm**3`` / ``Nm³`` would read as (newton·metre)³ in pint's grammar: they mean ``Nm3``.
_REFERENCE_VOLUME: Final = re.compile(r"\b([NS])m\s*(?:\^|\*\*)\s*3\b|\b([NS])m³")


class UnitMismatch(ValueError):
    """A unit is unknown, or not of the dimension asked for."""

    def __init__(self, unit: str, target: str, detail: str) -> None:
        super().__init__(f"{unit!r} → {target!r}: {detail}")
        self.unit = unit
        self.target = target
        self.detail = detail


@cache
def registry() -> pint.UnitRegistry[Any]:
    """The one registry (built once per process, about 0.2 s), exact fractions, with :data:`DEFINITIONS`."""
    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(cache_folder=None, non_int_type=Fraction)
    for definition in DEFINITIONS:
        ureg.define(definition)
    return ureg


def spelling(unit: str) -> str:
    """The pint spelling of a unit as the contract writes it (``10^4 Nm^3`` → ``10^4 Nm3``)."""
    return _REFERENCE_VOLUME.sub(lambda m: f"{m.group(1) or m.group(2)}m3", unit.strip())


#: What pint's expression parser raises on text that is not a unit: its own errors and the Python errors its
#: tokenizer and evaluator let through on hostile text (``"m**"``, ``"1/0"``, ``"m**1e999"``).  Every reader
#: of a unit catches exactly these, so none of them is a traceback.
PARSE_ERRORS: Final = (
    pint.errors.PintError,
    AssertionError,
    AttributeError,
    TypeError,
    ValueError,
    SyntaxError,
    ZeroDivisionError,
    OverflowError,
)


@lru_cache(maxsize=4096)
def parse(unit: str) -> pint.Quantity[Any]:
    """``unit`` as a pint quantity of magnitude the unit's scale (``10^4 Nm3`` → 10000 m³-like)."""
    text = spelling(unit)
    if text in {"", "1", "dimensionless", "fraction"}:
        return registry().Quantity(Fraction(1), "dimensionless")
    try:
        parsed = registry().parse_expression(text)
    except PARSE_ERRORS as exc:
        raise UnitMismatch(unit, unit, f"not a unit ({exc})") from exc
    if not isinstance(parsed, pint.Quantity) or parsed.magnitude == 0:
        raise UnitMismatch(unit, unit, "not a unit")
    if not parsed._ok_for_muldiv():
        raise UnitMismatch(unit, unit, "an offset unit (temperature) has no factor")
    return parsed


def dimensions(q: pint.Quantity[Any]) -> str:
    """``[mass]·[length]^2/[time]^2`` (pint's own formatter cannot print fraction exponents)."""
    terms = sorted((str(name), Fraction(str(power))) for name, power in dict(q.dimensionality).items())
    if not terms:
        return "dimensionless"

    def term(name: str, power: Fraction) -> str:
        p = abs(power)
        shown = str(p.numerator) if p.denominator == 1 else str(p)
        return name if p == 1 else f"{name}^{shown}"

    up = "·".join(term(n, p) for n, p in terms if p > 0) or "1"
    down = "·".join(term(n, p) for n, p in terms if p < 0)
    return f"{up}/{down}" if down else up


def same_dimension(unit: str, other: str) -> bool:
    """Whether ``unit`` and ``other`` measure the same kind of quantity."""
    return bool(parse(unit).dimensionality == parse(other).dimensionality)


@lru_cache(maxsize=4096)
def factor(unit: str, target: str) -> float:
    """The number that turns a value in ``unit`` into ``target`` (multiplicative units only); raises
    :class:`UnitMismatch` when either is unknown or they differ in dimension."""
    source, goal = parse(unit), parse(target)
    if source.dimensionality != goal.dimensionality:
        raise UnitMismatch(unit, target, f"{dimensions(source)} ≠ {dimensions(goal)}")
    value = float((source / goal).to("dimensionless").magnitude)
    if not math.isfinite(value) or value == 0:
        raise UnitMismatch(unit, target, "no finite, non-zero factor")
    return value


def convert(value: float, unit: str, target: str) -> float:
    """``value`` in ``unit`` expressed in ``target``."""
    return value * factor(unit, target)
