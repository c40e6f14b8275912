"""ACC (5.2.2, Tables A.2/A.3): the accuracy of an instrument in use against its point's purpose.

Contract §5.7: classes compare by number, an S class beats the plain class of the same number, an MPE
compares by magnitude, a measuring system is judged by the root sum of squares of its components, but a
system that states its own accuracy is judged by it (§6.4.2).  A requirement that is not loaded, an unknown
purpose or a missing purpose is not judged (§6.4.3: ``not_judged`` with reason ACC-02-A/B/C, not a finding),
never a silent pass or fail; an accuracy that cannot be compared honestly is ACC-03.
"""

from __future__ import annotations

from typing import Any

import pytest

from carbonmeter.core.assess import assess
from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding, NotJudged
from carbonmeter.core.validators import accuracy
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import instrument, passed, point, snapshot, stream

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")
NOT_LOADED = sorted(k for k, r in CQ.accuracy_requirements.items() if r.tag == "missing")


def judged(
    purpose: str | None,
    *,
    method: str = "calculation",
    operating_value: float | None = None,
    status: str = "in_use",
    pack: Pack = CQ,
    **stated: Any,
) -> list[Finding]:
    """ACC findings for I1 at point P1 with ``purpose``; ``stated`` is I1's accuracy (none by default)."""
    role = "cems" if method == "measurement" else "activity_data"
    snap = snapshot(
        (stream("S1", 10_000.0, method=method),),
        (point("P1", role=role, purpose=purpose, operating_value=operating_value),),
        (instrument("I1", status=status, **({"accuracy_class": None} | stated)),),
        (passed("I1"),),
    )
    return accuracy.check(establish(snap, pack, snap.as_of))


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def sole(findings: list[Finding], code: str) -> Finding:
    assert codes(findings) == [code], findings
    return findings[0]


def rendered(f: Finding) -> tuple[str, str]:
    zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
    assert "{" not in zh + en and "label" not in zh + en
    return zh, en


def mpe_of(text: str) -> float:
    """The magnitude of an MPE written as ``±0.707%``."""
    return float(text.strip().lstrip("±").rstrip("%"))


