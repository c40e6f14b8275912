"""Template filters that turn stored codes into the names a reader reads, in the page's language.

``{% load labels %}`` then ``{{ point.parameter|parameter_label }}``, ``{{ point.purpose|purpose_label }}``,
``{{ instrument.type|type_label }}``, ``{{ quantity|quantity_label }}``, ``{{ unit|unit_label }}``,
``{{ pack_id|pack_title }}``.  Every name comes from where the code is defined (the web's terms, the rule
packs' titles, the quantity table), so nothing here restates a table; an unknown value is shown as
written, because then it is the user's own word.
"""

from __future__ import annotations

import re

from django import template
from django.utils.translation import get_language

from carbonmeter.io.terms import term_name
from carbonmeter.readings.model import quantities
from carbonmeter.rules.loader import builtin_names
from carbonmeter.web.registry.forms import type_label as _type_label
from carbonmeter.web.terms import parameter_label as _parameter_label

register = template.Library()


def _english() -> bool:
    return (get_language() or "").startswith("en")


@register.filter
def type_label(value: str) -> str:
    return _type_label(value) if value else ""


@register.filter
def parameter_label(value: str) -> str:
    return _parameter_label(value) if value else ""


@register.filter
def purpose_label(value: str) -> str:
    """The title of the Table A.2/A.3 row a point's ``purpose`` names."""
    names = builtin_names()[0].get(value) if value else None
    return (names[1] if _english() else names[0]) if names else (value or "")


@register.filter
def document_kind_label(value: str) -> str:
    """A management document's kind: the name its pack gives it, or the product's own name for it."""
    names = builtin_names()[2].get(value) if value else None
    if names:
        return names[1] if _english() else names[0]
    return term_name("document_kind", value) if value else ""


@register.filter
def pack_title(value: str) -> str:
    names = builtin_names()[1].get(value) if value else None
    return (names[1] if _english() else names[0]) if names else (value or "")


@register.filter
def quantity_label(value: str) -> str:
    q = quantities().get(value) if value else None
    return q.name("en" if _english() else "zh") if q else (value or "")


@register.filter
def unit_label(value: str) -> str:
    """A unit as printed (m³, ℃, 10⁴ Nm³), not in the spelling pint parses (m^3, degC)."""
    text = value or ""
    text = text.replace("10^4", "10⁴").replace("degC", "℃")
    text = re.sub(r"\^2\b", "²", text)
    text = re.sub(r"\^3\b", "³", text)
    return re.sub(r"(?<=m)3\b", "³", text) if "Nm3" in text else text
