"""Names, not stored codes, in the admin's lists: a column and a filter for a free-text field whose values
have names (an instrument's type, a point's parameter, a profile's quantity).  Choice fields need nothing:
Django shows their labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise


class _LabelledFilter(admin.SimpleListFilter):
    """The field's distinct values in the admin's rows, each by its name (sorted by name)."""

    field: str
    name_of: Callable[[str], str]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = model_admin.get_queryset(request).order_by().values_list(self.field, flat=True).distinct()
        return sorted(((v, type(self).name_of(v)) for v in rows if v), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


def labelled_filter(
    field: str, title: Promise, name_of: Callable[[str], str]
) -> type[admin.SimpleListFilter]:
    """A list filter on ``field`` that shows ``name_of(value)`` for each value."""
    attrs = {"title": title, "parameter_name": field, "field": field, "name_of": staticmethod(name_of)}
    return type(f"{field.title()}Filter", (_LabelledFilter,), attrs)


def labelled_column(field: str, title: Promise, name_of: Callable[[str], str]) -> Callable[[Any], str]:
    """A ``list_display`` column showing ``name_of`` of the field's value, sorted by the value."""

    def column(obj: Any) -> str:
        value = getattr(obj, field)
        return name_of(value) if value else ""

    column.__name__ = f"{field}_name"
    shown: Callable[[Any], str] = admin.display(column, description=cast(Any, title), ordering=field)
    return shown
