"""ACC (5.2.2, Tables A.2/A.3): the accuracy of an instrument in use against its point's purpose.

Contract §5.7: classes compare by number, an S class beats the plain class of the same number, an MPE
compares by magnitude, a measuring system is judged by the root sum of squares of its components.  A
requirement that is not loaded, an unknown purpose or a missing purpose is an observation (ACC-02), never a
silent pass or fail; an accuracy that cannot be compared honestly is ACC-03.
"""

from __future__ import annotations

from typing import Any

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
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

    def test_measuring_system_is_judged_by_its_combined_components_not_its_stated_class(self) -> None:
        # Two 0.5 components combine to √(0.5² + 0.5²) ≈ ±0.71 %, worse than the 0.5 a belt scale needs.
        parts = (
            {"type": "load_cell", "accuracy_class": "0.5"},
            {"type": "integrator", "accuracy_class": "0.5"},
        )
        f = sole(judged("weighing_dynamic", accuracy_class="0.5", components=parts), "ACC-01")
        assert mpe_of(f.params["actual"]) == pytest.approx(0.7071, abs=1e-3)
        assert mpe_of(f.evidence["actual"]) == pytest.approx(0.7071, abs=1e-3)
        assert f.evidence["stated"] == "0.5"
        assert [c["type"] for c in f.evidence["components"]] == ["load_cell", "integrator"]

    def test_measuring_system_within_the_requirement_passes(self) -> None:
        # √(0.3² + 0.3²) ≈ ±0.42 % meets 0.5.
        parts = ({"type": "load_cell", "accuracy_class": "0.3"}, {"type": "integrator", "mpe_percent": 0.3})
        assert judged("weighing_dynamic", accuracy_class="0.5", components=parts) == []

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
        zh, en = rendered(judged("weighing_dynamic", accuracy_class="0.5", components=parts)[0])
        assert "I1" in zh and "P1" in zh and "0.707" in zh
        assert "I1" in en and "P1" in en and "0.707" in en


class TestACC02A:
    @pytest.mark.parametrize("purpose", NOT_LOADED)
    def test_requirement_not_loaded_is_an_observation_never_a_verdict(self, purpose: str) -> None:
        # Even a ±50 % instrument is neither passed nor failed against a requirement the pack lacks.
        f = sole(judged(purpose, mpe_percent=50.0), "ACC-02-A")
        assert (f.clause, f.severity, f.subject) == ("5.2.2", "observation", "P1")
        assert f.params["purpose"] == purpose
        assert f.evidence["purpose"] == purpose

    def test_not_loaded_purposes_include_the_calorimeter(self) -> None:
        assert "calorimeter" in NOT_LOADED

    def test_point_from_a_default_value_is_not_judged(self) -> None:
        snap = snapshot(
            (stream(),),
            (point("P1", role="emission_factor", determination="default", purpose="calorimeter"),),
        )
        assert accuracy.check(establish(snap, CQ, snap.as_of)) == []

    def test_reported_once_per_point_even_without_an_instrument(self) -> None:
        snap = snapshot((stream(),), (point("P1", role="emission_factor", purpose="calorimeter"),))
        assert codes(accuracy.check(establish(snap, CQ, snap.as_of))) == ["ACC-02-A"]

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(judged("calorimeter", mpe_percent=0.2)[0])
        assert "P1" in zh and "量热仪" in zh
        assert "P1" in en and "Calorimeter" in en


class TestACC02B:
    def test_purpose_unknown_to_the_pack_is_an_observation(self) -> None:
        f = sole(judged("magic_meter", accuracy_class="5.0"), "ACC-02-B")
        assert (f.clause, f.severity, f.subject) == ("5.2.2", "observation", "P1")
        assert f.params["purpose"] == "magic_meter"

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(judged("magic_meter", accuracy_class="0.5")[0])
        assert "P1" in zh and "magic_meter" in zh
        assert "P1" in en and "magic_meter" in en


class TestACC02C:
    @pytest.mark.parametrize("purpose", [None, ""])
    def test_point_naming_no_purpose_is_an_observation(self, purpose: str | None) -> None:
        f = sole(judged(purpose, accuracy_class="5.0"), "ACC-02-C")
        assert (f.clause, f.severity, f.subject) == ("5.2.2", "observation", "P1")

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(judged(None, accuracy_class="0.5")[0])
        assert "P1" in zh and "P1" in en


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
