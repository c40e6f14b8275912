"""Contract v1.1 (§6.1): a certificate's expanded uncertainty U (%) and coverage factor k."""

import carbonmeter.web.metrology.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('metrology', '0004_calibration_restricted_range'),
    ]

    operations = [
        migrations.AddField(
            model_name='calibration',
            name='coverage_factor',
            field=models.FloatField(blank=True, db_comment='coverage factor k of U (null: 2)', help_text='证书给出的包含因子，未填写按 k=2', null=True, validators=[carbonmeter.web.metrology.models.positive], verbose_name='包含因子k'),
        ),
        migrations.AddField(
            model_name='calibration',
            name='expanded_uncertainty_percent',
            field=models.FloatField(blank=True, db_comment='expanded uncertainty U of the certificate, percent of the measured value', help_text='证书给出的扩展不确定度，相对于测量值的百分数', null=True, validators=[carbonmeter.web.metrology.models.positive], verbose_name='扩展不确定度U(%)'),
        ),
        migrations.AddField(
            model_name='historicalcalibration',
            name='coverage_factor',
            field=models.FloatField(blank=True, db_comment='coverage factor k of U (null: 2)', help_text='证书给出的包含因子，未填写按 k=2', null=True, validators=[carbonmeter.web.metrology.models.positive], verbose_name='包含因子k'),
        ),
        migrations.AddField(
            model_name='historicalcalibration',
            name='expanded_uncertainty_percent',
            field=models.FloatField(blank=True, db_comment='expanded uncertainty U of the certificate, percent of the measured value', help_text='证书给出的扩展不确定度，相对于测量值的百分数', null=True, validators=[carbonmeter.web.metrology.models.positive], verbose_name='扩展不确定度U(%)'),
        ),
    ]
