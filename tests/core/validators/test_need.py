"""EQP-02 (a default the formula does not allow) and EQP-03 (a stream whose need rests on the plan alone)."""

from __future__ import annotations

import msgspec

from carbonmeter.core.facts import establish
from carbonmeter.core.validators import need
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from tests.builders import point, stream
from tests.core.test_accounting import coal_plant

CQ = load_pack("cq-part1")


def test_eqp02_names_the_default_its_parameter_and_category() -> None:
    snap = coal_plant()
    cc = msgspec.structs.replace(snap.measuring_points[2], determination="default", purpose=None)
    snap = msgspec.structs.replace(
        snap, measuring_points=(*snap.measuring_points[:2], cc, snap.measuring_points[3])
    )
    found = need.check(establish(snap, CQ, snap.as_of))
    assert [(f.code, f.severity, f.clause, f.subject) for f in found] == [
        ("EQP-02", "nonconformity", "5.1.1", "P3")
    ]
    assert found[0].evidence["default_allowed"] == [] and found[0].provisional  # the formula is provisional
    text = render("EQP-02", found[0].params, "zh")
    assert "含碳量" in text and "主要源流" in text


def test_an_allowed_default_draws_nothing() -> None:
    snap = coal_plant()  # P4, the oxidation rate, is a default the formula allows at every category
    assert need.check(establish(snap, CQ, snap.as_of)) == []


def test_eqp03_for_each_stream_without_formula_in_a_v11_snapshot() -> None:
    snap = coal_plant()
    snap = msgspec.structs.replace(
        snap,
        source_streams=(*snap.source_streams, stream("S2", 800.0), stream("S3", 900.0)),
        measuring_points=(*snap.measuring_points, point("Q1", "S2")),
    )
    found = need.check(establish(snap, CQ, snap.as_of))
    assert [(f.code, f.severity, f.subject) for f in found] == [
        ("EQP-03", "observation", "S2"),
        ("EQP-03", "observation", "S3"),
    ]
    assert found[0].evidence == {"planned_points": ["Q1"]}
