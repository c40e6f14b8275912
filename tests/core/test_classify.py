from __future__ import annotations

import pytest

from carbonmeter.core.classify import StreamClass, classify, declared, share_of, unorganized_needs_metering
from carbonmeter.core.snapshot import SourceStream
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import Pack
from tests.builders import stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def _classify(streams: list[SourceStream], pack: Pack) -> dict[str, StreamClass]:
    return classify(streams, pack.category_thresholds, declared(streams))


def categories(*tonnes: float, pack=CQ) -> list[str]:  # type: ignore[no-untyped-def]
    streams = [stream(f"S{i}", t) for i, t in enumerate(tonnes)]
    result = classify(streams, pack.category_thresholds, declared(streams))
    return [result[s.id].category for s in streams]


def test_absolute_bounds_are_inclusive() -> None:
    # A huge third stream keeps every share below 1 %, so only the absolute test speaks.
    assert categories(5000, 4999.99, 1000, 999.99, 2_000_000) == [
        "major",
        "minor",
        "minor",
        "de_minimis",
        "major",
    ]


def test_share_bounds_are_inclusive() -> None:
    # 10 % and 1 % exactly of a 100,000 t total, all below the absolute thresholds… except the big one.
    result = categories(100, 900, 98_000, 1000)
    assert result[0] == "de_minimis"  # 0.1 %
    assert result[1] == "de_minimis"  # 0.9 %, 900 t
    assert result[3] == "minor"  # 1 % and 1000 t


def test_highest_category_either_test_reaches() -> None:
    # 6000 t that is 0.5 % of a 1.2 Mt unit: major by tonnes, de minimis by share → major.
    streams = [stream("A", 6000), stream("B", 1_194_000)]
    cls = classify(streams, CQ.category_thresholds, declared(streams))["A"]
    assert (cls.by_emissions, cls.by_share, cls.category) == ("major", "de_minimis", "major")
    # 800 t that is 80 % of a tiny unit: de minimis by tonnes, major by share → major.
    small = classify(
        [stream("A", 800), stream("B", 200)],
        CQ.category_thresholds,
        declared([stream("A", 800), stream("B", 200)]),
    )["A"]
    assert small.category == "major"


def test_jjf_minor_share_is_two_percent() -> None:
    streams = [stream("A", 150), stream("B", 9850)]  # 1.5 % of 10,000 t
    assert classify(streams, CQ.category_thresholds, declared(streams))["A"].category == "minor"
    assert classify(streams, JJF.category_thresholds, declared(streams))["A"].category == "de_minimis"


def test_zero_total_gives_zero_shares() -> None:
    result = classify(
        [stream("A", 0), stream("B", 0)], CQ.category_thresholds, declared([stream("A", 0), stream("B", 0)])
    )
    assert result["A"].share == 0.0 and result["A"].category == "de_minimis"
    assert share_of(0, 0) == 0.0


@pytest.mark.parametrize(
    ("tonnes", "others", "needs"),
    [
        (1000, 1_000_000, True),  # exactly 1000 t, 0.1 %
        (999, 1_000_000, False),  # below both
        (999, 50_000, True),  # 1.96 % share
    ],
)
def test_unorganized_threshold(tonnes: float, others: float, needs: bool) -> None:
    cls = classify(
        [stream("U", tonnes), stream("X", others)],
        CQ.category_thresholds,
        declared([stream("U", tonnes), stream("X", others)]),
    )["U"]
    assert unorganized_needs_metering(cls, CQ.unorganized_threshold) is needs
