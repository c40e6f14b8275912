"""EMI-01: declared and computed emissions differ by more than the computed value's U95 (5.1.1)."""

from __future__ import annotations

import msgspec
import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.validators import emissions
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from tests.builders import stream
from tests.core.test_accounting import coal_plant, hand_coal

CQ = load_pack("cq-part1")


def check(declared: float | None) -> list[object]:
    snap = coal_plant()
    snap = msgspec.structs.replace(snap, source_streams=(stream("S1", declared, formula="fuel_ncv_cc"),))
    return emissions.check(establish(snap, CQ, snap.as_of))  # type: ignore[return-value]


def test_emi01_beyond_u95_with_its_numbers() -> None:
    e, u_rel = hand_coal()
    found = check(e * 1.2)
    assert len(found) == 1
    f = found[0]
    assert (f.code, f.severity, f.clause, f.subject) == ("EMI-01", "observation", "5.1.1", "S1")  # type: ignore[attr-defined]
    assert f.params["gap_t"] == pytest.approx(0.2 * e)  # type: ignore[attr-defined]
    assert f.params["u95_t"] == pytest.approx(2 * u_rel * e)  # type: ignore[attr-defined]
    assert "超出计算值的扩展不确定度" in render("EMI-01", f.params, "zh")  # type: ignore[attr-defined]


def test_no_emi01_within_u95_below_either_side_or_without_a_declared_figure() -> None:
    e, u_rel = hand_coal()
    assert check(e * (1 + 0.9 * 2 * u_rel)) == []
    assert check(e * (1 - 0.9 * 2 * u_rel)) == []
    assert check(None) == []
    assert len(check(e * (1 - 1.1 * 2 * u_rel))) == 1
