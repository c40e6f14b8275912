"""Accuracy (5.2.2, Tables A.2/A.3): does an instrument meet the requirement of its measuring purpose?

Accuracy is stated in four ways and compared only where the comparison means something:

* a numeric class (``0.2S``, ``0.5``, ``2``): smaller is better, and an S class beats the plain class of the
  same number (0.5S meets 0.5; 0.5 does not meet 0.5S); the class number is the MPE in percent;
* an ordinal class (weighing I–IIII per OIML/JJG, gas-system A–C): compared only with its own kind;
* a relative MPE in percent: compared by magnitude with classes and other relative MPEs;
* an absolute MPE with a unit (±3 °C): compared with the same unit, or with a relative MPE where the point
  states its operating value.

A measuring system (sensor + secondary instrument) is judged as a whole: by the accuracy it states itself (its
verification as a system, contract §6.4.2), and only where it states none by the root sum of squares of its
components' relative MPEs (contract §5.7).  Where no honest comparison exists the answer is ``None``
("cannot judge"), never a silent pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Literal, NamedTuple

from carbonmeter.core.snapshot import Component, Instrument
from carbonmeter.rules.schema import AccuracyRequirement, Band

Kind = Literal["class", "ordinal", "mpe", "mpe_abs"]

_ROMAN = {"I": 1, "II": 2, "III": 3, "IIII": 4, "IV": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}
_LETTER = {"A": 1, "B": 2, "C": 3, "D": 4}
_NUMERIC = re.compile(r"^(\d+(?:\.\d+)?)\s*(S?)$", re.IGNORECASE)
_MPE_TEXT = re.compile(r"^±?\s*(\d+(?:\.\d+)?)\s*%$")
_UNIT_ALIASES = {"℃": "°C", "degC": "°C", "C": "°C", "%": "% (v/v)", "%(v/v)": "% (v/v)"}
_EPS = 1e-9


class Accuracy(NamedTuple):
    """One stated accuracy. ``number`` is the class number, ordinal rank or MPE magnitude."""

    kind: Kind
    number: float
    s_class: bool = False
    unit: str = ""
    #: For ordinal classes: which scale (roman weighing classes or lettered system classes).
    scale: str = ""
    text: str = ""

    @property
    def relative_percent(self) -> float | None:
        """The relative MPE in percent this accuracy stands for, where it has one."""
        return self.number if self.kind in ("class", "mpe") else None


def _unit(text: str) -> str:
    text = text.strip()
    return _UNIT_ALIASES.get(text, text)


@cache
def parse_class(text: str) -> Accuracy | None:
    """Parse a class as written on a certificate (``0.2S``, ``1.0级``, ``Ⅲ``, ``±0.5%``); None if unreadable.

    Unreadable text is not guessed at: the caller reports "cannot judge".
    """
    raw = text.strip()
    t = re.sub(r"(级|class|Class|CLASS)", "", raw).strip()
    if not t:
        return None
    if m := _NUMERIC.match(t):
        return Accuracy("class", float(m.group(1)), s_class=bool(m.group(2)), text=raw)
    if m := _MPE_TEXT.match(t):
        return Accuracy("mpe", float(m.group(1)), text=f"±{m.group(1)}%")
    if t.upper() in _ROMAN or t in _ROMAN:
        return Accuracy("ordinal", _ROMAN.get(t.upper(), _ROMAN.get(t, 0)), scale="roman", text=raw)
    if t.upper() in _LETTER:
        return Accuracy("ordinal", _LETTER[t.upper()], scale="letter", text=raw)
    return None


def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def mpe(percent: float) -> Accuracy:
    return Accuracy("mpe", percent, text=f"±{_fmt(percent)}%")


def mpe_abs(value: float, unit: str) -> Accuracy:
    return Accuracy("mpe_abs", value, unit=_unit(unit), text=f"±{_fmt(value)} {_unit(unit)}")


def _stated(accuracy_class: str | None, mpe_percent: float | None) -> Accuracy | None:
    if accuracy_class:
        return parse_class(accuracy_class)
    if mpe_percent is not None:
        return mpe(mpe_percent)
    return None


def combine(components: Sequence[Component]) -> Accuracy | None:
    """System accuracy: root sum of squares of the components' relative MPEs; None if any is unknown."""
    if len(components) == 1:
        return _stated(components[0].accuracy_class, components[0].mpe_percent)
    parts: list[float] = []
    for c in components:
        acc = _stated(c.accuracy_class, c.mpe_percent)
        rel = acc.relative_percent if acc else None
        if rel is None:
            return None
        parts.append(rel)
    return mpe(math.sqrt(sum(p * p for p in parts)))


