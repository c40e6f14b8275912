"""The template filters that name stored codes (``{% load labels %}``): each name comes from where the code
is defined, in the page's language, and an unknown value is shown as written (issue 9, item 3)."""

from __future__ import annotations

import pytest
from django.utils import translation

from carbonmeter.readings.model import quantities
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.registry.templatetags import labels


@pytest.mark.parametrize(
    ("unit", "shown"),
    [("m^3", "m³"), ("degC", "℃"), ("GJ/(10^4 Nm3)", "GJ/(10⁴ Nm³)"), ("t", "t"), ("m/s", "m/s"), ("", "")],
)
def test_units_are_printed_not_in_pint_spelling(unit: str, shown: str) -> None:
    assert labels.unit_label(unit) == shown


def test_every_canonical_unit_prints_without_pint_syntax() -> None:
    for q in quantities().values():
        printed = labels.unit_label(q.unit)
        assert "^" not in printed and "deg" not in printed and "**" not in printed, q.unit


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_purposes_packs_quantities_and_parameters_are_named_in_the_language(language: str) -> None:
    pack = load_pack("cq-part1")
    english = language == "en"
    with translation.override(language):
        req = pack.accuracy_requirements["weighing_dynamic"]
        assert labels.purpose_label("weighing_dynamic") == (req.title.en if english else req.title.zh)
        assert labels.pack_title("cq-part1") == (pack.title.en if english else pack.title.zh)
        q = quantities()["register_electricity"]
        assert labels.quantity_label("register_electricity") == (q.en if english else q.zh)
        assert labels.parameter_label("consumption") == ("Consumption" if english else "消耗量")
        assert labels.type_label("ultrasonic_flow_meter") == (
            "Ultrasonic flowmeter" if english else "超声波流量计"
        )


def test_unknown_values_are_the_users_own_words() -> None:
    for name in ("purpose_label", "pack_title", "quantity_label", "parameter_label", "type_label"):
        assert getattr(labels, name)("自定义") == "自定义"
