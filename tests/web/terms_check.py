"""What a Chinese reader must not meet: the product's internal codes (enumeration values, quantity, unit and
pack codes), developer English and two languages side by side.  One definition for the crawl of the pages
(``test_crawl``) and the check of the exports and the admin (``test_export_terms``).
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
import typing
from collections.abc import Iterable
from typing import Any

from django.apps import apps

import carbonmeter.core
import carbonmeter.readings
import carbonmeter.rules
from carbonmeter.core.terms import ENUM_TERMS, OPEN_TERMS
from carbonmeter.readings.model import quantities
from carbonmeter.rules.loader import builtin_pack_files, load_pack
from carbonmeter.web.registry.forms import TYPE_LABELS

#: Three lowercase English words in a row: a developer's note, not a Chinese page's text (data such as
#: instrument models are capitalised; the product's own command line, ``carbonmeter ledger verify``, is a
#: name to type).
DEVELOPER_ENGLISH = re.compile(r"(?<![\w./-])(?!carbonmeter )[a-z]{2,}(?: [a-z]{2,}){2,}(?![\w-])")
#: Chinese and English side by side ("演示数据 / demo data").
BILINGUAL = re.compile(r"[\u4e00-\u9fff][^/]{0,40} / [a-z]{2,}")


# --- the internal codes --------------------------------------------------------------------------------


def _literal_codes() -> set[str]:
    """Every lowercase value of a ``Literal`` alias or ``Enum`` in the pure packages (statuses, reasons,
    categories, substitution rules, bases …): new ones join the check when they are written."""
    out: set[str] = set()
    for package in (carbonmeter.core, carbonmeter.rules, carbonmeter.readings):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for attr in vars(module).values():
                values: Iterable[Any] = ()
                if typing.get_origin(attr) is typing.Literal:
                    values = typing.get_args(attr)
                elif isinstance(attr, type) and issubclass(attr, enum.Enum) and attr.__module__ == info.name:
                    values = (member.value for member in attr)
                out |= {v for v in values if isinstance(v, str)}
    return out


def _choice_codes() -> set[str]:
    """The stored values of every choice field of the project's models."""
    out: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("carbonmeter."):
            continue
        for fld in model._meta.get_fields():
            out |= {str(value) for value, _ in getattr(fld, "flatchoices", None) or ()}
    return out


def _pack_codes() -> set[str]:
    """Pack ids, their Table A.1 row ids, A.2/A.3 purposes (a point's ``purpose``) and required documents'
    kinds."""
    out: set[str] = set()
    for path in builtin_pack_files():
        pack = load_pack(str(path))
        out.add(pack.id)
        out |= set(pack.accuracy_requirements)
        out |= {row.row for row in pack.equipping_rows}
        out |= {doc.kind for doc in pack.required_documents}
    return out


def _unit_codes() -> set[str]:
    """Canonical units in pint's spelling that a reader writes otherwise (``m^3`` is m³, ``degC`` is ℃)."""
    return {q.unit for q in quantities().values() if re.search(r"\^|\*\*|deg", q.unit)}


def internal_codes() -> set[str]:
    codes = {value for table in ENUM_TERMS.values() for value in table}
    codes |= _literal_codes() | _choice_codes() | _pack_codes() | set(TYPE_LABELS) | set(quantities())
    codes |= {value for table in OPEN_TERMS.values() for value in table}
    codes |= {"co2_basis"}  # the point's extra key the quality page asks for
    words = {c for c in codes if len(c) >= 3 and re.fullmatch(r"[a-z][a-z0-9_.^*()/ -]*", c)}
    return words | _unit_codes()


def code_pattern(codes: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(rf"(?<![\w./@-])(?:{alternatives})(?![\w@-])")


CODES = code_pattern(internal_codes())


def chinese_text_problems(line: str, *, prose: bool = True) -> list[str]:
    """What is wrong with one piece of text a Chinese reader sees: internal codes always; developer English
    and two languages side by side when it is prose (not a command or a name to type)."""
    problems = []
    found = [m.group(0) for m in CODES.finditer(line)]
    if found:
        problems.append(f"internal code {found} in “{line[:160]}”")
    if prose:
        for pattern, what in ((DEVELOPER_ENGLISH, "English"), (BILINGUAL, "two languages")):
            if m := pattern.search(line):
                problems.append(f"{what} “{m.group(0)}” in “{line[:160]}”")
    return problems
