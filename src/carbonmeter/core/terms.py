"""The contract's Chinese terms for each enumeration (contract §3; glossary): 在用, 检定, 合格 ….

One table for the workbook reader and writer, the web app's choices and the reports, so a term is spelt the
same everywhere.
"""

from __future__ import annotations

from typing import Final

#: enumeration → value → Chinese term
ENUM_TERMS: Final[dict[str, dict[str, str]]] = {
    "stream_kind": {
        "fuel_combustion": "燃料燃烧",
        "process": "过程排放",
        "purchased_electricity": "购入电力",
        "purchased_heat": "购入热力",
        "exported_electricity": "输出电力",
        "exported_heat": "输出热力",
        "carbon_product": "含碳产品",
        "other": "其他",
    },
    "method": {"calculation": "计算法", "measurement": "实测法"},
    "emission_mode": {"organized": "有组织", "unorganized": "无组织"},
    "role": {"activity_data": "活动数据", "emission_factor": "排放因子", "cems": "实测数据"},
    "determination": {"measured": "实测", "default": "缺省值"},
    "status": {"in_use": "在用", "standby": "备用", "stopped": "停用", "sealed": "封存", "scrapped": "报废"},
    "calibration_kind": {"verification": "检定", "calibration": "校准"},
    "result": {"pass": "合格", "fail": "不合格"},
    "ownership": {"own": "自有", "supplier": "供应商", "external_lab": "外部实验室"},
}
