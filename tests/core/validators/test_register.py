"""MGT-05 (6.3.2): the instrument register (Table B.1) names every field the pack requires.

Scrapped instruments are left alone; ``accuracy`` is satisfied by a class, an MPE or a system's components.
"""

from __future__ import annotations

from typing import Any

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators import register
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import instrument, passed, snapshot

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")


def check(pack: Pack = CQ, **fields: Any) -> list[Finding]:
    """MGT-05 findings for one instrument I1 built with ``fields`` overriding a complete register entry."""
    snap = snapshot((), (), (instrument("I1", points=(), **fields),), (passed("I1"),))
    return register.check(establish(snap, pack, snap.as_of))


class TestMGT05:
    @pytest.mark.parametrize("pack", [CQ, JJF], ids=["cq-part1", "jjf2309-2025"])
    def test_missing_fields_are_a_nonconformity_listing_each_field(self, pack: Pack) -> None:
        [f] = check(pack, model="", location="")
        assert (f.code, f.clause, f.severity, f.subject) == ("MGT-05", "6.3.2", "nonconformity", "I1")
        assert f.evidence["missing"] == ["model", "location"]
        assert f.params["fields"] == [{"label": "field.model"}, {"label": "field.location"}]
        assert f.provisional  # the B.1 columns are borrowed from JJF 1356 (provisional)

    def test_complete_entry_raises_nothing(self) -> None:
        assert check() == []

    @pytest.mark.parametrize(
        "accuracy",
        [
            {"mpe_percent": 1.0},
            {"mpe_abs": 3.0, "mpe_abs_unit": "°C"},
            {"components": ({"type": "sensor", "accuracy_class": "0.5"},)},
        ],
        ids=["mpe-percent", "mpe-absolute", "components"],
    )
    def test_accuracy_may_be_an_mpe_or_a_systems_components(self, accuracy: dict[str, Any]) -> None:
        assert check(accuracy_class=None, **accuracy) == []

    def test_entry_without_any_accuracy_lacks_the_accuracy_field(self) -> None:
        [f] = check(accuracy_class=None)
        assert f.evidence["missing"] == ["accuracy"]

    def test_scrapped_instrument_is_left_alone(self) -> None:
        assert check(status="scrapped", model="", serial_no="") == []

    @pytest.mark.parametrize("status", ["standby", "stopped", "sealed"])
    def test_instrument_not_in_use_but_not_scrapped_is_still_checked(self, status: str) -> None:
        [f] = check(status=status, serial_no="")
        assert f.evidence["missing"] == ["serial_no"]

    def test_message_renders_in_zh_and_en(self) -> None:
        [f] = check(model="", accuracy_class=None)
        zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
        assert "I1" in zh and "型号规格" in zh and "准确度等级" in zh
        assert "I1" in en and "model" in en and "accuracy class" in en
        assert "{" not in zh + en and "label" not in zh + en
