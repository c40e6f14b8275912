"""TRC-03 (6.3.5): an instrument in use falls due for verification/calibration within the pack's horizon."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Calibration
from carbonmeter.core.validators import traceability, verification_due
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack, Tagged
from tests.builders import AS_OF, failed, instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
HORIZON = CQ.settings.verification_due_soon_days.value


def with_horizon(days: int | None) -> Pack:
    """cq-part1 with another warning horizon (``None``: not loaded)."""
    horizon = Tagged[int](value=days, tag="seed") if days is not None else Tagged[int](tag="missing")
    settings = msgspec.structs.replace(CQ.settings, **{"verification_due_soon_days": horizon})
    return msgspec.structs.replace(CQ, **{"settings": settings})


def check(*records: Calibration, status: str = "in_use", pack: Pack = CQ) -> list[Finding]:
    snap = snapshot((stream(),), (point(),), (instrument("I1", status=status),), records)
    return verification_due.check(establish(snap, pack, snap.as_of))


def valid_until(days_after_as_of: int) -> Calibration:
    return passed(on=date(2025, 3, 1), until=AS_OF + timedelta(days=days_after_as_of))


class TestTRC02:
    def test_pack_horizon_is_30_days(self) -> None:
        assert HORIZON == 30

    def test_due_at_the_end_of_the_horizon_is_an_observation(self) -> None:
        [f] = check(valid_until(30))
        assert (f.code, f.clause, f.severity, f.subject) == ("TRC-03", "6.3.5", "observation", "I1")
        assert (f.params["days"], f.params["valid_until"]) == (30, "2026-02-14")
        assert f.evidence["horizon_days"] == 30
        assert f.provisional  # the 30 days are a design choice tagged provisional in the pack

    def test_due_one_day_beyond_the_horizon_raises_nothing(self) -> None:
        assert check(valid_until(31)) == []

    def test_valid_until_on_as_of_is_due_today_and_still_traceable(self) -> None:
        records = (valid_until(0),)
        [f] = check(*records)
        assert f.params["days"] == 0
        snap = snapshot((stream(),), (point(),), (instrument("I1"),), records)
        assert traceability.check(establish(snap, CQ, snap.as_of)) == []

    def test_expired_instrument_is_untraceable_not_due(self) -> None:
        assert check(valid_until(-1)) == []

    def test_voided_instrument_is_untraceable_not_due(self) -> None:
        assert check(valid_until(10), failed(on=date(2025, 12, 1))) == []

    def test_the_covering_pass_decides_not_an_older_one(self) -> None:
        # An old certificate that ran out yesterday does not make a freshly renewed instrument due.
        old = passed(on=date(2025, 1, 14), until=AS_OF - timedelta(days=1))
        renewed = passed(on=date(2026, 1, 10), until=date(2027, 1, 9))
        assert check(old, renewed) == []

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed", "scrapped"])
    def test_instrument_not_in_use_is_not_reported(self, status: str) -> None:
        assert check(valid_until(5), status=status) == []

    def test_horizon_comes_from_the_pack(self) -> None:
        [f] = check(valid_until(44), pack=with_horizon(60))
        assert (f.params["days"], f.evidence["horizon_days"], f.provisional) == (44, 60, False)
        assert check(valid_until(44)) == []

    def test_horizon_not_loaded_disables_the_warning(self) -> None:
        assert check(valid_until(0), pack=with_horizon(None)) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        [f] = check(valid_until(30))
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "I1" in zh and "2026-02-14" in zh and "30" in zh
        assert "I1" in en and "2026-02-14" in en and "30" in en
        assert "{" not in zh + en