def _states_own(instrument: Instrument) -> bool:
    """Whether the instrument (or system, verified as a whole) states its own class or MPE."""
    return bool(instrument.accuracy_class or instrument.mpe_percent or instrument.mpe_abs)


def states_accuracy(instrument: Instrument) -> bool:
    """Whether the register states any accuracy (its own class or MPE, or a class/MPE on every component)."""
    if _states_own(instrument):
        return True
    return bool(instrument.components) and all(
        c.accuracy_class or c.mpe_percent for c in instrument.components
    )


def actual_accuracy(instrument: Instrument) -> Accuracy | None:
    """What the instrument achieves: its own stated class or MPE; for a measuring system that states none,
    the combination of its components (contract §6.4.2: a system verified as a whole is judged by that
    verification, its components are combined only where nothing is stated).

    A stated class that cannot be read gives None (the caller reports "cannot judge"), never a fallback to
    the components: the certificate says something the engine does not understand.
    """
    if instrument.accuracy_class or instrument.mpe_percent is not None:
        return _stated(instrument.accuracy_class, instrument.mpe_percent)
    if instrument.mpe_abs is not None:
        return mpe_abs(instrument.mpe_abs, instrument.mpe_abs_unit)
    if instrument.components:
        return combine(instrument.components)
    return None


def combined_components(instrument: Instrument) -> Accuracy | None:
    """The components' combined accuracy of a system that also states its own (shown for information)."""
    if instrument.components and _states_own(instrument):
        return combine(instrument.components)
    return None


def band_requirement(band: Band) -> Accuracy | None:
    if band.accuracy_class is not None:
        return parse_class(band.accuracy_class)
    if band.mpe_percent is not None:
        return mpe(band.mpe_percent)
    assert band.mpe_abs is not None  # the pack schema guarantees exactly one requirement
    return mpe_abs(band.mpe_abs, band.mpe_abs_unit)


def band_applies(band: Band, operating_value: float | None) -> bool:
    """Whether a band covers the operating value; without one every band applies (the conservative way)."""
    if operating_value is None:
        return True
    if band.above is not None and not operating_value > band.above:
        return False
    return band.at_or_below is None or operating_value <= band.at_or_below


def meets(actual: Accuracy, required: Accuracy, operating_value: float | None = None) -> bool | None:
    """True/False where the two can be compared honestly; None where they cannot."""
    if required.kind == "ordinal":
        if actual.kind == "ordinal" and actual.scale == required.scale:
            return actual.number <= required.number
        return None
    if required.kind == "class":
        rel = actual.relative_percent
        if rel is None:
            return None
        actual_rank = (rel, 0 if actual.s_class else 1)
        required_rank = (required.number, 0 if required.s_class else 1)
        if abs(actual_rank[0] - required_rank[0]) <= _EPS:
            return actual_rank[1] <= required_rank[1]
        return actual_rank[0] < required_rank[0]
    if required.kind == "mpe":
        rel = actual.relative_percent
        if rel is None and actual.kind == "mpe_abs" and operating_value:
            rel = actual.number / abs(operating_value) * 100
        return None if rel is None else rel <= required.number + _EPS
    # required.kind == "mpe_abs"
    if actual.kind == "mpe_abs":
        return actual.number <= required.number + _EPS if actual.unit == required.unit else None
    rel = actual.relative_percent
    if rel is None or operating_value is None:
        return None
    return rel / 100 * abs(operating_value) <= required.number + _EPS


# --- judging an instrument at its measuring points ------------------------------------------------------

#: Why a point's accuracy could not be judged.
Unjudged = Literal["no_purpose", "unknown_purpose", "not_loaded", "no_accuracy", "incomparable"]


class PointAccuracy(NamedTuple):
    point: str
    purpose: str | None
    required: str | None
    passed: bool | None
    tag: str | None = None
    unjudged: Unjudged | None = None


class InstrumentAccuracy(NamedTuple):
    required: str | None
    actual: str | None
    passed: bool | None
    tag: str | None
    #: A measuring system that states its own accuracy is judged by it (§6.4.2); its components' combined
    #: accuracy is shown beside it, for information.
    combined: str | None
    per_point: tuple[PointAccuracy, ...]


def _band_text(band: Band, unit: str, banded: bool) -> str:
    req = band_requirement(band)
    text = req.text if req else "?"
    if not banded:
        return text
    cond = []
    if band.above is not None:
        cond.append(f"> {_fmt(band.above)}")
    if band.at_or_below is not None:
        cond.append(f"≤ {_fmt(band.at_or_below)}")
    return f"{text} ({' '.join(cond)} {unit})"


