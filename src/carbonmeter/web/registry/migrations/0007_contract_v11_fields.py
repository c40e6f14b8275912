"""Contract v1.1 fields (contract §6.1): a stream's formula (its declared emissions become optional with one),
a point's annual value, unit, u_rel and default factor, an instrument's first day in service; facilities get
a code (their snapshot id) and ``extra``.

Facility ``level`` takes the contract's values: the former ``facility`` is now ``key_facility`` (rows and
their history alike), so the web, the snapshot and the workbook share one vocabulary and nothing maps it.
Existing facilities are numbered ``F<pk>`` (unique within their organization) before the constraint."""

from typing import Any

import django.core.validators
from django.db import migrations, models


def forward(apps: Any, schema_editor: Any) -> None:
    for name in ("Facility", "HistoricalFacility"):
        model = apps.get_model("registry", name)
        model.objects.filter(level="facility").update(level="key_facility")
        model.objects.filter(code="").update(code=models.functions.Concat(models.Value("F"), "id"))


def backward(apps: Any, schema_editor: Any) -> None:
    for name in ("Facility", "HistoricalFacility"):
        apps.get_model("registry", name).objects.filter(level="key_facility").update(level="facility")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0006_metering_network'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='sourcestream',
            name='stream_emissions_ge0',
        ),
        migrations.AddField(
            model_name='facility',
            name='code',
            field=models.CharField(db_comment='facility id within the organization', default='', max_length=50, verbose_name='编号'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='facility',
            name='extra',
            field=models.JSONField(blank=True, db_comment="the snapshot object's extra data, kept verbatim", default=dict, verbose_name='其他信息'),
        ),
        migrations.AddField(
            model_name='historicalfacility',
            name='code',
            field=models.CharField(db_comment='facility id within the organization', default='', max_length=50, verbose_name='编号'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalfacility',
            name='extra',
            field=models.JSONField(blank=True, db_comment="the snapshot object's extra data, kept verbatim", default=dict, verbose_name='其他信息'),
        ),
        migrations.AddField(
            model_name='historicalinstrument',
            name='in_service_from',
            field=models.DateField(blank=True, db_comment='first day in service (period traceability, 6.3.6-6.3.7)', null=True, verbose_name='投用日期'),
        ),
        migrations.AddField(
            model_name='historicalmeasuringpoint',
            name='factor',
            field=models.CharField(blank=True, db_comment="key of the rule pack's factors table (a default value); blank: none", max_length=100, verbose_name='缺省值'),
        ),
        migrations.AddField(
            model_name='historicalmeasuringpoint',
            name='u_rel',
            field=models.FloatField(blank=True, db_comment="relative standard uncertainty stated by the value's source (0.01 = 1 percent)", help_text='数值来源（化验报告、供应商证书）给出的相对标准不确定度，如 0.01 表示 1%', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='相对标准不确定度'),
        ),
        migrations.AddField(
            model_name='historicalmeasuringpoint',
            name='unit',
            field=models.CharField(blank=True, db_comment='unit of value, e.g. "t", "GJ/t", "MWh"', max_length=30, verbose_name='单位'),
        ),
        migrations.AddField(
            model_name='historicalmeasuringpoint',
            name='value',
            field=models.FloatField(blank=True, db_comment='annual quantity determined (total of an amount, weighted mean of a factor), in unit', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='年度值'),
        ),
        migrations.AddField(
            model_name='historicalsourcestream',
            name='formula',
            field=models.CharField(blank=True, db_comment="id of the rule pack's formula (contract 6.2); blank: none", max_length=50, verbose_name='核算公式'),
        ),
        migrations.AddField(
            model_name='instrument',
            name='in_service_from',
            field=models.DateField(blank=True, db_comment='first day in service (period traceability, 6.3.6-6.3.7)', null=True, verbose_name='投用日期'),
        ),
        migrations.AddField(
            model_name='measuringpoint',
            name='factor',
            field=models.CharField(blank=True, db_comment="key of the rule pack's factors table (a default value); blank: none", max_length=100, verbose_name='缺省值'),
        ),
        migrations.AddField(
            model_name='measuringpoint',
            name='u_rel',
            field=models.FloatField(blank=True, db_comment="relative standard uncertainty stated by the value's source (0.01 = 1 percent)", help_text='数值来源（化验报告、供应商证书）给出的相对标准不确定度，如 0.01 表示 1%', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='相对标准不确定度'),
        ),
        migrations.AddField(
            model_name='measuringpoint',
            name='unit',
            field=models.CharField(blank=True, db_comment='unit of value, e.g. "t", "GJ/t", "MWh"', max_length=30, verbose_name='单位'),
        ),
        migrations.AddField(
            model_name='measuringpoint',
            name='value',
            field=models.FloatField(blank=True, db_comment='annual quantity determined (total of an amount, weighted mean of a factor), in unit', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='年度值'),
        ),
        migrations.AddField(
            model_name='sourcestream',
            name='formula',
            field=models.CharField(blank=True, db_comment="id of the rule pack's formula (contract 6.2); blank: none", max_length=50, verbose_name='核算公式'),
        ),
        migrations.AlterField(
            model_name='facility',
            name='level',
            field=models.CharField(choices=[('enterprise', '企业层级'), ('key_facility', '重点生产设施层级')], db_comment='metering boundary level (4.1): enterprise or key_facility', default='key_facility', max_length=20, verbose_name='边界层级'),
        ),
        migrations.AlterField(
            model_name='historicalfacility',
            name='level',
            field=models.CharField(choices=[('enterprise', '企业层级'), ('key_facility', '重点生产设施层级')], db_comment='metering boundary level (4.1): enterprise or key_facility', default='key_facility', max_length=20, verbose_name='边界层级'),
        ),
        migrations.AlterField(
            model_name='historicalsourcestream',
            name='annual_emissions_t',
            field=models.FloatField(blank=True, db_comment='declared annual emissions, t CO2e; null only with a formula', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='年排放量(tCO2e)'),
        ),
        migrations.AlterField(
            model_name='sourcestream',
            name='annual_emissions_t',
            field=models.FloatField(blank=True, db_comment='declared annual emissions, t CO2e; null only with a formula', null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='年排放量(tCO2e)'),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddConstraint(
            model_name='facility',
            constraint=models.UniqueConstraint(fields=('organization', 'code'), name='facility_code_unique'),
        ),
        migrations.AddConstraint(
            model_name='measuringpoint',
            constraint=models.CheckConstraint(condition=models.Q(('value__isnull', True), models.Q(('unit', ''), _negated=True), _connector='OR'), name='point_value_has_unit'),
        ),
        migrations.AddConstraint(
            model_name='sourcestream',
            constraint=models.CheckConstraint(condition=models.Q(('annual_emissions_t__isnull', True), ('annual_emissions_t__gte', 0), _connector='OR'), name='stream_emissions_ge0'),
        ),
        migrations.AddConstraint(
            model_name='sourcestream',
            constraint=models.CheckConstraint(condition=models.Q(('annual_emissions_t__isnull', False), models.Q(('formula', ''), _negated=True), _connector='OR'), name='stream_emissions_or_formula'),
        ),
    ]
