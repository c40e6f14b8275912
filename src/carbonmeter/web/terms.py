"""The contract's enumeration terms (:data:`carbonmeter.core.terms.ENUM_TERMS`) as translatable labels.

The core package stays free of Django (the layering test enforces it), so its Chinese terms cannot be
marked for translation there.  This module repeats each term as a literal inside ``gettext_lazy`` so that
``makemessages`` extracts it; the Chinese term is the msgid and the English comes from the catalogue when
a page is rendered in English.  The database keeps the values (``in_use``, ``pass`` …), never the labels,
so nothing here changes what is stored.

A test compares the two tables (values and msgids), so a term added to the core without a label here
fails the build instead of showing its raw code on the pages.
"""

from __future__ import annotations

from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: enumeration → value → translatable label (msgid = the core's Chinese term)
TERMS: Final[dict[str, dict[str, Promise]]] = {
    "stream_kind": {
        "fuel_combustion": _("燃料燃烧"),
        "process": _("过程排放"),
        "purchased_electricity": _("购入电力"),
        "purchased_heat": _("购入热力"),
        "exported_electricity": _("输出电力"),
        "exported_heat": _("输出热力"),
        "carbon_product": _("含碳产品"),
        "other": _("其他"),
    },
    "method": {"calculation": _("计算法"), "measurement": _("实测法")},
    "emission_mode": {"organized": _("有组织"), "unorganized": _("无组织")},
    "role": {"activity_data": _("活动数据"), "emission_factor": _("排放因子"), "cems": _("实测数据")},
    "determination": {"measured": _("实测"), "default": _("缺省值")},
    "status": {
        "in_use": _("在用"),
        "standby": _("备用"),
        "stopped": _("停用"),
        "sealed": _("封存"),
        "scrapped": _("报废"),
    },
    "calibration_kind": {"verification": _("检定"), "calibration": _("校准")},
    "result": {"pass": _("合格"), "fail": _("不合格")},
    "ownership": {"own": _("自有"), "supplier": _("供应商"), "external_lab": _("外部实验室")},
    "facility_level": {"enterprise": _("企业层级"), "key_facility": _("重点生产设施层级")},
}


def term_choices(enum: str) -> list[tuple[str, Promise]]:
    """``(value, label)`` pairs of one enumeration, in the core's order, for model and form choices."""
    return list(TERMS[enum].items())


def term_label(enum: str, value: str) -> str:
    """The label of ``value`` in the active language; an unknown value is shown as it is stored."""
    label = TERMS.get(enum, {}).get(value)
    return str(label) if label is not None else value


# --- open vocabularies: free text in the contract, with names for the values the demo and workbooks use ---

#: A measuring point's ``parameter`` (contract §2: consumption | ncv | carbon_content | …).  An unknown
#: parameter is shown as written (it is the user's own word, not a code of ours).
PARAMETER_LABELS: Final[dict[str, Promise]] = {
    "consumption": _("消耗量"),
    "ncv": _("低位发热量"),
    "carbon_content": _("含碳量"),
    "electricity": _("电量"),
    "heat": _("热量"),
    "co2_concentration": _("CO2浓度"),
    "flow_velocity": _("烟气流速"),
    "temperature": _("温度"),
    "humidity": _("湿度"),
    "pressure": _("压力"),
    "cao_content": _("氧化钙含量"),
    "mgo_content": _("氧化镁含量"),
    "fossil_carbon_fraction": _("化石碳比例"),
    "clinker_output": _("熟料产量"),
    "emission_factor": _("排放因子"),
    "wind_speed": _("风速"),
    "oxidation_rate": _("碳氧化率"),
    "cao_non_carbonate": _("非碳酸盐氧化钙含量"),
    "mgo_non_carbonate": _("非碳酸盐氧化镁含量"),
    "conversion_fraction": _("转化率"),
    "kiln_dust": _("窑灰产量"),
    "bypass_dust": _("旁路放风粉尘量"),
    "raw_meal": _("生料消耗量"),
    "organic_carbon_content": _("生料有机碳含量"),
    "fossil_fraction": _("化石碳占比"),
    "sub_metering": _("分项计量电量"),
}


def parameter_label(value: str) -> str:
    label = PARAMETER_LABELS.get(value)
    return str(label) if label is not None else value
