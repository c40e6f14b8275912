"""The project's URLs plus ``/crash/``, a view that fails: the 500 page test (``test_error_pages.py``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from carbonmeter.web.urls import urlpatterns as project


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [*project, path("crash/", crash)]
