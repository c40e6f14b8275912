"""Properties of the engine that must hold for every plant, whatever its data."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.core.assess import assess
from carbonmeter.core.classify import classify, declared
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import ALL_ROWS
from tests.builders import stream
from tests.core.strategies import in_use_traceable, plants

PACKS = [load_pack("cq-part1"), load_pack("jjf2309-2025")]
RANK = {"major": 0, "minor": 1, "de_minimis": 2}


@settings(max_examples=150, deadline=None)
@given(plants(), st.sampled_from(PACKS))
def test_rates_lie_in_unit_interval_and_rows_are_complete(plant: Snapshot, pack) -> None:  # type: ignore[no-untyped-def]
    a = assess(plant, pack)
    assert [r.row for r in a.rows] == [r.row for r in pack.equipping_rows]
    assert set(ALL_ROWS) == {r.row for r in a.rows}
    for r in a.rows:
        assert 0 <= r.equipped <= r.required
        assert r.rate is None or 0.0 <= r.rate <= 1.0
        assert r.passed or r.unequipped_points
    assert len(a.streams) == len(plant.source_streams)
    assert len(a.instruments) == len(plant.instruments)
    assert a.conforms == (not any(f.severity == "nonconformity" for f in a.findings))


@settings(max_examples=150, deadline=None)
@given(plants(), st.sampled_from(PACKS), st.data())
def test_adding_a_counted_instrument_never_lowers_a_rate(plant: Snapshot, pack, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    before = assess(plant, pack)
    unequipped = [p for r in before.rows for p in r.unequipped_points]
    if not unequipped:
        return
    target = data.draw(st.sampled_from(unequipped))
    inst, cal = in_use_traceable("NEW", target)
    after = assess(
        msgspec.structs.replace(
            plant, **{"instruments": (*plant.instruments, inst), "calibrations": (*plant.calibrations, cal)}
        ),
        pack,
    )
    for b, a in zip(before.rows, after.rows, strict=True):
        assert a.required == b.required
        assert a.equipped >= b.equipped
        if target in b.unequipped_points:
            assert a.equipped == b.equipped + 1 and target not in a.unequipped_points


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=8), st.data(), st.sampled_from(PACKS)
)
def test_a_larger_emission_never_gives_a_lower_category(
    tonnes: list[float], data: st.DataObject, pack
) -> None:  # type: ignore[no-untyped-def]
    i = data.draw(st.integers(0, len(tonnes) - 1))
    extra = data.draw(st.floats(0, 1e6, allow_nan=False))
    before = [stream(f"S{k}", t) for k, t in enumerate(tonnes)]
    after = [stream(f"S{k}", t + (extra if k == i else 0)) for k, t in enumerate(tonnes)]
    c0 = classify(before, pack.category_thresholds, declared(before))[f"S{i}"].category
    c1 = classify(after, pack.category_thresholds, declared(after))[f"S{i}"].category
    assert RANK[c1] <= RANK[c0]


@settings(max_examples=100, deadline=None)
@given(plants())
def test_assessment_is_deterministic_and_pure(plant: Snapshot) -> None:
    pack = PACKS[0]
    first, second = assess(plant, pack), assess(plant, pack)
    assert first.findings == second.findings and first.rows == second.rows
