"""The theoretical need (4.2, 5.1.1, 5.2.1; contract v1.1 §6.2): which measuring points a plant must equip.

Under v1 the need was the plant's own plan: a point left out of the plan, or declared a default, was simply
not required — so a plant could pass by leaving points out.  A stream with a ``formula`` now needs one point
per formula parameter, whatever the plan lists:

- a parameter with no point in the plan is required and unequipped, under the subject ``"<stream>:<param>"``
  (unless the formula allows a default for it at the stream's category: then the default stands in);
- a point declared ``default`` is exempt only where the pack's formula allows a default for that parameter at
  the stream's category; elsewhere it is required and unequipped (finding EQP-02);
- the unorganized exemption applies to ``measurement`` streams only (§6.4.1);
- a stream without a formula keeps v1's rule (its plan's measured points) and draws EQP-03.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from carbonmeter.core.classify import StreamClass, unorganized_needs_metering
from carbonmeter.core.equipping import row_for, row_of
from carbonmeter.core.snapshot import MeasuringPoint, Snapshot, SourceStream
from carbonmeter.rules.schema import Pack


@dataclass(frozen=True, slots=True)
class Missing:
    """A formula parameter the plan has no point for: required, unequipped, named ``stream:parameter``."""

    stream: str
    parameter: str
    role: str


@dataclass(slots=True)
class Need:
    #: Row of Table A.1 of every measured point of the plan (required or exempt).
    point_rows: dict[str, str] = field(default_factory=dict)
    #: Required subjects (point ids and ``stream:parameter`` ids) and their rows.
    required: dict[str, str] = field(default_factory=dict)
    #: Parameters without a point, by their ``stream:parameter`` subject.
    missing: dict[str, Missing] = field(default_factory=dict)
    #: Default points where the formula does not allow a default: required and unequipped (EQP-02).
    misused_defaults: dict[str, str] = field(default_factory=dict)
    #: Streams whose need rests on the plant's own plan (no formula; EQP-03), in snapshot order.
    plan_only: list[str] = field(default_factory=list)


def missing_id(stream: str, parameter: str) -> str:
    return f"{stream}:{parameter}"


def _exempt(stream: SourceStream, cls: StreamClass, pack: Pack) -> bool:
    """§6.4.1: only a measurement stream below the unorganized threshold needs no instruments."""
    return (
        stream.method == "measurement"
        and stream.emission_mode == "unorganized"
        and not unorganized_needs_metering(cls, pack.unorganized_threshold)
    )


def theoretical_need(snapshot: Snapshot, pack: Pack, classes: Mapping[str, StreamClass]) -> Need:
    """The required points of every stream, in snapshot order."""
    need = Need()
    by_stream: dict[str, list[MeasuringPoint]] = {s.id: [] for s in snapshot.source_streams}
    for p in snapshot.measuring_points:
        by_stream[p.stream].append(p)
    uses_formulas = any(s.formula for s in snapshot.source_streams)
    for s in snapshot.source_streams:
        cls = classes[s.id]
        exempt = _exempt(s, cls, pack)
        spec = pack.formulas.get(s.formula) if s.formula else None
        params = spec.parameters if spec is not None else {}
        for p in by_stream[s.id]:
            param = params.get(p.parameter)
            if p.determination == "measured":
                need.point_rows[p.id] = row = (
                    row_for(s, param.role, cls) if param is not None else row_of(p, s, cls)
                )
                if not exempt:
                    need.required[p.id] = row
            elif param is not None and cls.category not in param.default_allowed and not exempt:
                need.required[p.id] = need.misused_defaults[p.id] = row_for(s, param.role, cls)
        if spec is None:
            if uses_formulas:
                need.plan_only.append(s.id)
            continue
        planned = {p.parameter for p in by_stream[s.id]}
        for name, param in params.items():
            if name in planned or exempt or cls.category in param.default_allowed:
                continue  # where a default is allowed, the plan need not list it
            subject = missing_id(s.id, name)
            need.required[subject] = row_for(s, param.role, cls)
            need.missing[subject] = Missing(s.id, name, param.role)
    return need
