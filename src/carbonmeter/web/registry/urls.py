"""Registry pages, at the site root (included by ``carbonmeter.web.urls``).

Instrument codes are matched with ``str`` (no ``/``), so paths under ``instruments/<code>/`` that other
apps add (records, readings) are not swallowed by the detail page.  Uploaded files are served only by
the scoped ``archive/<pk>/`` and ``certificates/<pk>/`` views, never from ``MEDIA_URL``.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from carbonmeter.web.registry import views

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("instruments/", views.register, name="register"),
    path("instruments/<str:code>/", views.instrument_detail, name="instrument_detail"),
    path("instruments/<str:code>/label/", views.instrument_label, name="instrument_label"),
    path("instruments/<str:code>/archive/", views.add_attachment, name="instrument_add_attachment"),
    path("instruments/<str:code>/archive/<int:pk>/", views.attachment_file, name="instrument_attachment"),
    path("instruments/<str:code>/seals/", views.add_seal_event, name="instrument_add_seal"),
    path(
        "instruments/<str:code>/certificates/<int:pk>/",
        views.certificate_file,
        name="instrument_certificate",
    ),
    path("org/choose/", views.choose_org, name="choose_org"),
    path("org/menu/", views.org_menu, name="org_menu"),
]
