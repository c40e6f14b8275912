"""Equipping rate (3.3, 5.2.1, Table A.1): equipped ÷ required measuring points, per row of Table A.1.

A point is *required* when its quantity is measured (not a default value from the guide) and, for an
unorganized stream, the stream is at or above the unorganized threshold.  A point is *equipped* when at least
one linked instrument is *counted*: in use and traceable (6.3.7), and — only where the pack says so —
accurate enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from carbonmeter.core.classify import StreamClass
from carbonmeter.core.snapshot import INDIRECT_KINDS, MeasuringPoint, SourceStream
from carbonmeter.rules.schema import EquippingRow

_EPS = 1e-9


def row_for(stream: SourceStream, role: str, cls: StreamClass) -> str:
    """The Table A.1 row of a quantity of ``role`` on ``stream`` (contract §5.2)."""
    if stream.kind in INDIRECT_KINDS:
        return "indirect.electricity_heat"
    if stream.method == "measurement":
        return f"measurement.{stream.emission_mode}"
    return f"calculation.{cls.category}.{role}"


def row_of(point: MeasuringPoint, stream: SourceStream, cls: StreamClass) -> str:
    """The Table A.1 row a point belongs to (contract §5.2)."""
    return row_for(stream, point.role, cls)


class RowResult(NamedTuple):
    row: str
    required: int
    equipped: int
    required_rate: float
    tag: str
    unequipped_points: tuple[str, ...]

    @property
    def rate(self) -> float | None:
        return self.equipped / self.required if self.required else None

    @property
    def passed(self) -> bool:
        rate = self.rate
        return rate is None or rate + _EPS >= self.required_rate


def required_rate(row: EquippingRow, key_emission_unit: bool) -> tuple[float, str]:
    """The rate a row requires of this unit, with its provenance tag."""
    chosen = row.required_rate
    if not key_emission_unit and row.required_rate_non_key is not None:
        chosen = row.required_rate_non_key
    if chosen.value is None:
        raise ValueError(f"required rate of {row.row} not loaded ({chosen.note})")
    return chosen.value, chosen.tag


def row_results(
    rows: tuple[EquippingRow, ...],
    point_rows: dict[str, str],
    equipped: dict[str, bool],
    key_emission_unit: bool,
) -> list[RowResult]:
    """One result per row of the pack's Table A.1, in pack order, also for rows with nothing required."""
    by_row: dict[str, list[str]] = {r.row: [] for r in rows}
    for point_id, row in point_rows.items():
        by_row[row].append(point_id)
    results = []
    for r in rows:
        members = by_row[r.row]
        rate, tag = required_rate(r, key_emission_unit)
        unequipped = tuple(p for p in members if not equipped[p])
        results.append(RowResult(r.row, len(members), len(members) - len(unequipped), rate, tag, unequipped))
    return results


class FacilityRow(NamedTuple):
    """One row of Table A.1 restricted to one facility's streams (contract §6.4.6)."""

    facility: str
    result: RowResult


def facility_results(
    facilities: Sequence[str],
    stream_facility: Mapping[str, str | None],
    point_streams: Mapping[str, str],
    rows: tuple[EquippingRow, ...],
    required: dict[str, str],
    equipped: dict[str, bool],
    key_emission_unit: bool,
) -> list[FacilityRow]:
    """Every row of Table A.1 for each facility, counting only the required points of its streams.

    Categories stay plant-level (a point keeps the row it has for the plant): a facility is judged on its
    share of the plant's plan, not re-classified as if it were a plant of its own.
    """
    out: list[FacilityRow] = []
    for fac in facilities:
        mine = {p: row for p, row in required.items() if stream_facility.get(point_streams[p]) == fac}
        out.extend(FacilityRow(fac, r) for r in row_results(rows, mine, equipped, key_emission_unit))
    return out