class TestACC01:
    def test_class_worse_than_required_is_a_nonconformity(self) -> None:
        f = sole(judged("weighing_dynamic", accuracy_class="1.0"), "ACC-01")
        assert (f.clause, f.severity, f.subject) == ("5.2.2", "nonconformity", "I1")
        assert (f.params["point"], f.params["required"], f.params["actual"]) == ("P1", "0.5", "1.0")
        assert f.evidence["purpose"] == "weighing_dynamic"
        assert f.provisional  # the belt-scale class is a provisional value in cq-part1

    def test_class_equal_to_requirement_passes(self) -> None:
        assert judged("weighing_dynamic", accuracy_class="0.5") == []

    @pytest.mark.parametrize(
        ("actual", "purpose", "required", "passes"),
        [
            ("0.5S", "weighing_dynamic", "0.5", True),
            ("0.5", "electricity_class_II", "0.5S", False),
            ("0.2S", "electricity_class_II", "0.5S", True),
            ("0.5S", "electricity_class_II", "0.5S", True),
            ("0.2", "electricity_class_I", "0.2S", False),
            ("1.0", "electricity_class_II", "0.5S", False),
        ],
    )
    def test_s_class_beats_the_plain_class_of_the_same_number(
        self, actual: str, purpose: str, required: str, passes: bool
    ) -> None:
        assert CQ.accuracy_requirements[purpose].bands[0].accuracy_class == required
        findings = judged(purpose, accuracy_class=actual)
        assert codes(findings) == ([] if passes else ["ACC-01"])

    def test_mpe_percent_compares_by_magnitude_with_a_class(self) -> None:
        assert judged("weighing_dynamic", mpe_percent=0.5) == []
        assert codes(judged("weighing_dynamic", mpe_percent=0.6)) == ["ACC-01"]

    def test_measuring_system_stating_no_accuracy_is_judged_by_its_combined_components(self) -> None:
        # Two 0.5 components combine to √(0.5² + 0.5²) ≈ ±0.71 %, worse than the 0.5 a belt scale needs.
        parts = (
            {"type": "load_cell", "accuracy_class": "0.5"},
            {"type": "integrator", "accuracy_class": "0.5"},
        )
        f = sole(judged("weighing_dynamic", components=parts), "ACC-01")
        assert mpe_of(f.params["actual"]) == pytest.approx(0.7071, abs=1e-3)
        assert mpe_of(f.evidence["actual"]) == pytest.approx(0.7071, abs=1e-3)
        assert f.evidence["combined"] is None  # the combination *is* the actual accuracy here
        assert [c["type"] for c in f.evidence["components"]] == ["load_cell", "integrator"]

    def test_measuring_system_stating_its_own_class_is_judged_by_it(self) -> None:
        # Contract §6.4.2: verified as a system to 0.5, it meets the belt scale's 0.5, although its two 0.5
        # components would combine to ±0.71 %.
        parts = (
            {"type": "load_cell", "accuracy_class": "0.5"},
            {"type": "integrator", "accuracy_class": "0.5"},
        )
        assert judged("weighing_dynamic", accuracy_class="0.5", components=parts) == []

    def test_stated_system_class_wins_also_when_the_components_would_pass(self) -> None:
        # Components 0.3 and ±0.3 % combine to ±0.42 % (would meet 0.5), but the system is verified as 1.0:
        # judged by 1.0, it fails the 0.5 requirement; the combination is shown beside it.
        parts = ({"type": "load_cell", "accuracy_class": "0.3"}, {"type": "integrator", "mpe_percent": 0.3})
        f = sole(judged("weighing_dynamic", accuracy_class="1.0", components=parts), "ACC-01")
        assert f.params["actual"] == "1.0"
        assert mpe_of(f.evidence["combined"]) == pytest.approx(0.4243, abs=1e-3)

    def test_stated_system_mpe_is_judged_by_it(self) -> None:
        parts = (
            {"type": "load_cell", "accuracy_class": "0.2"},
            {"type": "integrator", "accuracy_class": "0.2"},
        )
        assert codes(judged("weighing_dynamic", mpe_percent=0.6, components=parts)) == ["ACC-01"]

    def test_measuring_system_within_the_requirement_passes(self) -> None:
        # √(0.3² + 0.3²) ≈ ±0.42 % meets 0.5.
        parts = ({"type": "load_cell", "accuracy_class": "0.3"}, {"type": "integrator", "mpe_percent": 0.3})
        assert judged("weighing_dynamic", components=parts) == []

    @pytest.mark.parametrize(
        ("operating_value", "instrument_mpe", "passes"),
        [
            (14.0, 11.0, False),  # above 10 m/s: ±10 % applies
            (14.0, 10.0, True),
            (8.0, 11.0, True),  # at or below 10 m/s: ±12 % applies
            (8.0, 12.5, False),
            (10.0, 12.0, True),  # exactly 10 m/s is in the lower band
            (None, 11.0, False),  # no operating value: every band must be met
            (None, 10.0, True),
        ],
    )
    def test_banded_flow_velocity_uses_the_band_of_the_operating_value(
        self, operating_value: float | None, instrument_mpe: float, passes: bool
    ) -> None:
        findings = judged(
            "cems_flow_velocity",
            method="measurement",
            operating_value=operating_value,
            mpe_percent=instrument_mpe,
        )
        assert codes(findings) == ([] if passes else ["ACC-01"])

    def test_requirement_shown_is_the_band_that_applies(self) -> None:
        above = sole(
            judged("cems_flow_velocity", method="measurement", operating_value=14.0, mpe_percent=11.0),
            "ACC-01",
        )
        assert "10" in above.params["required"] and "12" not in above.params["required"]
        both = sole(judged("cems_flow_velocity", method="measurement", mpe_percent=11.0), "ACC-01")
        assert "10" in both.params["required"] and "12" in both.params["required"]

    @pytest.mark.parametrize(
        ("mpe_abs", "unit", "passes"),
        [(4.0, "°C", False), (3.0, "°C", True), (3.0, "℃", True), (2.0, "°C", True)],
    )
    def test_absolute_mpe_in_celsius_against_cems_temperature(
        self, mpe_abs: float, unit: str, passes: bool
    ) -> None:
        findings = judged("cems_temperature", method="measurement", mpe_abs=mpe_abs, mpe_abs_unit=unit)
        assert codes(findings) == ([] if passes else ["ACC-01"])

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed", "scrapped"])
    def test_instrument_not_in_use_is_not_judged(self, status: str) -> None:
        assert judged("weighing_dynamic", status=status, accuracy_class="2.0") == []

    def test_verdict_on_a_seed_value_is_not_provisional(self) -> None:
        f = sole(judged("unorganized_monitoring", method="measurement", mpe_percent=15.0), "ACC-01")
        assert f.provisional is False

    def test_instrument_is_judged_at_each_of_its_points(self) -> None:
        snap = snapshot(
            (stream("S1", 10_000.0),),
            (point("P1", purpose="weighing_dynamic"), point("P2", purpose="heavy_oil")),
            (instrument("I1", points=("P1", "P2"), accuracy_class="1.0"),),
            (passed("I1"),),
        )
        f = sole(accuracy.check(establish(snap, CQ, snap.as_of)), "ACC-01")
        assert (f.subject, f.params["point"], f.params["required"]) == ("I1", "P1", "0.5")

    def test_same_severity_under_jjf(self) -> None:
        f = sole(judged("weighing_dynamic", pack=JJF, accuracy_class="1.0"), "ACC-01")
        assert (f.clause, f.severity) == ("5.2.2", "nonconformity")

    def test_message_renders_in_zh_and_en(self) -> None:
        parts = (
            {"type": "load_cell", "accuracy_class": "0.5"},
            {"type": "integrator", "accuracy_class": "0.5"},
        )
        zh, en = rendered(judged("weighing_dynamic", components=parts)[0])
        assert "I1" in zh and "P1" in zh and "0.707" in zh
        assert "I1" in en and "P1" in en and "0.707" in en


