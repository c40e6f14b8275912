"""Metering data in the database: what the Parquet lake cannot hold itself.

The readings are in Parquet files (``carbonmeter.readings.lake``); the database keeps

* the **chain** of batches (``ReadingBatch`` + ``BatchFile``): append-only, each row hashed with the one
  before it, so ``carbonmeter ledger verify`` can tell an added, removed or altered row, file or batch;
* every **ingest run** and its report (``IngestRun``), and every **quarantined row** (``QuarantinedRow``),
  fixable and re-submittable, so bad input is never lost;
* per-point **data profiles** (expected interval, plausible range, counter modulus, substitution rule) and
  explicit **counter events** (reset, meter replacement), which the aggregations read.

See ``docs/specs/readings.md`` for the contract.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from carbonmeter.readings.model import Lang, quantities, reason_text
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization, OrgOwned

SUBSTITUTION_RULES = [
    ("none", _("不替代（仅标记缺失）")),
    ("mean_adjacent", _("前后有效值的平均值")),
    ("period_max", _("本期最大值（保守值）")),
    ("mean_plus_2sd", _("均值加两倍标准差（CEMS 浓度）")),
    ("pack_default", _("规则包缺省值")),
]

COUNTER_EVENT_KINDS = [
    ("reset", _("清零")),
    ("replacement", _("换表")),
]

BATCH_SOURCES = [
    ("upload", _("文件上传")),
    ("api", _("接口批量提交")),
    ("mqtt", _("MQTT 订阅")),
    ("cli", _("命令行")),
    ("correction", _("更正")),
    ("resubmission", _("隔离数据重新提交")),
]

QUARANTINE_STATES = [
    ("open", _("待处理")),
    ("resubmitted", _("已重新提交")),
    ("dismissed", _("已驳回")),
]


class PointProfile(OrgOwned):
    """How a measuring point's data are checked, gap-filled and summed (one per point)."""

    point = models.OneToOneField(
        MeasuringPoint,
        on_delete=models.PROTECT,
        related_name="data_profile",
        verbose_name=_("计量点"),
        db_comment="the measuring point these settings are for",
    )
    quantity = models.CharField(
        _("量"), max_length=40, db_comment="quantity code from readings/quantities.yaml"
    )
    expected_interval = models.PositiveIntegerField(
        _("预期间隔（秒）"), null=True, blank=True, db_comment="expected seconds between readings; null: lab"
    )
    min_value = models.FloatField(_("合理下限"), null=True, blank=True, db_comment="plausible minimum")
    max_value = models.FloatField(_("合理上限"), null=True, blank=True, db_comment="plausible maximum")
    counter_modulus = models.FloatField(
        _("计数器量程（翻转值）"), null=True, blank=True, db_comment="totalizer rolls over at this value"
    )
    substitution = models.CharField(
        _("缺失数据替代规则"),
        max_length=20,
        choices=SUBSTITUTION_RULES,
        default="none",
        db_comment="rule that fills gaps",
    )
    default_value = models.FloatField(
        _("缺省值"), null=True, blank=True, db_comment="value per interval for the pack_default rule"
    )
    default_source = models.CharField(
        _("缺省值来源"), max_length=200, blank=True, db_comment="where the default value comes from"
    )
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_profiles",
        verbose_name=_("计量器具"),
        db_comment="instrument producing the data; the validity gate reads its calibrations",
    )
    cems_valid_fraction = models.FloatField(
        _("CEMS 小时有效分钟比例"),
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text=_("留空：采用所用规则包规定的 CEMS 小时有效分钟比例"),
        db_comment="an hour is valid with at least this share; null: the rule pack's value",
    )

    class Meta:
        verbose_name = _("计量点数据配置")
        verbose_name_plural = _("计量点数据配置")
        db_table_comment = "per-point data settings: interval, range, counter modulus, substitution"

    def __str__(self) -> str:
        q = quantities().get(self.quantity)
        name = q.name("en" if (get_language() or "").startswith("en") else "zh") if q else self.quantity
        return f"{self.point.code} {name}"


