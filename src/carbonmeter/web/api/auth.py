"""Who is calling: a Bearer token (scripts, other systems) or the browser's session (with CSRF).

Either way the request then acts as one user, and every query goes through that user's scope, so a token can
do exactly what its user can do on a page, and nothing more.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from carbonmeter.web.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <key>``: the token's user, if the token is live and the user active."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = ApiToken.user_for(token)
        if user is None:
            # A key that was presented and is wrong never falls back to a session cookie: 401, plainly.
            raise AuthenticationError()
        # The history middleware and the scoper both read ``request.user``: make it the token's user.
        request.user = user
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The logged-in browser; unsafe methods must carry Django's CSRF token, as a form post would."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            # Not logged in: the answer is 401 (authenticate), not a CSRF complaint about a session it lacks.
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = request.user
        return user if user.is_authenticated and user.is_active else None


def caller(request: HttpRequest) -> Any:
    """The user the request acts as (set by one of the two authenticators above)."""
    return request.auth  # type: ignore[attr-defined]
