"""Path and query parameters shared by the routes, bounded like the body fields (see ``schemas``).

The ``routes_*`` modules do not use ``from __future__ import annotations``: ninja builds its parameter models
from the view's annotations, and as strings these aliases would not resolve there.
"""

from __future__ import annotations

from typing import Any

from ninja import P, PathEx, QueryEx

from carbonmeter.core.snapshot import Status
from carbonmeter.web.api.schemas import MAX_ID, ErrorOut, Search

#: 401, 404 and 422 can answer any authenticated read; writes add 400 (a body that is not JSON), 403
#: (role), 409 (a concurrent duplicate) and 413 (a body over the route's size limit).
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 413: ErrorOut}

ObjectId = PathEx[int, P(ge=1, le=MAX_ID, description="the row's id")]
OrgFilter = QueryEx[int | None, P(ge=1, le=MAX_ID, description="only rows of this organization (by id)")]
StreamFilter = QueryEx[int | None, P(ge=1, le=MAX_ID, description="only points of this stream (by id)")]
InstrumentFilter = QueryEx[int | None, P(ge=1, le=MAX_ID, description="only this instrument's records")]
StatusFilter = QueryEx[Status | None, P(description="only instruments with this status")]
SearchFilter = QueryEx[Search | None, P(description="text in code, name, model, serial or asset number")]
