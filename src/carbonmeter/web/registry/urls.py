"""Registry pages, at the site root (included by ``carbonmeter.web.urls``).

Instrument codes are matched with ``str`` (no ``/``), so paths under ``instruments/<code>/`` that other
apps add (records, readings) are not swallowed by the detail page.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from carbonmeter.web.registry import views

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("instruments/", views.register, name="register"),
    path("instruments/<str:code>/", views.instrument_detail, name="instrument_detail"),
    path("instruments/<str:code>/label/", views.instrument_label, name="instrument_label"),
    path("org/choose/", views.choose_org, name="choose_org"),
    path("org/menu/", views.org_menu, name="org_menu"),
]
