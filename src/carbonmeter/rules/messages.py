"""Rendering finding codes and parameters into zh and en messages.

Parameters are language-neutral: numbers, ids, dates, ``{"label": "group.key"}`` (a term from the catalogue),
``{"zh": …, "en": …}`` (a term from the pack), ``{"id": …, "because": [labels]}`` (``I-12（备用）``) and
lists of these.  Language is applied only here.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

Lang = Literal["zh", "en"]
#: The most characters of an input value a message quotes: a 50 MB cell must not become 50 MB of stderr.
MAX_QUOTE = 200
CATALOGUE = Path(__file__).with_name("messages.yaml")
_SEP = {"zh": "、", "en": ", "}


@cache
def catalogue() -> dict[str, Any]:
    """The catalogue, read with the packs' loader: libyaml (a tenth of the pure-Python parser's time, paid by
    every command) and a duplicate key refused rather than silently overwritten."""
    from carbonmeter.rules.loader import UniqueKeyLoader

    data: dict[str, Any] = yaml.load(CATALOGUE.read_bytes(), Loader=UniqueKeyLoader)
    return data


@cache
def _labels(lang: Lang) -> dict[str, str]:
    """Every label flattened to ``group.key`` → text, for one language."""
    flat: dict[str, str] = {}
    for group, entries in catalogue()["labels"].items():
        if lang in entries:
            flat[group] = str(entries[lang])
            continue
        for key, entry in entries.items():
            flat[f"{group}.{key}"] = str(entry[lang])
    return flat


def label_text(ref: str, lang: Lang) -> str:
    return _labels(lang)[ref]


def clip(text: str, limit: int = MAX_QUOTE) -> str:
    """``text`` cut to ``limit`` characters, its full length said after the cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text):,}]"


def quote(value: Any) -> str:
    """``repr(value)`` of an input value for a message, cut to :data:`MAX_QUOTE` characters (length said)."""
    return clip(repr(value))


def format_number(x: float) -> str:
    """Numbers as a reader wants them: integers plain, fractions to at most two decimals."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def render_param(value: Any, lang: Lang) -> str:
    if type(value) is str:
        return value
    if value is None:
        return "—"
    if isinstance(value, bool):
        return label_text("none", lang) if not value else "✓"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list):
        if not value:
            return label_text("none", lang)
        return _SEP[lang].join(render_param(v, lang) for v in value)
    if isinstance(value, dict):
        if "label" in value:
            return _labels(lang)[value["label"]]
        if "id" in value:
            reasons = _SEP[lang].join(render_param(r, lang) for r in value.get("because", []))
            if not reasons:
                return str(value["id"])
            return f"{value['id']}（{reasons}）" if lang == "zh" else f"{value['id']} ({reasons})"
        if lang in value:
            return str(value[lang])
    return str(value)


def template_fields(code: str, lang: Lang) -> set[str]:
    """The parameter names a code's template uses."""
    tpl = catalogue()["messages"][code][lang]
    return {name for _, name, _, _ in string.Formatter().parse(tpl) if name}


def render(code: str, params: dict[str, Any], lang: Lang) -> str:
    """The message of ``code`` in ``lang``; a missing template or parameter is a programming error."""
    tpl: str = catalogue()["messages"][code][lang]
    return tpl.format_map({k: v if type(v) is str else render_param(v, lang) for k, v in params.items()})


# --- texts that are not findings (reminders …): section → key → zh/en, in messages.yaml ---------------


def text(section: str, key: str, lang: Lang, **params: Any) -> str:
    """The catalogue's text ``section.key`` in ``lang`` with ``params`` filled in (``{name}``)."""
    tpl: str = catalogue()[section][key][lang]
    return tpl.format_map({k: v if type(v) is str else render_param(v, lang) for k, v in params.items()})


def quarantine_templates() -> dict[str, dict[str, dict[str, str]]]:
    """The reasons of quarantined metering-data rows: code → variant → ``{"zh", "en"}``."""
    block: dict[str, dict[str, dict[str, str]]] = catalogue()["quarantine"]
    return block


def quarantine_template(code: str, variant: str, lang: Lang) -> str:
    """The template of a quarantine reason; an unknown code or variant is a ``KeyError``."""
    return str(quarantine_templates()[code][variant][lang])
