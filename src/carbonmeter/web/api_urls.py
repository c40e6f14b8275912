"""The REST API (django-ninja, OpenAPI 3.1) lives under /api/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
