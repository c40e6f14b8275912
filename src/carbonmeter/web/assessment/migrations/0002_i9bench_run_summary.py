"""The dashboard's summary of each assessment run, kept beside its document (filled for existing runs)."""

from typing import Any

from django.db import migrations, models


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    # A copy of carbonmeter.web.assessment.models.document_summary as it was when this migration was written.
    keep = ("row", "required", "equipped", "rate", "required_rate", "pass")
    clauses: dict[str, list[int]] = {}
    for f in document.get("findings", []):
        counts = clauses.setdefault(f["clause"], [0, 0])
        counts[0 if f["severity"] == "nonconformity" else 1] += 1
    return {
        "equipping": [{k: r[k] for k in keep} for r in document.get("equipping", [])],
        "clauses": [{"clause": c, "nonconformities": n, "observations": o} for c, (n, o) in clauses.items()],
    }


def fill(apps: Any, schema_editor: Any) -> None:
    runs = apps.get_model("assessment", "AssessmentRun")
    for pk, document in runs.objects.values_list("pk", "document").iterator(chunk_size=20):
        runs.objects.filter(pk=pk).update(summary=_summary(document or {}))


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessmentrun",
            name="summary",
            field=models.JSONField(
                blank=True,
                db_comment="Table A.1 rows and finding counts per clause, taken from the document when saved",
                default=dict,
                editable=False,
                verbose_name="评价摘要",
            ),
        ),
        migrations.AddField(
            model_name="historicalassessmentrun",
            name="summary",
            field=models.JSONField(
                blank=True,
                db_comment="Table A.1 rows and finding counts per clause, taken from the document when saved",
                default=dict,
                editable=False,
                verbose_name="评价摘要",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
