"""The plant's facts: organization, facilities, source streams, the monitoring plan, the instrument register
(Table B.1) with its components, seals and archive, the people and the management documents.

Codes (``code``) are the ids the snapshot uses (contract §2); they are unique within an organization.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbonmeter.quant.balance import cycle
from carbonmeter.web.base import BaseModel, KeepsExtra
from carbonmeter.web.terms import term_choices
from carbonmeter.web.uploads import UploadValidator


def choices(enum: str) -> list[tuple[str, Promise]]:
    """Choices of a contract enumeration: the stored values of the core's table, labels translated when
    shown (the Chinese term is the msgid), so an English page shows English without a migration."""
    return term_choices(enum)


def previous_year() -> int:
    """The default reporting year of a new organization: the calendar year before today (Asia/Shanghai),
    the year a key emission unit reports on during the current one. A callable, not a year written into
    the model, so the default moves with the calendar."""
    return timezone.localdate().year - 1


class Organization(KeepsExtra, BaseModel):
    name = models.CharField(_("单位名称"), max_length=200, db_comment="legal name of the emission unit")
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, db_comment="unified social credit code"
    )
    industry = models.CharField(_("行业"), max_length=50, blank=True, db_comment="industry, e.g. cement")
    region = models.CharField(
        _("所属地区"), max_length=50, blank=True, db_comment="region a regulator oversees"
    )
    key_emission_unit = models.BooleanField(_("重点排放单位"), default=True, db_comment="on the key list")
    pack = models.CharField(_("规则包"), max_length=100, blank=True, db_comment="rule pack; blank = default")
    reporting_year = models.PositiveIntegerField(
        _("报告年度"), default=previous_year, db_comment="year reported on (default: the previous year)"
    )

    org_path: ClassVar[str] = ""

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        db_table_comment = "key emission units and other organizations"

    def __str__(self) -> str:
        return self.name

    @property
    def pack_ref(self) -> str:
        """The rule pack this organization is judged by: its own; else the one its industry selects
        (``settings.CARBONMETER_INDUSTRY_PACKS``, a table, so a new industry pack is configuration, not
        code); else the installation's default."""
        if self.pack:
            return self.pack
        by_industry: dict[str, str] = settings.CARBONMETER_INDUSTRY_PACKS
        return by_industry.get(self.industry.strip().lower(), settings.CARBONMETER_DEFAULT_PACK)


