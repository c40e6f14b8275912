"""The value types of metering data: quantities and their kinds, input columns, row fates, quarantine codes
and their reasons (docs/specs/readings.md).

Pure: no Django, no DuckDB, no files other than the packaged ``quantities.yaml``. Reasons are data: a
quarantined row carries a code, a variant and language-neutral parameters, and is rendered in zh or en only
when shown, so the database and the reports hold the same facts whatever the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from carbonmeter.rules.messages import quarantine_template, quarantine_templates

Lang = Literal["zh", "en"]
QUANTITIES_FILE = Path(__file__).with_name("quantities.yaml")


class Kind(StrEnum):
    """How a quantity's values combine over a period."""

    INTERVAL = "interval"  # a value per interval, summed (the ts is the interval's start)
    TOTAL = "total"  # a totalizer register, differenced
    CEMS = "cems"  # CEMS minute data, averaged to hours
    LAB = "lab"  # laboratory analyses (sample id, analysis date and laboratory required)


class Fate(StrEnum):
    """What became of one input row: exactly one per row."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # an identical row is already stored (or appears earlier in the same file)
    QUARANTINED = "quarantined"


class Code(StrEnum):
    """Why a row was quarantined (contract table "Row fates and quarantine codes")."""

    PARSE = "RD-PARSE"
    MISSING = "RD-MISSING"
    POINT = "RD-POINT"
    QUANTITY = "RD-QUANTITY"
    UNIT = "RD-UNIT"
    TIME = "RD-TIME"
    RANGE = "RD-RANGE"
    NEGATIVE = "RD-NEGATIVE"
    CONFLICT = "RD-CONFLICT"
    DUPROW = "RD-DUPROW"


def reasons() -> Mapping[tuple[Code, str], Mapping[Lang, str]]:
    """Reason templates per (code, variant), from the one message catalogue (``rules/messages.yaml``,
    block ``quarantine``): the wording lives there, the checks only name the variant and give parameters.
    ``{column}`` is the column header as it appears in the source."""
    return {
        (Code(code), variant): {"zh": str(t["zh"]), "en": str(t["en"])}
        for code, variants in quarantine_templates().items()
        for variant, t in variants.items()
    }


def reason_text(code: str, variant: str, params: Mapping[str, Any], lang: Lang = "zh") -> str:
    """The reason in words; a missing parameter shows as ``?`` rather than failing the report.  A known
    quantity is named (消耗量（质量）, not ``consumption_mass``); an unknown one is the file's own word."""
    template = quarantine_template(code, variant, lang)
    return template.format_map(_Defaulting({k: _param(k, v, lang) for k, v in params.items()}))


#: Parameters of the quarantine messages that hold a quantity code.
_QUANTITY_PARAMS = frozenset({"quantity", "configured"})


def _param(key: str, value: Any, lang: Lang) -> str:
    if key in _QUANTITY_PARAMS and isinstance(value, str) and (q := quantities().get(value)) is not None:
        return q.name(lang)
    return _show(value)


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Quarantine:
    """One rejected row: where it is (file, sheet, row, column as headed in the source) and why."""

    file: str
    sheet: str
    row: int
    column: str
    code: str
    variant: str
    params: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, str | None] = field(default_factory=dict)

    def reason(self, lang: Lang = "zh") -> str:
        return reason_text(self.code, self.variant, self.params, lang)


@dataclass(frozen=True)
class Quantity:
    """A measured quantity: its kind and the canonical unit its values are stored in."""

    code: str
    kind: Kind
    unit: str
    zh: str
    en: str

    def name(self, lang: Lang = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class InputColumn:
    """A column of the input files; ``zh`` is the Chinese header also accepted."""

    name: str
    zh: str
    required: bool


#: The input columns, in the contract's order ("Input columns").
INPUT_COLUMNS: tuple[InputColumn, ...] = (
    InputColumn("point", "计量点", True),
    InputColumn("quantity", "量", False),
    InputColumn("ts", "时间", True),
    InputColumn("value", "数值", True),
    InputColumn("unit", "单位", False),
    InputColumn("sample_id", "样品编号", False),
    InputColumn("analyzed_at", "分析日期", False),
    InputColumn("laboratory", "化验单位", False),
)
#: Cells a laboratory analysis needs besides the required ones.
LAB_COLUMNS: tuple[str, ...] = ("sample_id", "analyzed_at", "laboratory")

#: Columns of the lake's reading rows (contract "The canonical reading row"); ``org``, ``y`` and ``m`` are
#: carried by the hive path ``org=/y=/m=`` and appear when the lake is read with hive partitioning.
LAKE_COLUMNS: tuple[str, ...] = (
    "org",
    "point",
    "quantity",
    "ts",
    "value",
    "unit",
    "orig_value",
    "orig_unit",
    "factor",
    "offset",
    "sample_id",
    "analyzed_at",
    "laboratory",
    "batch",
    "row",
    "y",
    "m",
)


@dataclass(frozen=True)
class Reading:
    """One stored reading (a row of the lake) for the pure modules: ``ts`` is aware (UTC)."""

    org: str
    point: str
    quantity: str
    ts: datetime
    value: float
    unit: str
    orig_value: str = ""
    orig_unit: str = ""
    factor: float = 1.0
    offset: float = 0.0
    sample_id: str | None = None
    analyzed_at: datetime | None = None
    laboratory: str | None = None
    batch: int = 0
    row: int = 0


@cache
def _catalogue() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(QUANTITIES_FILE.read_text(encoding="utf-8"))
    return data


@cache
def quantities() -> Mapping[str, Quantity]:
    """Every quantity by code, from ``quantities.yaml``."""
    return {
        code: Quantity(code, Kind(q["kind"]), str(q["unit"]), str(q["zh"]), str(q["en"]))
        for code, q in _catalogue()["quantities"].items()
    }


@cache
def quantity_names() -> Mapping[str, str]:
    """Every spelling a file may use for a quantity (code, Chinese or English name) → code."""
    names: dict[str, str] = {}
    for q in quantities().values():
        names[q.zh] = q.code
        names[q.en] = q.code
    for q in quantities().values():
        names[q.code] = q.code
    return names


def kind_name(kind: Kind, lang: Lang = "zh") -> str:
    return str(_catalogue()["kinds"][kind.value][lang])


@cache
def unit_aliases() -> dict[str, str]:
    """Unit spellings users write → pint spellings."""
    return {str(k): str(v) for k, v in _catalogue()["aliases"].items()}
