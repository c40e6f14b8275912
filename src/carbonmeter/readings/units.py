"""Units: a file's unit in its quantity's canonical unit, as ``canonical = orig × factor + offset``.

pint does the dimensional analysis, once per distinct (unit, canonical unit) pair: a file of ten million
rows usually has one or two units, so the factor is computed once and applied to the whole column by the
engine (``carbonmeter.readings.ingest``). The registry is the product's one registry
(:func:`carbonmeter.quant.units.registry`: Nm3, tce = 29.3076 GJ, tC, tCO2 are defined there, once); the
spellings users write (吨, 万Nm3, 千瓦时, m³, ℃) come from ``quantities.yaml``. The original value and unit
are kept beside the converted value (contract), so nothing of what was received is lost.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

import pint

from carbonmeter.quant.units import PARSE_ERRORS, registry
from carbonmeter.quant.units import dimensions as _dimensions
from carbonmeter.readings.model import unit_aliases

__all__ = ["MAX_UNIT_LENGTH", "UnitError", "conversion", "normalise", "registry"]

#: Unit text longer than this is not a unit (and is never handed to pint's parser).
MAX_UNIT_LENGTH = 64
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
#: Separators, numbers (10⁴, 1.5e3) and words (吨, Nm3, m³, 万千瓦时) of a unit text.
_TOKENS = re.compile(
    rf"(?P<sep>\*\*|[/*()^·]|\s+)|(?P<num>[0-9.]+(?:[eE][-+]?\d+)?[{_SUP}]*)|(?P<word>[^\s/*()^·0-9{_SUP}]+\d*[{_SUP}]*)"
)
_SUPERSCRIPT_TAIL = re.compile(rf"(.*?)([{_SUP}]+)")
#: Exponents are small numbers and few: 10^(99^99) would have pint compute a huge integer.
_EXPONENT = re.compile(r"(\*\*|\^)\s*\(?\s*[-+]?\s*([0-9.]+)")
_MAX_EXPONENTS = 3


class UnitError(ValueError):
    """The unit is unknown (``variant="unknown"``) or of another dimension (``"incompatible"``)."""

    def __init__(self, variant: Literal["unknown", "incompatible"], unit: str, canonical: str, detail: str):
        super().__init__(f"{unit!r} → {canonical!r}: {detail}")
        self.variant = variant
        self.unit = unit
        self.canonical = canonical
        self.detail = detail


def normalise(text: str) -> str:
    """The pint spelling of a unit as users write it: aliases, 万 (10^4), superscript powers."""
    s = text.strip()
    aliases = unit_aliases()
    if s in aliases:
        return aliases[s]
    out: list[str] = []
    previous_is_operand = False
    for match in _TOKENS.finditer(s):
        if match.group("sep") is not None:
            sep = match.group("sep")
            out.append("*" if sep == "·" else sep)
            previous_is_operand = False
            continue
        token = match.group("num") if match.group("num") is not None else _word(match.group("word"))
        if match.group("num") is not None:
            tail = _SUPERSCRIPT_TAIL.fullmatch(token)
            if tail:
                token = f"{tail.group(1)}^{tail.group(2).translate(_SUPERSCRIPTS)}"
        if previous_is_operand:  # 10⁴Nm³: a number and a unit written together multiply
            out.append(" ")
        out.append(token)
        previous_is_operand = True
    spelled = "".join(out)
    return spelled if len("".join(m.group(0) for m in _TOKENS.finditer(s))) == len(s) else s


def _word(word: str) -> str:
    table = unit_aliases()
    if word in table:
        mapped = table[word]
        return f"({mapped})" if re.search(r"[\s/*^]", mapped) else mapped
    if word.startswith("万") and len(word) > 1:
        return f"(10^4 {_word(word[1:])})"
    tail = _SUPERSCRIPT_TAIL.fullmatch(word)
    if tail:
        return f"{_word(tail.group(1))}^{tail.group(2).translate(_SUPERSCRIPTS)}"
    return word


def _parse(text: str, original: str, canonical: str) -> pint.Quantity[Any]:
    spelled = normalise(text)
    exponents = _EXPONENT.findall(spelled)
    if (
        not spelled
        or len(spelled) > MAX_UNIT_LENGTH
        or len(exponents) > _MAX_EXPONENTS
        or any(len(e[1]) > 2 for e in exponents)
    ):
        raise UnitError("unknown", original, canonical, "not a unit")
    try:
        parsed = registry().parse_expression(spelled)
    except PARSE_ERRORS as exc:
        raise UnitError("unknown", original, canonical, str(exc) or type(exc).__name__) from exc
    if not isinstance(parsed, pint.Quantity):  # a bare number such as "2" is no unit
        raise UnitError("unknown", original, canonical, "a number, not a unit")
    if parsed.magnitude == 0:
        raise UnitError("unknown", original, canonical, "a zero unit")
    return parsed


@lru_cache(maxsize=4096)
def conversion(orig_unit: str, canonical_unit: str) -> tuple[float, float]:
    """``(factor, offset)`` with ``canonical = orig × factor + offset``; raises :class:`UnitError`.

    Computed once per distinct pair (cached) in exact fractions and rounded to float once, so a factor is
    the nearest double to the defined one (kWh → MWh is exactly ``0.001``).
    """
    orig = _parse(orig_unit, orig_unit, canonical_unit)
    canon = _parse(canonical_unit, canonical_unit, canonical_unit)
    if orig.dimensionality != canon.dimensionality:
        detail = f"{_dimensions(orig)} ≠ {_dimensions(canon)}"
        raise UnitError("incompatible", orig_unit, canonical_unit, detail)
    try:
        if orig._ok_for_muldiv() and canon._ok_for_muldiv():
            factor = float((orig / canon).to("dimensionless").magnitude)
            offset = 0.0
        else:  # affine units (°F → °C): only a bare unit, never 10^4 °F
            if orig.magnitude != 1 or canon.magnitude != 1:
                raise UnitError("incompatible", orig_unit, canonical_unit, "scaled temperature")
            q = registry().Quantity
            zero = q(Fraction(0), orig.units).to(canon.units).magnitude
            one = q(Fraction(1), orig.units).to(canon.units).magnitude
            factor, offset = float(one - zero), float(zero)
    except (pint.errors.PintError, OverflowError, ZeroDivisionError) as exc:
        raise UnitError("incompatible", orig_unit, canonical_unit, str(exc) or type(exc).__name__) from exc
    if not (math.isfinite(factor) and math.isfinite(offset)) or factor == 0:
        raise UnitError("incompatible", orig_unit, canonical_unit, "no finite, non-zero factor")
    return factor, offset
