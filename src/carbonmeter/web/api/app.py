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
    """NinjaAPI whose operation ids are the view names (``list_instruments``), for readable client code.

    django-ninja 1.7 takes the id from ``get_openapi_operation_id`` (module path and name,
    ``carbonmeter_web_api_routes_instruments_list_instruments``), which changes whenever a view moves
    between modules: the id a generated client calls must be the operation's name alone, and stable."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__

    get_operation_id = get_openapi_operation_id  # the name earlier django-ninja versions called


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
