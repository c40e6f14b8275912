from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadingsConfig(AppConfig):
    name = "carbonmeter.web.readings"
    label = "readings"
    verbose_name = _("计量数据")
    default_auto_field = "django.db.models.BigAutoField"
