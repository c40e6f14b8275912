"""Numbers of the emissions pages as a reader wants them: tonnes grouped by thousands in both languages
(the zh-hans locale of Django groups nothing, and 1834342 is hard to read), inputs to four significant
digits when small (a mass fraction 0.0080) and grouped when large."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def tonnes(value: float | None) -> str:
    """Whole tonnes, grouped: 532688.75 → 532,689; None → —."""
    return "—" if value is None else f"{round(value):,}"


@register.filter
def significant(value: float | None) -> str:
    """Four significant digits below 100 (0.02618 → 0.02618, 0.0080 → 0.008), else grouped to one decimal
    at most (1019500 → 1,019,500; 25.5 stays 25.5)."""
    if value is None:
        return "—"
    if abs(value) < 100:
        return f"{value:.4g}"
    text = f"{round(value, 1):,.1f}"
    return text[:-2] if text.endswith(".0") else text
