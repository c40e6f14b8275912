from __future__ import annotations

from django.urls import URLPattern, path

from carbonmeter.web.metrology import views

urlpatterns: list[URLPattern] = [
    path("calibration/plan/", views.calibration_plan, name="calibration_plan"),
    path("calibration/record/", views.calibration_record, name="calibration_record"),
    path("streams/", views.streams, name="streams"),
]
