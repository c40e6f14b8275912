from __future__ import annotations

from django.urls import URLPattern, path

from carbonmeter.web.assessment import views

urlpatterns: list[URLPattern] = [
    path("assessments/", views.assessments, name="assessments"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/emissions/", views.assessment_emissions, name="assessment_emissions"),
    path("assessments/<int:pk>/emissions/<str:stream>/", views.assessment_budget, name="assessment_budget"),
    path("assessments/<int:pk>/document.json", views.assessment_document, name="assessment_document"),
    path("transfer/", views.transfer_page, name="transfer"),
    path("transfer/confirm/", views.transfer_confirm, name="transfer_confirm"),
    path("transfer/export.json", views.export_json, name="transfer_export_json"),
    path("transfer/export.xlsx", views.export_xlsx, name="transfer_export_xlsx"),
]
