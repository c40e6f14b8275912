"""A finding's evidence, for reading: each key of the validator's evidence document under its name in the
page's language (``labels.evidence`` of the message catalogue), each value formatted for a person.

Dates stay ISO, rates are percentages, quantities carry their unit, enumeration values are shown by their
terms (status, result, traceability, category, Table A.1 row, instrument type, provenance tag), a pack's
purpose or document kind by its title in the run's pack, instrument and point ids link to their pages, lists
are joined, a nested record is a nested list and a list of records a small table.  The stored document is
untouched: the run's JSON download keeps every key as the engine wrote it.

Keys a reader has no use for are left out: ``note`` is the pack author's note on where a requirement comes
from (written for the pack's maintainers, in their language).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from django.urls import reverse

from carbonmeter.rules.messages import Lang, format_number, label_text, text
from carbonmeter.rules.schema import Pack
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.registry.forms import type_label
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization
from carbonmeter.web.terms import parameter_label, term_label

#: Keys never shown (see the module's docstring).
HIDDEN: Final = frozenset({"note"})
#: Keys whose value is an instrument id (or a list of them) / a measuring point id.
INSTRUMENT_KEYS: Final = frozenset({"instrument", "portable_instruments", "usable"})
POINT_KEYS: Final = frozenset({"point", "planned_points", "required_points"})
DATE_KEYS: Final = frozenset({"date", "valid_until", "approved", "from", "to"})
PERCENT_KEYS: Final = frozenset({"rate", "required_rate", "share"})
#: Key → catalogue label group of its value (``status.in_use`` …).
LABEL_GROUPS: Final = {
    "trace": "trace",
    "by_emissions": "category",
    "by_share": "category",
    "category": "category",
    "row": "row",
    "tag": "tag",
    "missing": "field",
    "default_allowed": "category",
}
#: Keys whose value is a mass of CO2 in tonnes.
TONNE_KEYS: Final = frozenset({"emissions_t", "declared_t", "computed_t", "u95_t"})
#: Key → enumeration of :mod:`carbonmeter.web.terms`.
TERM_KEYS: Final = {
    "status": "status",
    "result": "result",
    "stream_kind": "stream_kind",
    "method": "method",
}


@dataclass(frozen=True)
class Part:
    """One value, or one item of a list: its text and, for an instrument or point, its page."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class Entry:
    """One key of the evidence: a value (``parts``), a record (``entries``) or records (``columns``,
    ``rows``)."""

    key: str
    label: str
    parts: tuple[Part, ...] = ()
    entries: tuple[Entry, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[tuple[Part, ...], ...], ...] = ()


#: ``(kind, id)`` → the page of that instrument or point, or None when it has none (not in the register).
Links = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Reader:
    lang: Lang
    links: Links
    pack: Pack | None = None

    def entries(self, evidence: Mapping[str, Any]) -> tuple[Entry, ...]:
        return tuple(self.entry(k, v) for k, v in evidence.items() if k not in HIDDEN)

    def entry(self, key: str, value: Any) -> Entry:
        label = self.label(key)
        if isinstance(value, Mapping):
            return Entry(key, label, entries=self.entries(value))
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v if k not in HIDDEN))
            return Entry(
                key,
                label,
                columns=tuple(self.label(k) for k in keys),
                rows=tuple(tuple(self.parts(k, v.get(k)) for k in keys) for v in value),
            )
        return Entry(key, label, parts=self.parts(key, value))

    def label(self, key: str) -> str:
        return label_text(f"evidence.{key}", self.lang)

    def parts(self, key: str, value: Any) -> tuple[Part, ...]:
        if isinstance(value, list):
            if not value:
                return (Part(label_text("none", self.lang)),)
            return tuple(p for v in value for p in self.parts(key, v))
        if value is None:
            return (Part("—"),)
        return (self.part(key, value),)

    def part(self, key: str, value: Any) -> Part:
        """One scalar value of ``key``."""
        if isinstance(value, bool):
            return Part(text("evidence", "true_value" if value else "false_value", self.lang))
        if key in INSTRUMENT_KEYS or key in POINT_KEYS:
            ident = str(value)
            return Part(ident, self.links("instrument" if key in INSTRUMENT_KEYS else "point", ident) or "")
        if key in DATE_KEYS:
            return Part(date.fromisoformat(str(value)).isoformat())
        if key in PERCENT_KEYS and isinstance(value, int | float):
            return Part(text("evidence", "percent", self.lang, value=format_number(value * 100)))
        if key in TONNE_KEYS and isinstance(value, int | float):
            return Part(text("evidence", "tonnes_co2", self.lang, value=format_number(value)))
        if key == "horizon_days" and isinstance(value, int | float):
            return Part(text("evidence", "days", self.lang, value=format_number(value)))
        if key == "mpe_percent" and isinstance(value, int | float):
            return Part(text("evidence", "percent", self.lang, value=format_number(value)))
        if key in LABEL_GROUPS:
            return Part(self._labelled(LABEL_GROUPS[key], str(value)))
        if key in TERM_KEYS:
            return Part(term_label(TERM_KEYS[key], str(value)))
        if key == "type":
            return Part(type_label(str(value)))
        if key == "purpose":
            return Part(self._purpose(str(value)))
        if key == "formula":
            return Part(self._formula(str(value)))
        if key == "parameter":
            return Part(parameter_label(str(value)))
        if key == "kind":
            return Part(self._kind(str(value)))
        if isinstance(value, int | float):
            return Part(format_number(value))
        return Part(str(value))

    def _labelled(self, group: str, value: str) -> str:
        try:
            return label_text(f"{group}.{value}", self.lang)
        except KeyError:
            return value

    def _formula(self, formula: str) -> str:
        """An accounting formula (contract §6.2) by its title in the run's pack."""
        spec = self.pack.formulas.get(formula) if self.pack else None
        if spec is None:
            return formula
        return spec.title.en if self.lang == "en" else spec.title.zh

    def _purpose(self, purpose: str) -> str:
        """A measuring purpose (Table A.2/A.3) by its title in the run's pack."""
        req = self.pack.accuracy_requirements.get(purpose) if self.pack else None
        if req is None:
            return purpose
        return req.title.en if self.lang == "en" else req.title.zh

    def _kind(self, kind: str) -> str:
        """A record's kind (检定/校准), or a required document's kind by its title in the run's pack."""
        if kind in ("verification", "calibration"):
            return term_label("calibration_kind", kind)
        for doc in self.pack.required_documents if self.pack else ():
            if doc.kind == kind:
                return doc.en if self.lang == "en" else doc.zh
        return kind


def register_links(user: Any, org: Organization) -> Links:
    """The pages of ``org``'s instruments (by code) and measuring points (their quality page), as ``user``
    may read them: an id not in the register (since removed, or never imported) links nowhere."""
    instruments = set(scope_for(user, Instrument).filter(organization=org).values_list("code", flat=True))
    points = dict(scope_for(user, MeasuringPoint).filter(organization=org).values_list("code", "pk"))

    def link(kind: str, ident: str) -> str | None:
        if kind == "instrument":
            return reverse("instrument_detail", args=[ident]) if ident in instruments else None
        pk = points.get(ident)
        return reverse("readings_quality_point", args=[pk]) if pk is not None else None

    return link
