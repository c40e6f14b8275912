"""Hypothesis strategies: random but valid plants, for the engine's properties."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from carbonmeter.core.snapshot import Calibration, Instrument, MeasuringPoint, Snapshot, SourceStream
from tests.builders import AS_OF, snapshot

KINDS = ("fuel_combustion", "process", "purchased_electricity", "purchased_heat", "exported_heat", "other")
PURPOSES = (
    "weighing_dynamic",
    "weighing_static",
    "electricity_class_II",
    "calorimeter",
    "cems_flow_velocity",
    "natural_gas",
    "no_such_purpose",
    None,
)
CLASSES = ("0.2S", "0.5", "0.5S", "1.0", "2.0", "III", None)
STATUSES = ("in_use", "in_use", "in_use", "standby", "stopped", "scrapped")


@st.composite
def streams(draw: st.DrawFn) -> list[SourceStream]:
    n = draw(st.integers(1, 6))
    out = []
    for i in range(n):
        method = draw(st.sampled_from(("calculation", "calculation", "measurement")))
        out.append(
            SourceStream(
                id=f"S{i}",
                name=f"源流{i}",
                kind=draw(st.sampled_from(KINDS)),
                method=method,
                emission_mode=draw(st.sampled_from(("organized", "organized", "unorganized"))),
                annual_emissions_t=draw(st.floats(0, 500_000, allow_nan=False, allow_infinity=False)),
            )
        )
    return out


@st.composite
def plants(draw: st.DrawFn) -> Snapshot:
    ss = draw(streams())
    points: list[MeasuringPoint] = []
    for s in ss:
        for j in range(draw(st.integers(0, 3))):
            role = (
                "cems"
                if s.method == "measurement"
                else draw(st.sampled_from(("activity_data", "emission_factor")))
            )
            points.append(
                MeasuringPoint(
                    id=f"{s.id}P{j}",
                    stream=s.id,
                    role=role,
                    parameter="x",
                    determination=draw(st.sampled_from(("measured", "measured", "default"))),
                    purpose=draw(st.sampled_from(PURPOSES)),
                    operating_value=draw(st.none() | st.floats(1, 30)),
                )
            )
    ids = [p.id for p in points]
    instruments: list[Instrument] = []
    calibrations: list[Calibration] = []
    for k in range(draw(st.integers(0, 10))):
        linked = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else []
        instruments.append(
            Instrument(
                id=f"I{k}",
                name="器具",
                points=tuple(linked),
                status=draw(st.sampled_from(STATUSES)),
                accuracy_class=draw(st.sampled_from(CLASSES)),
                portable=draw(st.booleans()),
                seal_intact=draw(st.sampled_from((True, False, None))),
            )
        )
        for _ in range(draw(st.integers(0, 3))):
            on = AS_OF + timedelta(days=draw(st.integers(-800, 60)))
            if draw(st.booleans()):
                calibrations.append(
                    Calibration(
                        instrument=f"I{k}",
                        kind="verification",
                        date=on,
                        result="pass",
                        valid_until=on + timedelta(days=draw(st.integers(0, 730))),
                    )
                )
            else:
                calibrations.append(
                    Calibration(instrument=f"I{k}", kind="calibration", date=on, result="fail")
                )
    return snapshot(
        tuple(ss),
        tuple(points),
        tuple(instruments),
        tuple(calibrations),
        key_emission_unit=draw(st.booleans()),
    )


def in_use_traceable(id: str, point_id: str) -> tuple[Instrument, Calibration]:
    inst = Instrument(id=id, name="新增器具", points=(point_id,), accuracy_class="0.2S")
    cal = Calibration(
        instrument=id,
        kind="verification",
        date=AS_OF - timedelta(days=10),
        valid_until=AS_OF + timedelta(days=355),
        result="pass",
    )
    return inst, cal


__all__ = ["date", "in_use_traceable", "plants"]


#: Day offsets of a random calibration history around ``AS_OF``: before and after it, with few distinct
#: values so that same-day records (a pass and a failure, two passes) are common.
HISTORY_DAYS = st.sampled_from([-800, -400, -366, -365, -200, -31, -30, -1, 0, 1, 30, 200])


@st.composite
def histories(draw: st.DrawFn, instrument: str = "I1", max_size: int = 6) -> list[Calibration]:
    """One instrument's random records: passes and failures, dated before or after ``AS_OF``, with or
    without ``valid_until`` (a validity of 0 days up to beyond ``AS_OF``), often on the same day."""
    out: list[Calibration] = []
    for _ in range(draw(st.integers(0, max_size))):
        on = AS_OF + timedelta(days=draw(HISTORY_DAYS))
        kind = draw(st.sampled_from(["verification", "calibration"]))
        if draw(st.booleans()):
            length = draw(st.none() | st.sampled_from([0, 29, 30, 31, 199, 200, 364, 365, 730]))
            until = None if length is None else on + timedelta(days=length)
            out.append(
                Calibration(instrument=instrument, kind=kind, date=on, valid_until=until, result="pass")
            )
        else:
            out.append(Calibration(instrument=instrument, kind=kind, date=on, result="fail"))
    return out
