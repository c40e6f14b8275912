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
    "facility_level": {"enterprise": "企业层级", "key_facility": "重点生产设施层级"},
}

#: Open vocabularies: free text in the contract (an unknown value is the user's own word, shown as written),
#: with Chinese names for the values the demo, the packs and the workbooks use.  The workbook writes these
#: names and reads either the name or the value (contract §3); the web's labels repeat them for translation.
OPEN_TERMS: Final[dict[str, dict[str, str]]] = {
    "instrument_type": {
        "electricity_meter": "电能表",
        "belt_scale": "电子皮带秤",
        "truck_scale": "电子汽车衡",
        "platform_scale": "电子台秤",
        "weigh_feeder": "定量给料秤",
        "flow_meter": "流量计",
        "mass_flow_meter": "质量流量计",
        "ultrasonic_flow_meter": "超声波流量计",
        "gas_flow_system": "气体流量计量系统",
        "steam_flow_system": "蒸汽流量计量系统",
        "gas_meter": "燃气表",
        "heat_meter": "热量表",
        "fuel_dispenser": "加油机",
        "calorimeter": "量热仪",
        "elemental_analyser": "元素分析仪",
        "carbon_sulfur_analyser": "碳硫分析仪",
        "xrf_spectrometer": "X射线荧光光谱仪",
        "analytical_balance": "分析天平",
        "cems_co2_analyser": "CEMS二氧化碳分析仪",
        "cems_o2_analyser": "CEMS氧分析仪",
        "cems_flow_velocity": "CEMS流速监测仪",
        "cems_temperature": "CEMS温度监测仪",
        "cems_pressure": "CEMS压力监测仪",
        "cems_humidity": "CEMS湿度监测仪",
        "open_path_gas_analyser": "开路式气体分析仪",
        "portable_gas_analyser": "便携式气体分析仪",
        "temperature_transmitter": "温度变送器",
        "pressure_transmitter": "压力变送器",
        "thermometer": "温度计",
        "infrared_thermometer": "红外测温仪",
        "anemometer": "风速仪",
        "power_quality_analyser": "电能质量分析仪",
        "meter_field_tester": "电能表现场校验仪",
    },
    #: A management document's kind: the packs name the documents they require; these are the others.
    "document_kind": {
        "monitoring_plan": "监测计划",
        "metering_network": "计量网络图",
        "verification_plan": "检定/校准计划",
    },
    "parameter": {
        "consumption": "消耗量",
        "ncv": "低位发热量",
        "carbon_content": "含碳量",
        "electricity": "电量",
        "heat": "热量",
        "co2_concentration": "CO2浓度",
        "flow_velocity": "烟气流速",
        "temperature": "温度",
        "humidity": "湿度",
        "pressure": "压力",
        "cao_content": "氧化钙含量",
        "mgo_content": "氧化镁含量",
        "fossil_carbon_fraction": "化石碳比例",
        "clinker_output": "熟料产量",
        "emission_factor": "排放因子",
        "wind_speed": "风速",
        "oxidation_rate": "碳氧化率",
        "cao_non_carbonate": "非碳酸盐氧化钙含量",
        "mgo_non_carbonate": "非碳酸盐氧化镁含量",
        "conversion_fraction": "转化率",
        "kiln_dust": "窑灰产量",
        "bypass_dust": "旁路放风粉尘量",
        "raw_meal": "生料消耗量",
        "organic_carbon_content": "生料有机碳含量",
        "fossil_fraction": "化石碳占比",
        "sub_metering": "分项计量电量",
    },
}

#: ``extra`` keys the product reads (a point's or a stream's CEMS settings, ``readings/quality.py``): the
#: workbook's Chinese header for each and the Chinese names of its values.  The reader takes the header or
#: the key, a name or the value.
EXTRA_TERMS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "co2_basis": ("CO2浓度基准", {"dry": "干基", "wet": "湿基"}),
    "duct_area_m2": ("烟道截面积(m²)", {}),
}


def parameter_name(parameter: str) -> dict[str, str]:
    """A formula parameter in a message: its Chinese term (``ncv`` → 低位发热量) and its English words."""
    return {"zh": OPEN_TERMS["parameter"].get(parameter, parameter), "en": parameter.replace("_", " ")}
