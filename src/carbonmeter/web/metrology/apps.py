from __future__ import annotations

from django.apps import AppConfig


class MetrologyConfig(AppConfig):
    name = "carbonmeter.web.metrology"
    label = "metrology"
