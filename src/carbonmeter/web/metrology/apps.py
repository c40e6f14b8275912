from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetrologyConfig(AppConfig):
    name = "carbonmeter.web.metrology"
    label = "metrology"
    verbose_name = _("检定校准与计量管理")
