"""Every error the API gives is JSON ``{"detail": …}``, with the status that says whose problem it is.

ninja already answers 401, 404, 422 (its own validation) and ``HttpError`` this way; this adds the errors
that come from the model layer and the engine, and turns anything unexpected into a JSON 500 that is logged
(with the traceback) instead of Django's HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI

from carbonmeter.io.snapshot_schema import SchemaProblems

log = logging.getLogger(__name__)


def _problems(exc: DjangoValidationError) -> list[dict[str, Any]]:
    """Django's field errors in ninja's 422 shape: ``[{"loc": [...], "msg": ..., "type": ...}]``."""
    if hasattr(exc, "error_dict"):
        return [
            {"loc": ["body", field], "msg": str(msg), "type": "value_error"}
            for field, messages in exc.message_dict.items()
            for msg in messages
        ]
    return [{"loc": ["body"], "msg": str(msg), "type": "value_error"} for msg in exc.messages]


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""

    @api.exception_handler(DjangoValidationError)
    def model_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        # ``full_clean`` on save refused the row (a duplicate code, a rule of the model): the client's data.
        return api.create_response(request, {"detail": _problems(exc)}, status=422)

    @api.exception_handler(SchemaProblems)
    def snapshot_invalid(request: HttpRequest, exc: SchemaProblems) -> HttpResponse:
        # The organization's rows do not make a valid snapshot, so the engine cannot judge them yet.
        detail = [{"loc": ["snapshot", *p.strip("/").split("/")], "msg": r} for p, r in exc.problems]
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(IntegrityError)
    def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Validation passed but a concurrent write took the same unique value first.
        return api.create_response(request, {"detail": "conflicts with an existing row"}, status=409)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Django refused to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's request, not ours.
        return api.create_response(request, {"detail": too_large_detail(_default_limit())}, status=413)

    @api.exception_handler(Exception)
    def internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return api.create_response(request, {"detail": "internal server error"}, status=500)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""
    return JsonResponse({"detail": "Not Found"}, status=404)


def json_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` with ninja's plain-text 405 (a method the path does not offer) answered as JSON."""

    @wraps(view)  # keeps ``csrf_exempt``: ninja checks CSRF itself, for session auth only
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = JsonResponse({"detail": "Method Not Allowed"}, status=405)
        allowed["Allow"] = response["Allow"]
        return allowed

    return wrapper


def _default_limit() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def too_large_detail(limit: int) -> str:
    return f"the request body is over {limit:,} bytes: send less per request"


def body_limit(view: Callable[..., HttpResponse], limit: int) -> Callable[..., HttpResponse]:
    """``view`` accepting request bodies up to ``limit`` bytes — more than Django's global
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` where a route documents more (a readings batch) — and answering a
    larger one 413 with a JSON error, before reading it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH"):
            refused = JsonResponse({"detail": too_large_detail(limit)}, status=413)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return refused
            if limit > _default_limit() and not hasattr(request, "_body"):
                body = request.read(limit + 1)
                if len(body) > limit:
                    return refused
                request._body = body  # what ``request.body`` returns, read here under this route's limit
        return view(request, *args, **kwargs)

    return wrapper
