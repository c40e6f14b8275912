"""Referential integrity of a snapshot: what the schema alone cannot say.

The snapshot types check each object on its own; this module checks the snapshot as a whole — unique ids,
references that resolve, dates that make sense together — and returns *every* problem with its JSON
pointer, so a plant fixes its file in one pass instead of one error at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from carbonmeter.core.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located by a JSON pointer into the snapshot document."""

    pointer: str
    message: str


def _duplicates(list_name: str, ids: Iterable[str]) -> list[Problem]:
    ids = list(ids)
    if len(set(ids)) == len(ids):
        return []
    seen = Counter(ids)
    return [
        Problem(f"/{list_name}/{i}/id", f"duplicate id {ident!r} (编号重复)")
        for i, ident in enumerate(ids)
        if seen[ident] > 1
    ]


def check_integrity(snapshot: Snapshot) -> list[Problem]:
    """Every referential or cross-field problem of ``snapshot``, in document order."""
    problems: list[Problem] = []
    problems += _duplicates("source_streams", (s.id for s in snapshot.source_streams))
    problems += _duplicates("measuring_points", (p.id for p in snapshot.measuring_points))
    problems += _duplicates("instruments", (i.id for i in snapshot.instruments))
    problems += _duplicates("facilities", (f.id for f in snapshot.facilities))
    facilities = {f.id for f in snapshot.facilities}
    for i, s in enumerate(snapshot.source_streams):
        if s.annual_emissions_t is None and s.formula is None:
            problems.append(
                Problem(
                    f"/source_streams/{i}/annual_emissions_t",
                    "without a formula, annual emissions are needed (未填核算公式须填写年排放量)",
                )
            )
        if s.facility is not None and s.facility not in facilities:
            problems.append(
                Problem(f"/source_streams/{i}/facility", f"unknown facility {s.facility!r} (生产设施不存在)")
            )

    streams = {s.id: s for s in snapshot.source_streams}
    points = {p.id for p in snapshot.measuring_points}
    instruments = {i.id for i in snapshot.instruments}

    for i, point in enumerate(snapshot.measuring_points):
        if point.value is not None and not point.unit.strip():
            problems.append(
                Problem(f"/measuring_points/{i}/unit", "a value needs its unit (年度值须注明单位)")
            )
        stream = streams.get(point.stream)
        if stream is None:
            problems.append(
                Problem(
                    f"/measuring_points/{i}/stream", f"unknown source stream {point.stream!r} (碳源流不存在)"
                )
            )
        elif point.role == "cems" and stream.method != "measurement":
            problems.append(
                Problem(
                    f"/measuring_points/{i}/role",
                    f"role 'cems' needs a stream with method 'measurement'; {stream.id!r} uses "
                    f"{stream.method!r} (实测数据只适用于实测法碳源流)",
                )
            )
    for i, instrument in enumerate(snapshot.instruments):
        for j, ref in enumerate(instrument.points):
            if ref not in points:
                problems.append(
                    Problem(f"/instruments/{i}/points/{j}", f"unknown measuring point {ref!r} (计量点不存在)")
                )
    for i, record in enumerate(snapshot.calibrations):
        where = f"/calibrations/{i}"
        if record.instrument not in instruments:
            problems.append(
                Problem(f"{where}/instrument", f"unknown instrument {record.instrument!r} (器具不存在)")
            )
        if record.valid_until is not None and record.valid_until < record.date:
            problems.append(
                Problem(
                    f"{where}/valid_until",
                    f"valid_until {record.valid_until} is before the date {record.date} (有效期早于检定日期)",
                )
            )
        if record.result == "pass" and record.valid_until is None:
            problems.append(
                Problem(f"{where}/valid_until", "a passing record needs valid_until (合格记录须填写有效期至)")
            )
    return problems
