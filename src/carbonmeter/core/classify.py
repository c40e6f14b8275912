"""Source-stream categories (3.9–3.11): major, minor or de minimis from annual emissions.

Two tests are joined by 或 (or) in the standard — absolute tonnes and share of the unit's total — and they
can disagree (6000 t that is 0.5 % of a large plant).  The stream takes the highest category that either
test reaches (contract §5.1); the verdict keeps both tests so a reader sees why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

from carbonmeter.core.snapshot import SourceStream
from carbonmeter.rules.schema import CategoryThresholds, Tagged, UnorganizedThreshold

Category = Literal["major", "minor", "de_minimis"]
_RANK: dict[Category, int] = {"major": 0, "minor": 1, "de_minimis": 2}


class StreamClass(NamedTuple):
    stream: str
    emissions_t: float
    share: float
    by_emissions: Category
    by_share: Category

    @property
    def category(self) -> Category:
        """The higher of the two tests (bounds inclusive)."""
        return min(self.by_emissions, self.by_share, key=_RANK.__getitem__)


def _value(tagged: Tagged[float]) -> float:
    if tagged.value is None:
        raise ValueError(f"threshold not loaded ({tagged.note})")
    return tagged.value


def _grade(x: float, major: float, minor: float) -> Category:
    if x >= major:
        return "major"
    if x >= minor:
        return "minor"
    return "de_minimis"


#: Stream kinds that leave the boundary: their emissions are deducted from the unit's total (§6.3 Total).
EXPORT_KINDS: frozenset[str] = frozenset({"exported_electricity", "exported_heat", "carbon_product"})


def sign(stream: SourceStream) -> int:
    """+1 for a stream that adds to the unit's emissions, -1 for one that is deducted (exports, products)."""
    return -1 if stream.kind in EXPORT_KINDS else 1


def total_emissions(streams: Iterable[SourceStream], emissions: Mapping[str, float]) -> float:
    """The unit's net total: exported electricity/heat and carbon products are subtracted, all else added."""
    return sum(sign(s) * emissions[s.id] for s in streams)


def share_of(emissions_t: float, total_t: float) -> float:
    """A stream's share of the total; 0 when the whole unit emits nothing."""
    return emissions_t / total_t if total_t > 0 else 0.0


def declared(streams: Iterable[SourceStream]) -> dict[str, float]:
    """Each stream's declared emissions; a stream without them has no figure here (it needs its formula)."""
    return {s.id: s.annual_emissions_t for s in streams if s.annual_emissions_t is not None}


def classify(
    streams: Iterable[SourceStream], thresholds: CategoryThresholds, emissions: Mapping[str, float]
) -> dict[str, StreamClass]:
    """The category of every stream, keyed by stream id, from each stream's ``emissions`` (t CO2e)."""
    streams = list(streams)
    total = total_emissions(streams, emissions)
    major_t, minor_t = _value(thresholds.major_t), _value(thresholds.minor_t)
    major_s, minor_s = _value(thresholds.major_share), _value(thresholds.minor_share)
    result: dict[str, StreamClass] = {}
    for s in streams:
        e = emissions[s.id]
        share = share_of(e, total)
        result[s.id] = StreamClass(
            stream=s.id,
            emissions_t=e,
            share=share,
            by_emissions=_grade(e, major_t, minor_t),
            by_share=_grade(share, major_s, minor_s),
        )
    return result


def unorganized_needs_metering(cls: StreamClass, threshold: UnorganizedThreshold) -> bool:
    """A.1: unorganized emissions need instruments unless both tests fall below the threshold."""
    return cls.emissions_t >= _value(threshold.emissions_t) or cls.share >= _value(threshold.share)