class OrgOwned(BaseModel):
    """A row that belongs to one organization directly."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name=_("单位"), db_comment="owning organization"
    )
    org_path: ClassVar[str] = "organization"

    class Meta:
        abstract = True


class Facility(KeepsExtra, OrgOwned):
    """A production facility (4.1), the snapshot's ``facilities`` (contract §6.1).  ``level`` holds the
    contract's values (``enterprise`` / ``key_facility``; migration 0006 renamed the former ``facility``)."""

    code = models.CharField(_("编号"), max_length=50, db_comment="facility id within the organization")
    name = models.CharField(_("设施名称"), max_length=200, db_comment="key production facility")
    level = models.CharField(
        _("边界层级"),
        max_length=20,
        choices=choices("facility_level"),
        default="key_facility",
        db_comment="metering boundary level (4.1): enterprise or key_facility",
    )

    class Meta:
        verbose_name = _("设施")
        verbose_name_plural = _("设施")
        db_table_comment = "metering boundary: enterprise or key production facility (4.1)"
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="facility_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SourceStream(KeepsExtra, OrgOwned):
    code = models.CharField(_("编号"), max_length=50, db_comment="stream id within the organization")
    name = models.CharField(_("名称"), max_length=200, blank=True, db_comment="stream name")
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("设施"),
        db_comment="facility",
    )
    kind = models.CharField(
        _("类型"), max_length=30, choices=choices("stream_kind"), db_comment="stream kind"
    )
    method = models.CharField(_("计量方式"), max_length=20, choices=choices("method"), db_comment="method")
    emission_mode = models.CharField(
        _("排放方式"), max_length=20, choices=choices("emission_mode"), default="organized", db_comment="mode"
    )
    #: Declared emissions; optional (contract §6.1) when ``formula`` is set: the engine computes them.
    annual_emissions_t = models.FloatField(
        _("年排放量(tCO2e)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        db_comment="declared annual emissions, t CO2e; null only with a formula",
    )
    #: An id of the organization's rule pack ``formulas`` table (checked by the forms against that pack,
    #: shown by the formula's title); blank: no formula (v1: the declared emissions are judged).
    formula = models.CharField(
        _("核算公式"),
        max_length=50,
        blank=True,
        db_comment="id of the rule pack's formula (contract 6.2); blank: none",
    )

    class Meta:
        verbose_name = _("碳源流")
        verbose_name_plural = _("碳源流")
        db_table_comment = "source streams (3.8) with annual emissions"
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="stream_code_unique"),
            models.CheckConstraint(
                condition=models.Q(annual_emissions_t__isnull=True) | models.Q(annual_emissions_t__gte=0),
                name="stream_emissions_ge0",
            ),
            models.CheckConstraint(
                condition=models.Q(annual_emissions_t__isnull=False) | ~models.Q(formula=""),
                name="stream_emissions_or_formula",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.annual_emissions_t is None and not self.formula:
            raise ValidationError({"annual_emissions_t": _("未选择核算公式时须填写年排放量")})


class MeasuringPoint(KeepsExtra, OrgOwned):
    code = models.CharField(_("编号"), max_length=50, db_comment="point id within the organization")
    stream = models.ForeignKey(
        SourceStream,
        on_delete=models.PROTECT,
        related_name="points",
        verbose_name=_("碳源流"),
        db_comment="stream",
    )
    name = models.CharField(_("名称"), max_length=200, blank=True, db_comment="what is measured")
    role = models.CharField(_("数据类型"), max_length=20, choices=choices("role"), db_comment="data type")
    parameter = models.CharField(_("参数"), max_length=50, db_comment="parameter, e.g. consumption, ncv")
    determination = models.CharField(
        _("确定方式"), max_length=20, choices=choices("determination"), default="measured", db_comment="how"
    )
    purpose = models.CharField(_("用途"), max_length=50, blank=True, db_comment="Table A.2/A.3 row")
    trade_settlement = models.BooleanField(_("贸易结算"), default=False, db_comment="invoiced quantity")
    operating_value = models.FloatField(
        _("运行值"), null=True, blank=True, db_comment="typical operating value"
    )
    #: Contract §6.1: the annual quantity the point determined, in ``unit`` (any unit pint reads).
    value = models.FloatField(
        _("年度值"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        db_comment="annual quantity determined (total of an amount, weighted mean of a factor), in unit",
    )
    unit = models.CharField(
        pgettext_lazy("unit of measurement", "单位"),
        max_length=30,
        blank=True,
        db_comment='unit of value, e.g. "t", "GJ/t", "MWh"',
    )
    u_rel = models.FloatField(
        _("相对标准不确定度"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("数值来源（化验报告、供应商证书）给出的相对标准不确定度，如 0.01 表示 1%"),
        db_comment="relative standard uncertainty stated by the value's source (0.01 = 1 percent)",
    )
    #: A key of the organization's rule pack ``factors`` table (checked by the forms, shown by its title).
    factor = models.CharField(
        _("缺省值"),
        max_length=100,
        blank=True,
        db_comment="key of the rule pack's factors table (a default value); blank: none",
    )

    class Meta:
        verbose_name = _("计量点")
        verbose_name_plural = _("计量点")
        db_table_comment = "the monitoring plan: quantities determined per stream"
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="point_code_unique"),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | ~models.Q(unit=""), name="point_value_has_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.value is not None and not self.unit.strip():
            raise ValidationError({"unit": _("填写年度值时须填写单位")})


class Instrument(KeepsExtra, OrgOwned):
    #: The history keeps the instrument's points with each entry (django-simple-history's m2m history), so
    #: a change of links alone is an entry with who, when, why, and the old and new points.
    _history_m2m_fields: ClassVar[list[str]] = ["points"]

    code = models.CharField(_("编号"), max_length=50, db_comment="instrument id within the organization")
    name = models.CharField(_("器具名称"), max_length=200, blank=True, db_comment="B.1 name")
    type = models.CharField(_("类型"), max_length=50, blank=True, db_comment="instrument type")
    model = models.CharField(_("型号规格"), max_length=100, blank=True, db_comment="B.1 model")
    serial_no = models.CharField(_("出厂编号"), max_length=100, blank=True, db_comment="B.1 serial number")
    asset_no = models.CharField(_("管理编号"), max_length=100, blank=True, db_comment="B.1 asset number")
    manufacturer = models.CharField(_("生产厂家"), max_length=200, blank=True, db_comment="B.1 manufacturer")
    measuring_range = models.CharField(_("测量范围"), max_length=100, blank=True, db_comment="B.1 range")
    location = models.CharField(_("安装使用地点"), max_length=200, blank=True, db_comment="B.1 location")
    accuracy_class = models.CharField(_("准确度等级"), max_length=20, blank=True, db_comment="class")
    mpe_percent = models.FloatField(_("最大允许误差(%)"), null=True, blank=True, db_comment="relative MPE")
    mpe_abs = models.FloatField(_("最大允许误差(绝对值)"), null=True, blank=True, db_comment="absolute MPE")
    mpe_abs_unit = models.CharField(
        _("绝对误差单位"), max_length=20, blank=True, db_comment="unit of mpe_abs"
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=choices("status"), default="in_use", db_comment="status"
    )
    points = models.ManyToManyField(
        MeasuringPoint, blank=True, related_name="instruments", verbose_name=_("计量点")
    )
    portable = models.BooleanField(_("便携式"), default=False, db_comment="portable, for self-checks")
    smart = models.BooleanField(_("智能化"), default=False, db_comment="smart / digital")
    seal_intact = models.BooleanField(_("铅封完好"), null=True, blank=True, db_comment="seal state")
    ownership = models.CharField(
        _("归属"), max_length=20, choices=choices("ownership"), default="own", db_comment="ownership"
    )
    traceability_basis = models.CharField(_("溯源依据"), max_length=100, blank=True, db_comment="JJG/JJF")
    interval_months = models.PositiveIntegerField(
        _("检定周期(月)"), null=True, blank=True, db_comment="verification interval in months"
    )
    #: 上级计量器具: the main meter this one is a sub-meter of, in the metering network (issue 6.3.1). Kept
    #: with the history like every field; same organization and no cycle (:meth:`clean`).
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_meters",
        verbose_name=_("上级计量器具"),
        db_comment="main meter of the metering network this instrument is a sub-meter of",
    )
    in_service_from = models.DateField(
        _("投用日期"),
        null=True,
        blank=True,
        db_comment="first day in service (period traceability, 6.3.6-6.3.7)",
    )

    class Meta:
        verbose_name = _("碳计量器具")
        verbose_name_plural = _("碳计量器具")
        db_table_comment = "the instrument register (Table B.1)"
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="instrument_code_unique")
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "name"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        """The main meter belongs to the same organization and the network stays a tree (no meter above
        itself); the error names the meters of the cycle."""
        super().clean()
        if self.parent_id is None:
            return
        parent = self.parent
        if parent is None:
            return
        if self.organization_id is not None and parent.organization_id != self.organization_id:
            raise ValidationError({"parent": _("上级计量器具须属于同一单位。")})
        if self.pk is not None and parent.pk == self.pk:
            raise ValidationError({"parent": _("计量器具不能以自身为上级计量器具。")})
        tree: dict[str, str | None] = dict(
            Instrument.objects.filter(organization_id=parent.organization_id)
            .exclude(pk=self.pk)
            .values_list("code", "parent__code")
        )
        tree[self.code] = parent.code
        loop = cycle(tree, self.code)
        if loop is not None:
            raise ValidationError(
                {"parent": _("上级计量器具形成循环：%(cycle)s") % {"cycle": " → ".join(loop)}}
            )


