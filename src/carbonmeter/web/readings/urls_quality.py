"""URLs of the data-quality pages (计量点数据质量), appended to ``readings/urls.py`` under ``/readings/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from carbonmeter.web.readings import views_quality

urlpatterns: list[URLPattern] = [
    path("readings/quality/", views_quality.index, name="readings_quality"),
    path("readings/quality/<int:pk>/", views_quality.point_quality, name="readings_quality_point"),
]
