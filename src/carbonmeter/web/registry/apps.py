from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "carbonmeter.web.registry"
    label = "registry"
    verbose_name = "碳计量登记 Registry"
