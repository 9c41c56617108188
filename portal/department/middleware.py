"""Staff sessions end after 30 idle minutes: department staff on their portal and vendor staff
on the platform site (residents keep Django's usual session)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# When the idle clock was last restarted (seconds since the epoch), kept in the session.
IDLE_CLOCK_KEY = "staff_idle_clock"
# The clock restarts at most this often: restarting it rewrites the session row, which every
# request would otherwise do. A session may so end up to this much before 30 idle minutes.
IDLE_CLOCK_RESOLUTION = 60


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
            # Activity restarts the idle clock (at most once a minute); a session idle for
            # longer has expired and the user arrives here anonymous.
            now = int(time.time())
            session = request.session
            if (
                session.get_expiry_age() != settings.STAFF_IDLE_SECONDS
                or now - session.get(IDLE_CLOCK_KEY, 0) >= IDLE_CLOCK_RESOLUTION
            ):
                session[IDLE_CLOCK_KEY] = now
                session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)
