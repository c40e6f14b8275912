"""Template filters that show an instrument's verification state in the catalogue's words."""

from __future__ import annotations

from django import template

from carbonmeter.web.registry.validity import LabelState, active_lang, label_text_of, state_label

register = template.Library()


@register.filter(name="state_label")
def state_label_filter(value: str) -> str:
    """``{{ i.state|state_label }}`` → 有效 / valid … in the request's language."""
    return state_label(value) if value else ""


@register.filter(name="label_state_text")
def label_state_text(value: LabelState) -> str:
    """``{{ label.state|label_state_text }}`` → 合格 / 准用 / 停用 in the request's language."""
    return label_text_of(value, active_lang())
