"""MTH-01 (4.2): a purchased/exported electricity or heat stream, or a carbon product, determined by
measurement (contract §6.4.7)."""

from __future__ import annotations

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import SourceStream
from carbonmeter.core.validators import method
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from tests.builders import snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def check(*streams: SourceStream) -> list[Finding]:
    snap = snapshot(streams)
    return method.check(establish(snap, CQ, snap.as_of))


@pytest.mark.parametrize(
    "kind",
    ["purchased_electricity", "purchased_heat", "exported_electricity", "exported_heat", "carbon_product"],
)
def test_measurement_of_a_calculation_only_kind_is_a_nonconformity(kind: str) -> None:
    findings = check(stream("S1", 100_000.0), stream("S2", 5000.0, kind=kind, method="measurement"))
    assert len(findings) == 1
    f = findings[0]
    assert (f.code, f.clause, f.severity, f.subject) == ("MTH-01", "4.2", "nonconformity", "S2")
    assert f.evidence == {"stream_kind": kind, "method": "measurement"}
    assert f.provisional is False


@pytest.mark.parametrize("kind", ["fuel_combustion", "process", "other"])
def test_measurement_of_a_direct_emission_is_allowed(kind: str) -> None:
    assert check(stream("S1", 5000.0, kind=kind, method="measurement")) == []


def test_calculation_of_purchased_electricity_is_allowed() -> None:
    assert check(stream("S1", 5000.0, kind="purchased_electricity", method="calculation")) == []


def test_clause_4_2_is_cited_by_both_packs() -> None:
    assert "4.2" in CQ.clauses and "4.2" in JJF.clauses


def test_message_renders_in_zh_and_en() -> None:
    f = check(stream("S9", 5000.0, kind="carbon_product", method="measurement", name="熟料外售"))[0]
    zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
    assert "S9" in zh and "熟料外售" in zh and "含碳产品" in zh and "实测法" in zh
    assert "S9" in en and "carbon product" in en and "measurement" in en
    assert "{" not in zh + en and "label" not in zh + en
