"""URLs of the metering-data pages, all under ``/readings/``."""

from __future__ import annotations

from django.urls import URLPattern, path
from django.views.generic import RedirectView

from carbonmeter.web.readings import urls_quality, views, views_balance

urlpatterns: list[URLPattern] = [
    path("readings/", RedirectView.as_view(pattern_name="readings_ledger"), name="readings"),
    path("readings/ledger/", views.ledger, name="readings_ledger"),
    path("readings/ledger/daily/", views.daily, name="readings_daily"),
    path("readings/balance/", views_balance.network_balance, name="readings_balance"),
    path("readings/ledger/export.xlsx", views.ledger_xlsx, name="readings_ledger_xlsx"),
    path("readings/upload/", views.upload, name="readings_upload"),
    path("readings/runs/<int:pk>/", views.run_detail, name="readings_run"),
    path("readings/runs/<int:pk>/file/", views.run_file, name="readings_run_file"),
    path("readings/quarantine/", views.quarantine, name="readings_quarantine"),
    path("readings/quarantine/<int:pk>/", views.quarantine_row, name="readings_quarantine_row"),
    path(
        "readings/quarantine/<int:pk>/dismiss/", views.quarantine_dismiss, name="readings_quarantine_dismiss"
    ),
    path("readings/batches/", views.batches, name="readings_batches"),
    path("readings/batches/correct/", views.correct, name="readings_correct"),
    *urls_quality.urlpatterns,  # 计量点数据质量
]
