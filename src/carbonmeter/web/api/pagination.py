"""``?limit=&offset=`` with bounds on both, so neither a page nor an offset can be made arbitrarily large."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

#: The largest page a client can ask for; more rows means more requests, not one slow one.
MAX_LIMIT = 200
#: An offset past any realistic register, and far inside what SQL's OFFSET accepts.
MAX_OFFSET = 10**9


class LimitOffset(PaginationBase):
    """A page of ``items`` and the ``count`` of all matching rows."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"rows per page (at most {MAX_LIMIT})")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows to skip")

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        start = pagination.offset
        return {"items": queryset[start : start + pagination.limit], "count": queryset.count()}