class CounterEvent(OrgOwned):
    """An explicit totalizer event: nothing is inferred from a decrease alone."""

    point = models.ForeignKey(
        MeasuringPoint,
        on_delete=models.PROTECT,
        related_name="counter_events",
        verbose_name=_("计量点"),
        db_comment="the totalizer point",
    )
    ts = models.DateTimeField(_("时间"), db_comment="when the event happened")
    kind = models.CharField(_("类型"), max_length=20, choices=COUNTER_EVENT_KINDS, db_comment="event kind")
    old_end = models.FloatField(
        _("旧表止码"), null=True, blank=True, db_comment="last register of the old device / before reset"
    )
    new_start = models.FloatField(
        _("新表起码"), null=True, blank=True, db_comment="first register of the new device / after reset"
    )
    reason = models.TextField(_("原因"), db_comment="why; shown in the ledger")

    class Meta:
        verbose_name = _("计数器事件")
        verbose_name_plural = _("计数器事件")
        db_table_comment = "totalizer resets and meter replacements, recorded explicitly"
        ordering = ["point", "ts"]

    def __str__(self) -> str:
        return f"{self.point.code} {self.get_kind_display()} {self.ts:%Y-%m-%d %H:%M}"


class AppendOnly(models.Model):
    """Rows of the chain: written once, never updated, never deleted."""

    org_path: ClassVar[str | None] = "organization"
    #: Nobody changes a link of the chain, whatever their role: corrections are new batches.
    write_roles: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        self.full_clean()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{type(self).__name__} rows are never deleted")


class ReadingBatch(AppendOnly):
    """One committed batch of readings: a link of the chain."""

    seq = models.PositiveBigIntegerField(_("批次号"), unique=True, db_comment="global sequence in the chain")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name=_("单位"), db_comment="owning organization"
    )
    source = models.CharField(_("来源"), max_length=20, choices=BATCH_SOURCES, db_comment="how it came in")
    filename = models.CharField(_("文件名"), max_length=300, blank=True, db_comment="source file name")
    rows = models.PositiveBigIntegerField(_("行数"), db_comment="readings stored by this batch")
    content_hash = models.CharField(_("内容哈希"), max_length=64, db_comment="sha256 of the rows")
    prev_chain_hash = models.CharField(_("前链哈希"), max_length=64, db_comment="chain hash before")
    chain_hash = models.CharField(_("链哈希"), max_length=64, unique=True, db_comment="this link's hash")
    metadata = models.JSONField(_("元数据"), db_comment="canonical metadata hashed into the chain")
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("更正的批次"),
        db_comment="batch this one corrects",
    )
    reason = models.TextField(_("原因"), blank=True, db_comment="why (corrections and re-submissions)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("提交人"),
        db_comment="who submitted it",
    )
    created_at = models.DateTimeField(_("提交时间"), db_comment="when it was committed")

    class Meta:
        verbose_name = _("数据批次")
        verbose_name_plural = _("数据批次")
        db_table_comment = "append-only hash chain of reading batches"
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "content_hash"], name="batch_content_once")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.filename or self.source}"


class BatchFile(AppendOnly):
    """One Parquet file of a batch (one per partition it touches)."""

    batch = models.ForeignKey(
        ReadingBatch,
        on_delete=models.PROTECT,
        related_name="files",
        verbose_name=_("批次"),
        db_comment="batch",
    )
    path = models.CharField(_("路径"), max_length=400, unique=True, db_comment="path relative to the lake")
    sha256 = models.CharField(_("文件哈希"), max_length=64, db_comment="sha256 of the file bytes")
    rows = models.PositiveBigIntegerField(_("行数"), db_comment="rows in the file")

    org_path: ClassVar[str | None] = "batch__organization"

    class Meta:
        verbose_name = _("批次文件")
        verbose_name_plural = _("批次文件")
        db_table_comment = "Parquet files of a batch with their hashes"

    def __str__(self) -> str:
        return self.path


class IngestRun(OrgOwned):
    """One attempt to ingest a source, with the fate of every row (the ingest report)."""

    source = models.CharField(_("来源"), max_length=20, choices=BATCH_SOURCES, db_comment="how it came in")
    filename = models.CharField(_("文件名"), max_length=300, blank=True, db_comment="source file name")
    upload = models.FileField(
        _("原始文件"), upload_to="readings/%Y/%m/", blank=True, db_comment="the file as received"
    )
    batch = models.ForeignKey(
        ReadingBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("批次"),
        db_comment="batch written (null: nothing new)",
    )
    rows_total = models.PositiveBigIntegerField(_("总行数"), default=0, db_comment="data rows read")
    rows_accepted = models.PositiveBigIntegerField(_("接收"), default=0, db_comment="rows stored")
    rows_duplicate = models.PositiveBigIntegerField(_("重复"), default=0, db_comment="rows already stored")
    rows_quarantined = models.PositiveBigIntegerField(_("隔离"), default=0, db_comment="rows quarantined")
    report = models.JSONField(
        _("接收报告"), default=dict, blank=True, db_comment="fate of every row: counts, ranges, exceptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("提交人"),
        db_comment="who submitted it",
    )

    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin", "metrology_officer", "data_clerk"})

    class Meta:
        verbose_name = _("数据接收记录")
        verbose_name_plural = _("数据接收记录")
        db_table_comment = "every ingest attempt and the fate of its rows"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename or self.source} {self.created_at:%Y-%m-%d %H:%M}"


