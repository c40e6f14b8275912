"""The reporting year's default is the previous calendar year when the row is created (was the literal 2025)."""

from django.db import migrations, models

import carbonmeter.web.registry.models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_snapshot_extra"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="reporting_year",
            field=models.PositiveIntegerField(
                db_comment="year reported on (default: the previous year)",
                default=carbonmeter.web.registry.models.previous_year,
                verbose_name="报告年度",
            ),
        ),
        migrations.AlterField(
            model_name="historicalorganization",
            name="reporting_year",
            field=models.PositiveIntegerField(
                db_comment="year reported on (default: the previous year)",
                default=carbonmeter.web.registry.models.previous_year,
                verbose_name="报告年度",
            ),
        ),
    ]
