"""The NinjaAPI instance: title, version, authentication, error handlers and the routers, served at /api/."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation

from carbonmeter.web.api import (
    errors,
    routes_assessments,
    routes_calibrations,
    routes_instruments,
    routes_organizations,
    routes_plan,
    routes_readings,
)
from carbonmeter.web.api.auth import SessionCsrfAuth, TokenAuth

DESCRIPTION = """\
The carbonmeter registry and its assessments.

Authenticate with `Authorization: Bearer <key>` (a key from `manage.py create_api_token`) or, from the
browser, with the logged-in session (unsafe methods then need the `X-CSRFToken` header). A request acts as
its user: it sees exactly the organizations that user may read, and writes only where that user's role
allows. A row the caller may not read is answered 404, as if it did not exist.
"""


class CarbonmeterAPI(NinjaAPI):
    """NinjaAPI whose operation ids are the view names (``list_instruments``), for readable client code."""

    def get_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__


api = CarbonmeterAPI(
    title="carbonmeter API",
    version="1",
    description=DESCRIPTION,
    auth=[TokenAuth(), SessionCsrfAuth()],
    urls_namespace="api",
)
errors.install(api)
for module in (
    routes_organizations,
    routes_plan,
    routes_instruments,
    routes_calibrations,
    routes_assessments,
    routes_readings,
):
    api.add_router("", module.router)
