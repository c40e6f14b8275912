"""The instrument's history keeps its points (issue 9): each history entry holds the links as they were, so
a change of links alone is attributable (who, when, why, old → new).  The newest entry of every instrument
is given its current links, so the first change after this migration shows the right "before"."""

from typing import Any

import django.db.models.deletion
import simple_history.models
from django.db import migrations, models
from django.db.models import Max


def backfill(apps: Any, schema_editor: Any) -> None:
    instrument = apps.get_model("registry", "Instrument")
    history = apps.get_model("registry", "HistoricalInstrument")
    snapshot = apps.get_model("registry", "HistoricalInstrument_points")
    newest = dict(history.objects.values("id").annotate(last=Max("history_id")).values_list("id", "last"))
    links = instrument.points.through.objects.order_by("id").values_list("id", "instrument_id", "measuringpoint_id")
    snapshot.objects.bulk_create(
        [
            snapshot(id=pk, history_id=newest[inst], instrument_id=inst, measuringpoint_id=point)
            for pk, inst, point in links.iterator()
            if inst in newest
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0004_i9ledger_upload_validator'),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalInstrument_points',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('m2m_history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, to='registry.historicalinstrument')),
                ('instrument', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='registry.instrument')),
                ('measuringpoint', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='registry.measuringpoint')),
            ],
            options={
                'verbose_name': 'HistoricalInstrument_points',
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
