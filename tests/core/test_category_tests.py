"""The two category tests (3.9–3.11): tonnes and share; where they disagree the higher category applies.

Contract §5.1: major if E ≥ 5000 t or share ≥ 10 %, else minor if E ≥ 1000 t or share ≥ minor share
(cq-part1 1 %, jjf2309-2025 2 %), else de minimis; bounds inclusive.  Contract §6.4.3: the disagreement is
not a finding (CAT-01 is retired); ``streams[]`` of the assessment carries both tests.
"""

from __future__ import annotations

import pytest

from carbonmeter.core.assess import assess
from carbonmeter.core.classify import StreamClass
from carbonmeter.core.facts import establish
from carbonmeter.core.snapshot import SourceStream
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import Pack
from tests.builders import snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def classes(*streams: SourceStream, pack: Pack = CQ) -> dict[str, StreamClass]:
    snap = snapshot(streams)
    return establish(snap, pack, snap.as_of).classes


def verdicts(cls: StreamClass) -> tuple[str, str, str]:
    """(by emissions, by share, resulting category)."""
    return cls.by_emissions, cls.by_share, cls.category


class TestCategoryTests:
    def test_large_absolute_small_share_takes_the_higher_category(self) -> None:
        # 6000 t is major by emissions but only 0.5 % of a 1.2 Mt plant.
        c = classes(stream("S1", 6000.0), stream("S2", 1_194_000.0))
        assert verdicts(c["S1"]) == ("major", "de_minimis", "major")
        assert c["S1"].share == pytest.approx(0.005)
        assert verdicts(c["S2"]) == ("major", "major", "major")

    def test_exactly_5000_t_is_major_by_emissions(self) -> None:
        c = classes(stream("S1", 5000.0), stream("S2", 995_000.0))
        assert verdicts(c["S1"]) == ("major", "de_minimis", "major")

    def test_just_under_5000_t_is_minor_by_emissions(self) -> None:
        c = classes(stream("S1", 4999.9), stream("S2", 995_000.1))
        assert verdicts(c["S1"]) == ("minor", "de_minimis", "minor")

    def test_exactly_10_percent_share_is_major_by_share(self) -> None:
        c = classes(stream("S1", 900.0), stream("S2", 8100.0))
        assert verdicts(c["S1"]) == ("de_minimis", "major", "major")

    def test_exactly_1000_t_is_minor_by_emissions(self) -> None:
        c = classes(stream("S1", 1000.0), stream("S2", 199_000.0))
        assert verdicts(c["S1"]) == ("minor", "de_minimis", "minor")

    def test_exactly_1_percent_share_is_minor_in_cq(self) -> None:
        c = classes(stream("S1", 100.0), stream("S2", 9900.0))
        assert verdicts(c["S1"]) == ("de_minimis", "minor", "minor")

    def test_jjf_minor_share_is_2_percent(self) -> None:
        # 600 t at 1.5 %: minor by share in cq-part1 (≥ 1 %), de minimis by both tests in JJF 2309 (< 2 %).
        streams = (stream("S1", 600.0), stream("S2", 39_400.0))
        assert verdicts(classes(*streams)["S1"]) == ("de_minimis", "minor", "minor")
        assert verdicts(classes(*streams, pack=JJF)["S1"]) == ("de_minimis", "de_minimis", "de_minimis")

    def test_exactly_2_percent_share_is_minor_in_jjf(self) -> None:
        c = classes(stream("S1", 800.0), stream("S2", 39_200.0), pack=JJF)
        assert verdicts(c["S1"]) == ("de_minimis", "minor", "minor")


class TestDisagreementIsNotAFinding:
    def test_no_cat_01_and_the_document_carries_both_tests(self) -> None:
        snap = snapshot((stream("S1", 6000.0), stream("S2", 1_194_000.0)))
        a = assess(snap, CQ)
        assert not [f for f in a.findings if f.code.startswith("CAT")]
        s1 = to_document(a)["streams"][0]
        assert (s1["id"], s1["by_emissions"], s1["by_share"], s1["category"]) == (
            "S1",
            "major",
            "de_minimis",
            "major",
        )
