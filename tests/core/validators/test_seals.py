"""MGT-03 (6.3.8): the seal (铅封、封印) of an instrument in use is broken."""

from __future__ import annotations

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators import seals
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def check(seal_intact: bool | None, status: str = "in_use", pack: Pack = CQ) -> list[Finding]:
    snap = snapshot(
        (stream(),),
        (point(),),
        (
            instrument("I1", status=status, seal_intact=seal_intact, location="1#窑头"),
            instrument("I2", points=()),
        ),
        (passed("I1"), passed("I2")),
    )
    return seals.check(establish(snap, pack, snap.as_of))


class TestMGT03:
    @pytest.mark.parametrize("pack", [CQ, JJF], ids=["cq-part1", "jjf2309-2025"])
    def test_broken_seal_on_an_instrument_in_use_is_a_nonconformity(self, pack: Pack) -> None:
        [f] = check(False, pack=pack)
        assert (f.code, f.clause, f.severity, f.subject) == ("MGT-03", "6.3.8", "nonconformity", "I1")
        assert f.evidence == {"seal_intact": False, "location": "1#窑头"}

    @pytest.mark.parametrize("seal_intact", [True, None])
    def test_intact_or_unrecorded_seal_raises_nothing(self, seal_intact: bool | None) -> None:
        assert check(seal_intact) == []

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed", "scrapped"])
    def test_broken_seal_on_an_instrument_not_in_use_is_not_reported(self, status: str) -> None:
        assert check(False, status=status) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        [f] = check(False)
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "I1" in zh and "instrument I1" in zh
        assert "I1" in en and "instrument I1" in en
        assert "{" not in zh + en
