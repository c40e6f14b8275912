"""URL map: pages per app, the admin, the REST API."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("carbonmeter.web.accounts.urls")),
    path("", include("carbonmeter.web.registry.urls")),
    path("", include("carbonmeter.web.metrology.urls")),
    path("", include("carbonmeter.web.assessment.urls")),
    path("", include("carbonmeter.web.readings.urls")),
    path("api/", include("carbonmeter.web.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
