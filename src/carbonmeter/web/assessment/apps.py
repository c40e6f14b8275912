from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "carbonmeter.web.assessment"
    label = "assessment"
    verbose_name = _("评价")