class QuarantinedRow(OrgOwned):
    """A rejected input row, kept with where it came from and why, until fixed or dismissed."""

    run = models.ForeignKey(
        IngestRun,
        on_delete=models.PROTECT,
        related_name="quarantined",
        verbose_name=_("接收记录"),
        db_comment="ingest run that rejected it",
    )
    sheet = models.CharField(_("工作表"), max_length=100, blank=True, db_comment="XLSX sheet, if any")
    row = models.PositiveBigIntegerField(_("行"), db_comment="row number in the source")
    column = models.CharField(_("列"), max_length=100, blank=True, db_comment="column at fault, if one")
    code = models.CharField(_("代码"), max_length=20, db_comment="quarantine code, e.g. RD-RANGE")
    variant = models.CharField(
        _("细分"),
        max_length=30,
        blank=True,
        db_comment="which case of the code (e.g. RD-TIME offset); with params it gives the reason in zh/en",
    )
    params = models.JSONField(
        _("参数"), default=dict, blank=True, db_comment="language-neutral parameters of the reason"
    )
    reason = models.TextField(_("原因"), db_comment="why it was rejected, in words (zh)")
    raw = models.JSONField(_("原始数据"), db_comment="the row's cells as received")
    fingerprint = models.CharField(
        _("内容指纹"),
        max_length=64,
        blank=True,
        db_index=True,
        db_comment="sha256 of sheet, column, code, variant, cells: the same bad row sent again is this row",
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=QUARANTINE_STATES, default="open", db_comment="open or resolved"
    )
    resolved_by = models.ForeignKey(
        ReadingBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_rows",
        verbose_name=_("处理批次"),
        db_comment="batch that stored the fixed row",
    )

    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin", "metrology_officer", "data_clerk"})

    class Meta:
        verbose_name = _("隔离数据")
        verbose_name_plural = _("隔离数据")
        db_table_comment = "rejected input rows with their reason, fixable and re-submittable"
        ordering = ["run", "row"]
        indexes = [models.Index(fields=["organization", "state"], name="quarantine_org_state")]

    def __str__(self) -> str:
        return f"{self.code} row {self.row}"

    def reason_in(self, lang: Lang) -> str:
        """The reason in ``lang`` from the code, variant and parameters (the stored text is zh)."""
        if self.variant:
            try:
                return reason_text(self.code, self.variant, self.params or {}, lang)
            except (KeyError, ValueError):
                pass
        return self.reason


class ArchivedPartition(OrgOwned):
    """A month of an organization's lake exported to a verifiable archive (retention, 6.4).

    The files may be deleted from the lake only when the month is older than ``services.retention_years()``
    (the rule packs' ``data_retention_years``) and the archive still verifies; the deletion is recorded
    here, so ``carbonmeter ledger verify`` knows those files left the lake lawfully."""

    year = models.PositiveSmallIntegerField(_("年"), db_comment="partition year (Asia/Shanghai)")
    month = models.PositiveSmallIntegerField(_("月"), db_comment="partition month (Asia/Shanghai)")
    archive_dir = models.CharField(_("归档目录"), max_length=500, db_comment="directory of the export")
    manifest_sha256 = models.CharField(
        _("清单哈希"), max_length=64, db_comment="sha256 of the export's manifest.json"
    )
    files = models.JSONField(_("文件"), db_comment="the partition's files: path, sha256, rows, batch")
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("归档人"),
        db_comment="who archived it",
    )
    deleted_at = models.DateTimeField(
        _("从数据湖删除时间"),
        null=True,
        blank=True,
        db_comment="when the files left the lake (null: still there)",
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("删除人"),
        db_comment="who deleted the files from the lake",
    )
    reason = models.TextField(_("原因"), blank=True, db_comment="why the files were deleted")

    class Meta:
        verbose_name = _("已归档的数据分区")
        verbose_name_plural = _("已归档的数据分区")
        db_table_comment = "lake partitions exported to an archive, and their deletion after retention"
        ordering = ["organization", "year", "month", "created_at"]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d} → {self.archive_dir}"
