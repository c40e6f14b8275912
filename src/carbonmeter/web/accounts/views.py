"""Log in (throttled) and out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def _keys(request: HttpRequest) -> list[str]:
    username = request.POST.get("username", "").strip().lower()
    return [f"login-fail:user:{username}", f"login-fail:ip:{request.META.get('REMOTE_ADDR', '')}"]


class ThrottledLoginView(auth_views.LoginView):
    """Django's login, refusing attempts for a while after repeated failures (per name and per address)."""

    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit = settings.LOGIN_THROTTLE["attempts"]
        if any(cache.get(k, 0) >= limit for k in _keys(request)):
            form = self.get_form()
            form.add_error(None, _("登录失败次数过多，请稍后再试。"))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code != 302:
            for k in _keys(request):
                cache.set(k, cache.get(k, 0) + 1, settings.LOGIN_THROTTLE["window_seconds"])
        return response
