"""CAT-01 (3.9–3.11): the absolute and the relative category tests disagree; the higher category applies.

Contract §5.1: major if E ≥ 5000 t or share ≥ 10 %, else minor if E ≥ 1000 t or share ≥ minor share
(cq-part1 1 %, jjf2309-2025 2 %), else de minimis; bounds inclusive.
"""

from __future__ import annotations

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import SourceStream
from carbonmeter.core.validators import classification
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def check(*streams: SourceStream, pack: Pack = CQ) -> list[Finding]:
    snap = snapshot(streams)
    return classification.check(establish(snap, pack, snap.as_of))


def finding_for(findings: list[Finding], stream_id: str) -> Finding:
    mine = [f for f in findings if f.subject == stream_id]
    assert len(mine) == 1, findings
    return mine[0]


def verdicts(f: Finding) -> tuple[str, str, str]:
    """(by emissions, by share, resulting category) as the finding's evidence states them."""
    return f.evidence["by_emissions"], f.evidence["by_share"], f.evidence["category"]


class TestCAT01:
    def test_large_absolute_small_share_takes_the_higher_category(self) -> None:
        # 6000 t is major by emissions but only 0.5 % of a 1.2 Mt plant.
        findings = check(stream("S1", 6000.0), stream("S2", 1_194_000.0))
        f = finding_for(findings, "S1")
        assert (f.code, f.clause, f.severity) == ("CAT-01", "3.9", "observation")
        assert verdicts(f) == ("major", "de_minimis", "major")
        assert f.evidence["share"] == pytest.approx(0.005)
        assert f.params["category"] == {"label": "category.major"}
        assert len(findings) == 1  # S2 is major by both tests

    def test_exactly_5000_t_is_major_by_emissions(self) -> None:
        f = finding_for(check(stream("S1", 5000.0), stream("S2", 995_000.0)), "S1")
        assert verdicts(f) == ("major", "de_minimis", "major")

    def test_just_under_5000_t_is_minor_by_emissions(self) -> None:
        f = finding_for(check(stream("S1", 4999.9), stream("S2", 995_000.1)), "S1")
        assert verdicts(f) == ("minor", "de_minimis", "minor")

    def test_exactly_10_percent_share_is_major_by_share(self) -> None:
        f = finding_for(check(stream("S1", 900.0), stream("S2", 8100.0)), "S1")
        assert verdicts(f) == ("de_minimis", "major", "major")

    def test_exactly_1000_t_is_minor_by_emissions(self) -> None:
        f = finding_for(check(stream("S1", 1000.0), stream("S2", 199_000.0)), "S1")
        assert verdicts(f) == ("minor", "de_minimis", "minor")

    def test_exactly_1_percent_share_is_minor_in_cq(self) -> None:
        f = finding_for(check(stream("S1", 100.0), stream("S2", 9900.0)), "S1")
        assert verdicts(f) == ("de_minimis", "minor", "minor")

    def test_streams_whose_tests_agree_raise_nothing(self) -> None:
        # S1: 6000 t and 30 % (major/major); S2: 14000 t and 70 %; S3: 100 t and 0.5 % (de minimis twice).
        assert check(stream("S1", 6000.0), stream("S2", 14_000.0)) == []
        assert check(stream("S1", 19_900.0), stream("S3", 100.0)) == []

    def test_jjf_minor_share_is_2_percent(self) -> None:
        # 600 t at 1.5 %: minor by share in cq-part1 (≥ 1 %), de minimis by both tests in JJF 2309 (< 2 %).
        streams = (stream("S1", 600.0), stream("S2", 39_400.0))
        assert verdicts(finding_for(check(*streams), "S1")) == ("de_minimis", "minor", "minor")
        assert check(*streams, pack=JJF) == []

    def test_exactly_2_percent_share_is_minor_in_jjf(self) -> None:
        f = finding_for(check(stream("S1", 800.0), stream("S2", 39_200.0), pack=JJF), "S1")
        assert verdicts(f) == ("de_minimis", "minor", "minor")
        assert (f.code, f.clause, f.severity) == ("CAT-01", "3.9", "observation")

    def test_message_renders_in_zh_and_en(self) -> None:
        f = finding_for(check(stream("S1", 5000.0, name="柴油"), stream("S2", 995_000.0)), "S1")
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "S1" in zh and "柴油" in zh and "5,000" in zh and "0.5%" in zh
        assert "主要源流" in zh and "微量源流" in zh
        assert "major" in en and "de minimis" in en and "5,000" in en
        assert "{" not in zh + en and "label" not in zh + en
