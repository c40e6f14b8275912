"""The REST API (django-ninja, OpenAPI 3.1) lives under /api/: endpoints, /api/openapi.json and /api/docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from carbonmeter.web.api import routes_readings
from carbonmeter.web.api.app import api
from carbonmeter.web.api.errors import body_limit, json_not_allowed, not_found

#: Routes whose bodies may exceed Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): path → bytes.
BODY_LIMITS = {"readings/batch": routes_readings.MAX_BODY_BYTES}

# (Not unpacked into module names: a module-level ``app_name`` would namespace this whole urlconf.)
ninja_urls = api.urls
for pattern in ninja_urls[0]:
    if isinstance(pattern, URLPattern):
        pattern.callback = json_not_allowed(pattern.callback)
        limit = BODY_LIMITS.get(str(pattern.pattern))
        if limit is not None:
            pattern.callback = body_limit(pattern.callback, limit)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", ninja_urls),
    # Anything else under /api/ is a JSON 404, like the API's own errors, not the site's HTML page.
    re_path(r"^.*$", not_found),
]
