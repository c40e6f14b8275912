"""Properties of the accounting model and the theoretical need (issue 10, item 7), on random plants.

- scaling an activity amount scales E (and leaves its relative uncertainty alone);
- a better instrument never raises any uncertainty (a stream's U95, the plant's);
- the derived need never requires less than the plan's measured points of a formula stream;
- removing a point of a formula parameter never raises the plant's equipping rate, nor any Table A.1 row's
  rate while the categories stay (the need cannot be gamed).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.core.assess import assess
from carbonmeter.core.snapshot import Instrument, MeasuringPoint, Snapshot
from carbonmeter.rules.loader import load_pack
from tests.builders import instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
CLASSES = ("0.2", "0.5", "1.0", "2.0")


@st.composite
def plants(draw: Any) -> Snapshot:
    """1–3 coal streams by fuel_ncv_cc, each point on its own instrument of a random class; some points
    measured, some missing, the oxidation rate a default."""
    streams, points, instruments, records = [], [], [], []
    for n in range(draw(st.integers(1, 3))):
        sid = f"S{n}"
        streams.append(stream(sid, draw(st.floats(100.0, 1e6)), formula="fuel_ncv_cc"))
        params = [
            ("consumption", "activity_data", "weighing_dynamic", draw(st.floats(10.0, 1e6)), "t"),
            ("ncv", "emission_factor", "calorimeter", draw(st.floats(15.0, 30.0)), "GJ/t"),
            ("carbon_content", "emission_factor", "carbon_analyser", draw(st.floats(0.02, 0.03)), "tC/GJ"),
        ]
        for name, role, purpose, value, unit in params:
            if draw(st.booleans()) and name != "consumption":
                continue  # left out of the plan
            pid = f"P{n}.{name}"
            points.append(point(pid, sid, role=role, parameter=name, purpose=purpose, value=value, unit=unit))
            iid = f"I{n}.{name}"
            instruments.append(instrument(iid, (pid,), accuracy_class=draw(st.sampled_from(CLASSES))))
            if draw(st.integers(0, 4)):  # mostly traceable
                records.append(passed(iid))
        points.append(
            point(f"P{n}.of", sid, role="emission_factor", parameter="oxidation_rate", purpose=None,
                  determination="default", value=0.98, unit="1", u_rel=0.01)
        )  # fmt: skip
    return snapshot(tuple(streams), tuple(points), tuple(instruments), tuple(records))


def _replace_instrument(snap: Snapshot, iid: str, **changes: Any) -> Snapshot:
    insts: list[Instrument] = [
        msgspec.structs.replace(i, **changes) if i.id == iid else i for i in snap.instruments
    ]
    return msgspec.structs.replace(snap, instruments=tuple(insts))


@settings(max_examples=60, deadline=None)
@given(plants(), st.floats(0.01, 100.0))
def test_scaling_an_activity_amount_scales_e(snap: Snapshot, factor: float) -> None:
    before = assess(snap, CQ).accounting
    target = next(p for p in snap.measuring_points if p.parameter == "consumption")
    pts: list[MeasuringPoint] = [
        msgspec.structs.replace(p, value=(p.value or 0) * factor) if p.id == target.id else p
        for p in snap.measuring_points
    ]
    after = assess(msgspec.structs.replace(snap, measuring_points=tuple(pts)), CQ).accounting
    assert before is not None and after is not None
    b, a = before.streams[target.stream], after.streams[target.stream]
    if b.computed_t is None:
        assert a.computed_t is None
        return
    assert a.computed_t == pytest.approx(b.computed_t * factor, rel=1e-9)
    if b.u_rel is not None:
        assert a.u_rel == pytest.approx(b.u_rel, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(plants(), st.data())
def test_a_better_instrument_never_raises_any_uncertainty(snap: Snapshot, data: Any) -> None:
    inst = data.draw(st.sampled_from(snap.instruments))
    better = CLASSES[: CLASSES.index(inst.accuracy_class or "2.0") + 1]
    improved = _replace_instrument(snap, inst.id, accuracy_class=data.draw(st.sampled_from(better)))
    before, after = assess(snap, CQ).accounting, assess(improved, CQ).accounting
    assert before is not None and after is not None
    for sid, b in before.streams.items():
        if b.u95_t is not None:
            assert after.streams[sid].u95_t is not None
            assert after.streams[sid].u95_t <= b.u95_t * (1 + 1e-12)  # type: ignore[operator]
    if before.total_u95_t is not None and after.total_u95_t is not None:
        assert after.total_u95_t <= before.total_u95_t * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(plants())
def test_the_derived_need_covers_the_plans_measured_points(snap: Snapshot) -> None:
    a = assess(snap, CQ)
    assert a.need is not None
    measured = {p.id for p in snap.measuring_points if p.determination == "measured"}
    assert measured <= set(a.need.required)
    # … and one per formula parameter that needs a measurement (the default oxidation rate does not).
    per_stream = {s.id: 0 for s in snap.source_streams}
    for subject in a.need.required:
        per_stream[subject.split(":")[0] if ":" in subject else subject.split(".")[0].replace("P", "S")] += 1
    assert all(n == 3 for n in per_stream.values())


@settings(max_examples=60, deadline=None)
@given(plants(), st.data())
def test_removing_a_point_never_raises_a_rate(snap: Snapshot, data: Any) -> None:
    victim = data.draw(st.sampled_from([p for p in snap.measuring_points if p.parameter != "consumption"]))
    smaller = msgspec.structs.replace(
        snap,
        measuring_points=tuple(p for p in snap.measuring_points if p.id != victim.id),
        instruments=tuple(
            msgspec.structs.replace(i, points=tuple(r for r in i.points if r != victim.id))
            for i in snap.instruments
        ),
    )
    a, b = assess(snap, CQ), assess(smaller, CQ)
    # Over the whole plant: the point's parameter stays required, so equipped/required cannot rise.
    assert sum(r.required for r in b.rows) == sum(r.required for r in a.rows)
    assert sum(r.equipped for r in b.rows) <= sum(r.equipped for r in a.rows)
    # Row by row where no stream changed category (a value left out changes the computed emissions and may
    # move a stream, with all its points, to another row: that is classification, not the need).
    if [c.category for c in a.streams] == [c.category for c in b.streams]:
        before = {r.row: r.rate for r in a.rows}
        for r in b.rows:
            if r.rate is not None and before[r.row] is not None:
                assert r.rate <= before[r.row] + 1e-12  # type: ignore[operator]