class RequirementBook:
    """The pack's Tables A.2/A.3 by purpose, with each (purpose, operating value) prepared once.

    A plant has thousands of instruments but a few dozen purposes: parsing and wording a requirement per
    instrument would be most of the accuracy check's time.
    """

    def __init__(self, requirements: Mapping[str, AccuracyRequirement]) -> None:
        self._requirements = requirements
        self._memo: dict[tuple[str, float | None], tuple[str, tuple[Accuracy | None, ...]]] = {}
        self._verdicts: dict[tuple[object, str | None, float | None], PointAccuracy] = {}

    def judge(
        self,
        actual: Accuracy | Literal["unreadable"] | None,
        purpose: str | None,
        value: float | None,
        point: str,
    ) -> PointAccuracy:
        """:func:`judge_point`, remembered per (accuracy, purpose, operating value): plants repeat them."""
        key = (actual, purpose, value)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = judge_point(actual, purpose, value, "", self)
        return PointAccuracy(point, *verdict[1:])

    def get(self, purpose: str) -> AccuracyRequirement | None:
        return self._requirements.get(purpose)

    def select(self, purpose: str, operating_value: float | None) -> tuple[str, tuple[Accuracy | None, ...]]:
        """The requirement text and the parsed requirement of each band that applies."""
        key = (purpose, operating_value)
        if key not in self._memo:
            req = self._requirements[purpose]
            bands = [b for b in req.bands if band_applies(b, operating_value)] or list(req.bands)
            text = " / ".join(_band_text(b, req.band_unit, len(bands) > 1) for b in bands)
            self._memo[key] = (text, tuple(band_requirement(b) for b in bands))
        return self._memo[key]


def judge_point(
    actual: Accuracy | Literal["unreadable"] | None,
    purpose: str | None,
    operating_value: float | None,
    point_id: str,
    requirements: RequirementBook | Mapping[str, AccuracyRequirement],
) -> PointAccuracy:
    """Judge one instrument accuracy against the requirement of one point's purpose."""
    book = requirements if isinstance(requirements, RequirementBook) else RequirementBook(requirements)
    if not purpose:
        return PointAccuracy(point_id, purpose, None, None, unjudged="no_purpose")
    req = book.get(purpose)
    if req is None:
        return PointAccuracy(point_id, purpose, None, None, unjudged="unknown_purpose")
    if req.tag == "missing":
        return PointAccuracy(point_id, purpose, None, None, tag=req.tag, unjudged="not_loaded")
    required_text, parsed = book.select(purpose, operating_value)
    if actual is None:
        return PointAccuracy(point_id, purpose, required_text, None, req.tag, "no_accuracy")
    if actual == "unreadable":
        return PointAccuracy(point_id, purpose, required_text, None, req.tag, "incomparable")
    results = [None if r is None else meets(actual, r, operating_value) for r in parsed]
    if False in results:
        return PointAccuracy(point_id, purpose, required_text, False, req.tag)
    if None in results:
        return PointAccuracy(point_id, purpose, required_text, None, req.tag, "incomparable")
    return PointAccuracy(point_id, purpose, required_text, True, req.tag)


def judge_instrument(
    instrument: Instrument,
    points: Sequence[tuple[str, str | None, float | None]],
    requirements: RequirementBook,
) -> InstrumentAccuracy:
    """Judge an instrument at each of its points ``(id, purpose, operating_value)``.

    It passes only where it passes everywhere; the requirement shown is the one that decided the verdict.
    """
    actual = actual_accuracy(instrument)
    # Stated but unusable (unreadable class, roman class inside a system): cannot judge, not "unstated".
    judged: Accuracy | Literal["unreadable"] | None = actual
    if actual is None and states_accuracy(instrument):
        judged = "unreadable"
    per_point = tuple(requirements.judge(judged, pur, val, pid) for pid, pur, val in points)
    comb = combined_components(instrument)
    combined = comb.text if comb else None
    actual_text = actual.text if actual else None
    if not per_point:
        return InstrumentAccuracy(None, actual_text, None, None, combined, per_point)
    deciding = per_point[0]
    if len(per_point) > 1:
        deciding = next(
            (p for p in per_point if p.passed is False),
            next((p for p in per_point if p.passed is None), deciding),
        )
    return InstrumentAccuracy(
        deciding.required, actual_text, deciding.passed, deciding.tag, combined, per_point
    )
