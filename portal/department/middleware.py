"""Staff sessions end after 30 idle minutes: department staff on their portal and vendor staff
on the platform site (residents keep Django's usual session)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        # Every account on the platform site is vendor staff (nobody signs up there); on a
        # portal, only department staff have a StaffMember.
        if tenant is not None and signed_in and (tenant.is_platform or hasattr(user, "staff")):
            # Every request restarts the idle clock; a session idle for longer has expired and
            # the user arrives here anonymous.
            request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)