def unjudged(
    purpose: str | None, *, pack: Pack = CQ, determination: str = "measured", **stated: Any
) -> list[NotJudged]:
    """The not-judged items (contract §6.4.3) of point P1 with ``purpose``, measured by I1."""
    snap = snapshot(
        (stream("S1", 10_000.0),),
        (point("P1", purpose=purpose, determination=determination),),
        (instrument("I1", **({"accuracy_class": None} | stated)),),
        (passed("I1"),),
    )
    return accuracy.not_judged(establish(snap, pack, snap.as_of))


def sole_item(items: list[NotJudged], code: str) -> NotJudged:
    assert [n.code for n in items] == [code], items
    assert (items[0].subject, items[0].what) == ("P1", "accuracy")
    return items[0]


def reason(n: NotJudged) -> tuple[str, str]:
    zh, en = render(n.code, n.params, "zh"), render(n.code, n.params, "en")
    assert "{" not in zh + en and "label" not in zh + en
    return zh, en


class TestACC02A:
    @pytest.mark.parametrize("purpose", NOT_LOADED)
    def test_requirement_not_loaded_is_not_judged_never_a_verdict(self, purpose: str) -> None:
        # Even a ±50 % instrument is neither passed nor failed against a requirement the pack lacks, and the
        # gap is the pack's, not the plant's: no finding at all (ACC-02-A is retired as a finding).
        assert judged(purpose, mpe_percent=50.0) == []
        n = sole_item(unjudged(purpose, mpe_percent=50.0), "ACC-02-A")
        assert n.params["purpose"] == purpose

    def test_not_loaded_purposes_include_the_calorimeter(self) -> None:
        assert "calorimeter" in NOT_LOADED

    def test_point_from_a_default_value_is_not_listed(self) -> None:
        assert unjudged("calorimeter", determination="default") == []

    def test_listed_once_per_point_even_without_an_instrument(self) -> None:
        snap = snapshot((stream(),), (point("P1", role="emission_factor", purpose="calorimeter"),))
        facts = establish(snap, CQ, snap.as_of)
        assert [n.code for n in accuracy.not_judged(facts)] == ["ACC-02-A"]
        assert accuracy.check(facts) == []

    def test_reason_renders_in_zh_and_en(self) -> None:
        zh, en = reason(unjudged("calorimeter", mpe_percent=0.2)[0])
        assert "P1" in zh and "量热仪" in zh
        assert "P1" in en and "Calorimeter" in en

    def test_assessment_lists_it_under_not_judged_and_conforms_on_it(self) -> None:
        snap = snapshot(
            (stream(),),
            (point("P1", role="emission_factor", purpose="calorimeter"),),
            (instrument("I1"),),
            (passed("I1"),),
        )
        a = assess(snap, CQ)
        assert [(n.subject, n.what, n.code) for n in a.not_judged] == [("P1", "accuracy", "ACC-02-A")]
        assert not [f for f in a.findings if f.code.startswith("ACC-02")]


