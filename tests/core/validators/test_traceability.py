"""TRC-01 (6.3.5–6.3.7): an instrument in use is not traceable at the assessment date.

Contract §5.4: traceable when a pass record has date ≤ as_of ≤ valid_until and no fail record is dated after
that pass and on or before as_of.  ``-A`` never verified, ``-B`` expired, ``-C`` a failed recalibration after
the last pass withdrew it.

TRC-02 (contract §6.4.5, 6.3.7): an instrument linked to a required point was not traceable on some days of
the reporting year (window [max(1 Jan, in service from), min(31 Dec, as_of)]).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Calibration
from carbonmeter.core.validators import traceability
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import AS_OF, failed, instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")


def check(
    *records: Calibration, status: str = "in_use", pack: Pack = CQ, family: str = "TRC-01", **inst: Any
) -> list[Finding]:
    """TRC findings of ``family`` for one instrument I1 (at point P1 of a major stream) with ``records``."""
    snap = snapshot((stream(),), (point(),), (instrument("I1", status=status, **inst),), records)
    return [f for f in traceability.check(establish(snap, pack, snap.as_of)) if f.code.startswith(family)]


def sole(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def rendered(f: Finding) -> tuple[str, str]:
    zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
    assert "{" not in zh + en
    return zh, en


class TestTRC01A:
    def test_instrument_in_use_without_any_record_is_a_nonconformity(self) -> None:
        f = sole(check())
        assert (f.code, f.clause, f.severity, f.subject) == ("TRC-01-A", "6.3.7", "nonconformity", "I1")
        assert f.evidence == {"record": None, "failure": None}
        assert f.params["as_of"] == "2026-01-15"

    def test_only_failed_records_never_make_it_traceable(self) -> None:
        assert sole(check(failed(on=date(2025, 6, 1)))).code == "TRC-01-A"

    def test_pass_dated_after_as_of_does_not_count(self) -> None:
        assert sole(check(passed(on=date(2026, 1, 16), until=date(2027, 1, 15)))).code == "TRC-01-A"

    def test_pass_dated_on_as_of_counts(self) -> None:
        assert check(passed(on=AS_OF, until=date(2027, 1, 14))) == []

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed", "scrapped"])
    def test_instrument_not_in_use_is_not_reported(self, status: str) -> None:
        assert check(status=status) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(sole(check()))
        assert "I1" in zh and "instrument I1" in zh
        assert "I1" in en


class TestTRC01B:
    def test_expired_verification_is_a_nonconformity(self) -> None:
        rec = passed(on=date(2025, 1, 10), until=date(2026, 1, 14), certificate_no="JD2025-003")
        f = sole(check(rec))
        assert (f.code, f.clause, f.severity, f.subject) == ("TRC-01-B", "6.3.7", "nonconformity", "I1")
        assert (f.params["valid_until"], f.params["certificate_no"]) == ("2026-01-14", "JD2025-003")
        assert f.evidence["record"]["certificate_no"] == "JD2025-003"
        assert f.evidence["failure"] is None

    def test_valid_until_on_as_of_is_still_traceable(self) -> None:
        assert check(passed(on=date(2025, 1, 16), until=AS_OF)) == []

    def test_expiry_names_the_newest_pass(self) -> None:
        old = passed(on=date(2023, 1, 1), until=date(2024, 1, 1), certificate_no="OLD")
        newer = passed(on=date(2024, 1, 2), until=date(2025, 12, 31), certificate_no="NEW")
        f = sole(check(newer, old))
        assert (f.code, f.params["certificate_no"], f.params["valid_until"]) == (
            "TRC-01-B",
            "NEW",
            "2025-12-31",
        )

    def test_newer_pass_that_has_expired_is_reported_as_expired_not_as_an_old_failure(self) -> None:
        # Pass (valid to 2026-02-28), failed recheck on 2025-06-01, repaired and passed on 2025-06-10 with a
        # certificate that ran out on 2025-12-31.  The last pass came after the failure, so "failed with no
        # pass since" (-C) is untrue: the instrument is untraceable because its newest certificate expired.
        records = (
            passed(on=date(2025, 3, 1), until=date(2026, 2, 28)),
            failed(on=date(2025, 6, 1)),
            passed(on=date(2025, 6, 10), until=date(2025, 12, 31), certificate_no="JD-REPAIRED"),
        )
        f = sole(check(*records))
        assert f.code == "TRC-01-B"
        assert (f.params["valid_until"], f.params["certificate_no"]) == ("2025-12-31", "JD-REPAIRED")

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(
            sole(check(passed(on=date(2025, 1, 10), until=date(2026, 1, 14), certificate_no="JD-3")))
        )
        assert "2026-01-14" in zh and "JD-3" in zh
        assert "2026-01-14" in en and "JD-3" in en


class TestTRC01C:
    def test_fail_after_pass_voids_traceability(self) -> None:
        f = sole(check(passed(on=date(2025, 3, 1)), failed(on=date(2025, 11, 20), certificate_no="JD-104")))
        assert (f.code, f.clause, f.severity, f.subject) == ("TRC-01-C", "6.3.7", "nonconformity", "I1")
        assert (f.params["fail_date"], f.params["certificate_no"]) == ("2025-11-20", "JD-104")
        assert f.evidence["failure"]["date"] == "2025-11-20"
        assert f.evidence["record"]["date"] == "2025-03-01"

    def test_fail_dated_the_same_day_as_the_pass_does_not_void_it(self) -> None:
        assert check(passed(on=date(2025, 3, 1)), failed(on=date(2025, 3, 1))) == []

    def test_fail_dated_after_as_of_does_not_void(self) -> None:
        assert check(passed(), failed(on=date(2026, 1, 16))) == []

    def test_fail_dated_on_as_of_voids(self) -> None:
        assert sole(check(passed(), failed(on=AS_OF))).code == "TRC-01-C"

    def test_pass_after_the_fail_restores_traceability(self) -> None:
        records = (
            passed(on=date(2025, 3, 1)),
            failed(on=date(2025, 6, 1)),
            passed(on=date(2025, 6, 10), until=date(2026, 6, 9)),
        )
        assert check(*records) == []

    def test_earliest_fail_after_the_pass_is_cited(self) -> None:
        f = sole(check(passed(), failed(on=date(2025, 12, 1)), failed(on=date(2025, 9, 1))))
        assert f.params["fail_date"] == "2025-09-01"

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(sole(check(passed(), failed(on=date(2025, 11, 20), certificate_no="JD-104"))))
        assert "2025-11-20" in zh and "JD-104" in zh
        assert "2025-11-20" in en and "JD-104" in en


class TestTRC02:
    def test_a_gap_in_the_year_is_a_nonconformity_even_if_traceable_today(self) -> None:
        # In service all 2025; pass 2024-06-01..2025-05-31, fail 2025-04-10, pass again 2025-04-20 for a
        # year: traceable at as_of 2026-01-15 (no TRC-01), untraceable 2025-04-10..2025-04-19 (10 days).
        records = (
            passed(on=date(2024, 6, 1), until=date(2025, 5, 31)),
            failed(on=date(2025, 4, 10)),
            passed(on=date(2025, 4, 20), until=date(2026, 4, 19)),
        )
        assert check(*records) == []
        f = sole(check(*records, family="TRC-02", in_service_from=date(2025, 1, 1)))
        assert (f.code, f.clause, f.severity, f.subject) == ("TRC-02", "6.3.7", "nonconformity", "I1")
        assert f.evidence["untraceable_periods"] == [{"from": "2025-04-10", "to": "2025-04-19"}]
        assert f.evidence["required_points"] == ["P1"]

    def test_verified_after_entering_service(self) -> None:
        # In service from 2025-02-01, first verified 2025-03-01: 2025-02-01..2025-02-28 untraceable.
        f = sole(check(passed(), family="TRC-02", in_service_from=date(2025, 2, 1)))
        assert f.evidence["untraceable_periods"] == [{"from": "2025-02-01", "to": "2025-02-28"}]

    def test_without_in_service_from_a_new_instrument_starts_at_its_first_pass(self) -> None:
        # No record before 2025 and no in_service_from: in service from its first pass (6.3.9): no gap.
        assert check(passed(), family="TRC-02") == []

    def test_covered_all_year_is_clean(self) -> None:
        records = (
            passed(on=date(2024, 12, 1), until=date(2025, 11, 30)),
            passed(on=date(2025, 11, 25), until=date(2026, 11, 24)),
        )
        assert check(*records, family="TRC-02") == []

    def test_expired_before_year_end_is_both_trc_01_and_trc_02(self) -> None:
        records = (passed(on=date(2024, 12, 1), until=date(2025, 11, 30)),)
        assert sole(check(*records)).code == "TRC-01-B"
        f = sole(check(*records, family="TRC-02"))
        assert f.evidence["untraceable_periods"] == [{"from": "2025-12-01", "to": "2025-12-31"}]

    def test_instrument_serving_no_required_point_is_not_a_finding(self) -> None:
        # P1 is taken from a default value: not required, so a gap is not a TRC-02 (the list is still in
        # the document: see tests/core/test_period_traceability.py).
        snap = snapshot(
            (stream(),),
            (point(determination="default"),),
            (instrument("I1", in_service_from=date(2025, 1, 1)),),
            (passed(),),
        )
        facts = establish(snap, CQ, snap.as_of)
        assert [f.code for f in traceability.check(facts)] == []
        assert facts.untraceable["I1"] != []

    def test_not_in_use_is_not_judged_on_periods(self) -> None:
        assert check(passed(), family="TRC-02", status="standby", in_service_from=date(2025, 1, 1)) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        records = (passed(on=date(2024, 12, 1), until=date(2025, 11, 30)), passed(on=date(2025, 12, 5)))
        f = sole(check(*records, family="TRC-02"))
        zh, en = rendered(f)
        assert "2025-12-01 至 2025-12-04" in zh and "P1" in zh
        assert "2025-12-01 to 2025-12-04" in en and "P1" in en
