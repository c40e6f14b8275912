"""MGT-04 (5.1.4): portable instruments for self-checks are equipped.

The Chongqing draft says 应 (shall: a nonconformity); JJF 2309 says 宜 (should: the pack makes it an
observation).  A portable instrument counts when it is in use or on standby and itself traceable.
"""

from __future__ import annotations

from datetime import date

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Calibration, Instrument
from carbonmeter.core.validators import portable
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import instrument, passed, portable_kit, snapshot

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")
PACKS = pytest.mark.parametrize("pack", [CQ, JJF], ids=["cq-part1", "jjf2309-2025"])


def check(
    instruments: tuple[Instrument, ...] = (), calibrations: tuple[Calibration, ...] = (), pack: Pack = CQ
) -> list[Finding]:
    snap = snapshot((), (), instruments, calibrations)
    return portable.check(establish(snap, pack, snap.as_of))


def portable_one(status: str = "in_use") -> Instrument:
    return instrument("PORT", points=(), portable=True, status=status)


class TestMGT04:
    def test_no_portable_instrument_is_a_nonconformity_under_cq(self) -> None:
        [f] = check()
        assert (f.code, f.clause, f.severity, f.subject) == (
            "MGT-04",
            "5.1.4",
            "nonconformity",
            "organization",
        )
        assert (f.params["count"], f.params["minimum"]) == (0, 1)
        assert f.provisional  # the minimum of one is assumed (provisional) in the pack

    def test_no_portable_instrument_is_an_observation_under_jjf(self) -> None:
        [f] = check(pack=JJF)
        assert (f.code, f.clause, f.severity, f.subject) == ("MGT-04", "5.1.4", "observation", "organization")
        assert f.provisional

    @PACKS
    def test_traceable_portable_kit_satisfies_it(self, pack: Pack) -> None:
        assert check(*portable_kit(), pack=pack) == []

    def test_traceable_portable_on_standby_counts(self) -> None:
        assert check((portable_one("standby"),), (passed("PORT"),)) == []

    @pytest.mark.parametrize(
        ("status", "records"),
        [
            ("in_use", ()),
            ("in_use", (passed("PORT", on=date(2024, 1, 1), until=date(2025, 1, 1)),)),
            ("stopped", (passed("PORT"),)),
            ("sealed", (passed("PORT"),)),
            ("scrapped", (passed("PORT"),)),
        ],
        ids=["never-verified", "expired", "stopped", "sealed", "scrapped"],
    )
    def test_portable_that_is_unusable_or_untraceable_does_not_count(
        self, status: str, records: tuple[Calibration, ...]
    ) -> None:
        [f] = check((portable_one(status),), records)
        assert f.params["count"] == 0
        assert f.evidence == {"portable_instruments": ["PORT"], "usable": []}

    def test_fixed_instrument_does_not_count_as_portable(self) -> None:
        [f] = check((instrument("I1", points=()),), (passed("I1"),))
        assert f.evidence["portable_instruments"] == []

    @PACKS
    def test_message_renders_in_zh_and_en(self, pack: Pack) -> None:
        [f] = check(pack=pack)
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "0" in zh and "1" in zh and "0" in en and "1" in en
        assert "{" not in zh + en
