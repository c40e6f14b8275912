"""The rule pack's vocabulary as a person reads it: formulas by their title, default factors by what they
are (quantity, region, variant, year, value), never by their keys.

A stream's ``formula`` and a point's ``factor`` are keys of the organization's pack (``org.pack_ref``):
the forms offer exactly those keys, labelled here, and refuse any other, so what is stored always names
something the engine will find.
"""

from __future__ import annotations

from typing import Final

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import Factor, Pack
from carbonmeter.web.registry.models import Organization
from carbonmeter.web.terms import PARAMETER_LABELS

#: What a factor key's first part names (``grid.national.2023`` → 电网排放因子); parameters otherwise.
FACTOR_QUANTITIES: Final[dict[str, Promise]] = {
    "grid": _("电网排放因子"),
    "heat": _("热力排放因子"),
    "cao_non_carbonate": _("非碳酸盐氧化钙含量"),
    "mgo_non_carbonate": _("非碳酸盐氧化镁含量"),
    "organic_carbon_content": _("有机碳含量"),
    "fossil_fraction": _("化石碳比例"),
}
#: A factor's ``variant`` (the average is the plain value and is not named).
FACTOR_VARIANTS: Final[dict[str, Promise]] = {
    "fossil": _("化石能源"),
    "excl_market_nonfossil": _("不含市场化交易非化石能源"),
    "ets_accounting": _("碳市场核算用"),
    "power_sector_default": _("发电行业缺省值"),
}
#: A factor's ``scope`` where no region is named.
FACTOR_SCOPES: Final[dict[str, Promise]] = {"national": _("全国")}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def organization_pack(org: Organization) -> Pack:
    """The pack ``org`` is judged by (its own, its industry's, or the installation's default)."""
    return load_pack(org.pack_ref)


def formula_label(pack: Pack, key: str) -> str:
    """A formula by its title in the page's language; a key the pack does not hold is shown as stored."""
    spec = pack.formulas.get(key)
    if spec is None:
        return key
    return spec.title.en if _english() else spec.title.zh


def _region(key: str, factor: Factor) -> str:
    """The factor's region: the pack's Chinese name, or in English the key's region part written out."""
    parts = key.split(".")
    if factor.region:
        if not _english():
            return factor.region
        if factor.scope in ("regional", "provincial") and len(parts) > 2:
            return parts[2].replace("_", " ").title()
        return factor.region
    scope = FACTOR_SCOPES.get(factor.scope)
    return str(scope) if scope is not None else ""


def factor_label(pack: Pack, key: str) -> str:
    """A default factor as a reader names it, e.g. "电网排放因子 · 重庆 · 2022 · 0.5227 tCO2/MWh"; a missing
    value says so.  A key the pack does not hold is shown as stored."""
    factor = pack.factors.get(key)
    if factor is None:
        return key
    head = key.split(".")[0]
    quantity = FACTOR_QUANTITIES.get(head) or PARAMETER_LABELS.get(head)
    parts = [str(quantity) if quantity is not None else head, _region(key, factor)]
    variant = FACTOR_VARIANTS.get(factor.variant)
    if variant is not None:
        parts.append(str(variant))
    if factor.year:
        parts.append(str(factor.year))
    if factor.value is None:
        parts.append(gettext("缺省值未载入"))
    else:
        unit = "" if factor.unit == "dimensionless" else f" {factor.unit}"
        parts.append(f"{factor.value:g}{unit}")
    return " · ".join(p for p in parts if p)


def formula_choices(org: Organization) -> list[tuple[str, str]]:
    """The formulas of the organization's pack, blank (none) first, in the pack's order."""
    pack = organization_pack(org)
    return [("", gettext("无（按申报排放量）")), *((k, formula_label(pack, k)) for k in pack.formulas)]


def factor_choices(org: Organization) -> list[tuple[str, str]]:
    """The default factors of the organization's pack, blank (none) first, in the pack's order."""
    pack = organization_pack(org)
    return [("", gettext("无")), *((k, factor_label(pack, k)) for k in pack.factors)]
