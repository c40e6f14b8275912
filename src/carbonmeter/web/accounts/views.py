"""Log in (throttled) and out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from carbonmeter.web.accounts import throttle


class ThrottledLoginView(auth_views.LoginView):
    """Django's login, refusing attempts for a while after repeated failures (per name and per address,
    counted atomically before the password is checked: ``carbonmeter.web.accounts.throttle``)."""

    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        done = throttle.attempt(request.POST.get("username", ""), request.META.get("REMOTE_ADDR", ""))
        if done.refused:
            form = self.get_form()
            form.add_error(None, _("登录失败次数过多，请稍后再试。"))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302:
            throttle.succeeded(done)
        return response