class TestACC02B:
    def test_purpose_unknown_to_the_pack_is_not_judged(self) -> None:
        assert judged("magic_meter", accuracy_class="5.0") == []
        n = sole_item(unjudged("magic_meter", accuracy_class="5.0"), "ACC-02-B")
        assert n.params["purpose"] == "magic_meter"

    def test_reason_renders_in_zh_and_en(self) -> None:
        zh, en = reason(unjudged("magic_meter", accuracy_class="0.5")[0])
        assert "P1" in zh and "magic_meter" in zh
        assert "P1" in en and "magic_meter" in en


class TestACC02C:
    @pytest.mark.parametrize("purpose", [None, ""])
    def test_point_naming_no_purpose_is_not_judged(self, purpose: str | None) -> None:
        assert judged(purpose, accuracy_class="5.0") == []
        sole_item(unjudged(purpose, accuracy_class="5.0"), "ACC-02-C")

    def test_reason_renders_in_zh_and_en(self) -> None:
        zh, en = reason(unjudged(None, accuracy_class="0.5")[0])
        assert "P1" in zh and "P1" in en

    def test_a_point_with_a_loaded_requirement_is_judged(self) -> None:
        assert unjudged("weighing_dynamic", accuracy_class="0.5") == []


class TestACC03:
    def test_roman_class_against_a_percentage_requirement_cannot_be_judged(self) -> None:
        f = sole(judged("weighing_dynamic", accuracy_class="III"), "ACC-03")
        assert (f.clause, f.severity, f.subject) == ("5.2.2", "observation", "I1")
        assert f.params["why"] == {"label": "unjudged.incomparable"}
        assert f.params["required"] == "0.5"

    def test_percentage_class_against_a_roman_requirement_cannot_be_judged(self) -> None:
        f = sole(judged("weighing_static", accuracy_class="0.1"), "ACC-03")
        assert f.params["why"] == {"label": "unjudged.incomparable"}

    @pytest.mark.parametrize(
        ("actual", "passes"), [("II", True), ("III", True), ("Ⅲ", True), ("IIII", False)]
    )
    def test_roman_class_is_judged_against_a_roman_requirement(self, actual: str, passes: bool) -> None:
        assert codes(judged("weighing_static", accuracy_class=actual)) == ([] if passes else ["ACC-01"])

    def test_instrument_stating_no_accuracy_cannot_be_judged(self) -> None:
        f = sole(judged("weighing_dynamic"), "ACC-03")
        assert f.params["why"] == {"label": "unjudged.no_accuracy"}

    def test_system_with_a_roman_component_is_incomparable_not_unstated(self) -> None:
        # Every component states its accuracy, but a weighing class III cannot enter a root sum of squares of
        # percentages: the system's accuracy cannot be judged, yet it is not "no accuracy stated".
        parts = (
            {"type": "load_cell", "accuracy_class": "III"},
            {"type": "integrator", "accuracy_class": "0.2"},
        )
        f = sole(judged("weighing_dynamic", components=parts), "ACC-03")
        assert f.params["why"] == {"label": "unjudged.incomparable"}

    def test_relative_class_against_an_absolute_requirement_without_operating_value(self) -> None:
        f = sole(judged("cems_temperature", method="measurement", accuracy_class="0.5"), "ACC-03")
        assert f.params["why"] == {"label": "unjudged.incomparable"}

    def test_message_renders_in_zh_and_en(self) -> None:
        for f in (judged("weighing_dynamic", accuracy_class="III")[0], judged("weighing_dynamic")[0]):
            zh, en = rendered(f)
            assert "I1" in zh and "P1" in zh and "0.5" in zh
            assert "I1" in en and "P1" in en and "0.5" in en