class InstrumentOwned(BaseModel):
    """A row that belongs to an instrument (and through it to an organization)."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, verbose_name=_("器具"), db_comment="the instrument"
    )
    org_path: ClassVar[str] = "instrument__organization"

    class Meta:
        abstract = True


class Component(KeepsExtra, InstrumentOwned):
    type = models.CharField(_("组成类型"), max_length=50, db_comment="sensor, transmitter, totaliser …")
    accuracy_class = models.CharField(_("准确度等级"), max_length=20, blank=True, db_comment="class")
    mpe_percent = models.FloatField(_("最大允许误差(%)"), null=True, blank=True, db_comment="relative MPE")

    class Meta:
        verbose_name = _("器具组成")
        verbose_name_plural = _("器具组成")
        db_table_comment = "components of a measuring system (sensor + secondary instrument)"


class SealEvent(InstrumentOwned):
    date = models.DateField(_("日期"), db_comment="when")
    event = models.CharField(
        _("事件"),
        max_length=20,
        choices=[("applied", _("加封")), ("broken", _("破损")), ("restored", _("恢复"))],
        db_comment="applied, broken or restored",
    )
    seal_no = models.CharField(_("封印编号"), max_length=50, blank=True, db_comment="seal number")
    note = models.TextField(_("说明"), blank=True, db_comment="note")

    class Meta:
        verbose_name = _("铅封事件")
        verbose_name_plural = _("铅封事件")
        db_table_comment = "seal history (6.3.8)"


class Attachment(OrgOwned):
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("器具"),
        db_comment="instrument",
    )
    kind = models.CharField(
        _("类别"),
        max_length=20,
        choices=[
            ("manual", _("说明书")),
            ("certificate", _("证书")),
            ("repair", _("维修记录")),
            ("other", _("其他")),
        ],
        db_comment="archive document kind",
    )
    title = models.CharField(_("名称"), max_length=200, db_comment="title")
    file = models.FileField(
        _("文件"), upload_to="archive/%Y/", validators=[UploadValidator()], db_comment="stored file"
    )

    class Meta:
        verbose_name = _("档案")
        verbose_name_plural = _("档案")
        db_table_comment = "archives of instruments and the organization (6.3.3)"


class Person(KeepsExtra, OrgOwned):
    name = models.CharField(_("姓名"), max_length=100, db_comment="name")
    role = models.CharField(_("岗位"), max_length=100, blank=True, db_comment="post")
    responsible = models.BooleanField(_("碳计量负责人"), default=False, db_comment="answerable (6.2)")

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        db_table_comment = "metering personnel (6.2)"

    def __str__(self) -> str:
        return self.name


class PersonCertificate(KeepsExtra, BaseModel):
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("人员"),
        db_comment="holder",
    )
    name = models.CharField(_("证书名称"), max_length=100, db_comment="certificate")
    valid_until = models.DateField(_("证书有效期至"), null=True, blank=True, db_comment="valid until")
    org_path: ClassVar[str] = "person__organization"

    class Meta:
        verbose_name = _("人员证书")
        verbose_name_plural = _("人员证书")
        db_table_comment = "personnel certificates (持证上岗)"


class ManagementDocument(KeepsExtra, OrgOwned):
    kind = models.CharField(_("类别"), max_length=50, db_comment="kind, as the rule pack names it")
    title = models.CharField(_("名称"), max_length=200, blank=True, db_comment="title")
    approved = models.DateField(_("批准日期"), null=True, blank=True, db_comment="approval date")

    class Meta:
        verbose_name = _("管理制度")
        verbose_name_plural = _("管理制度")
        db_table_comment = "management documents (6.1)"
