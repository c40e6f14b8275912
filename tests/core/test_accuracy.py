from __future__ import annotations

import pytest

from carbonmeter.core.accuracy import combine, judge_point, meets, mpe, mpe_abs, parse_class
from carbonmeter.core.snapshot import Component
from carbonmeter.rules.loader import load_pack

REQS = load_pack("cq-part1").accuracy_requirements


@pytest.mark.parametrize(
    ("actual", "required", "ok"),
    [
        ("0.5S", "0.5", True),
        ("0.5", "0.5S", False),
        ("0.2S", "0.5S", True),
        ("0.2", "0.5S", True),
        ("1.0", "0.5S", False),
        ("2", "2.0", True),
        ("1.0级", "1.0", True),
        ("II", "III", True),
        ("IIII", "III", False),
        ("Ⅲ", "III", True),
    ],
)
def test_class_comparisons(actual: str, required: str, ok: bool) -> None:
    a, r = parse_class(actual), parse_class(required)
    assert a is not None and r is not None
    assert meets(a, r) is ok


def test_roman_and_numeric_do_not_compare() -> None:
    assert meets(parse_class("0.5"), parse_class("III")) is None  # type: ignore[arg-type]
    assert meets(parse_class("III"), mpe(1.0)) is None  # type: ignore[arg-type]


def test_unreadable_class_is_none() -> None:
    assert parse_class("good") is None
    assert parse_class("") is None


def test_system_is_root_sum_of_squares() -> None:
    system = combine(
        [Component(type="sensor", accuracy_class="0.5"), Component(type="totaliser", mpe_percent=0.5)]
    )
    assert system is not None and system.number == pytest.approx(0.7071, abs=1e-4)
    assert (
        combine([Component(type="cell", accuracy_class="III"), Component(type="x", accuracy_class="0.2")])
        is None
    )


def test_absolute_mpe_needs_same_unit_or_an_operating_value() -> None:
    assert meets(mpe_abs(2, "℃"), mpe_abs(3, "°C")) is True
    assert meets(mpe_abs(2, "K"), mpe_abs(3, "°C")) is None
    assert meets(mpe(1.0), mpe_abs(1.5, "%")) is None
    assert meets(mpe(10.0), mpe_abs(1.5, "%"), operating_value=4.0) is True  # 0.4 points absolute
    assert meets(mpe(50.0), mpe_abs(1.5, "%"), operating_value=4.0) is False  # 2.0 points


def test_banded_velocity_picks_the_band_of_the_operating_value() -> None:
    assert judge_point(mpe(11), "cems_flow_velocity", 14.0, "P", REQS).passed is False
    assert judge_point(mpe(11), "cems_flow_velocity", 8.0, "P", REQS).passed is True
    # Without an operating value every band must hold: the conservative reading.
    assert judge_point(mpe(11), "cems_flow_velocity", None, "P", REQS).passed is False
    assert judge_point(mpe(10), "cems_flow_velocity", 10.0, "P", REQS).passed is True  # ≤ 10 → 12 %


def test_missing_requirement_is_not_a_pass() -> None:
    pa = judge_point(mpe(0.1), "calorimeter", None, "P", REQS)
    assert pa.passed is None and pa.unjudged == "not_loaded"
