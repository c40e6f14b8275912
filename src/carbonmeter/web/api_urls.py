"""The REST API (django-ninja, OpenAPI 3.1) lives under /api/: endpoints, /api/openapi.json and /api/docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from carbonmeter.web.api.app import api
from carbonmeter.web.api.errors import json_not_allowed, not_found

# (Not unpacked into module names: a module-level ``app_name`` would namespace this whole urlconf.)
ninja_urls = api.urls
for pattern in ninja_urls[0]:
    if isinstance(pattern, URLPattern):
        pattern.callback = json_not_allowed(pattern.callback)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", ninja_urls),
    # Anything else under /api/ is a JSON 404, like the API's own errors, not the site's HTML page.
    re_path(r"^.*$", not_found),
]
