"""Staff sessions end after 30 idle minutes: department staff on their portal and vendor staff
on the platform site (residents keep Django's usual session). A department staff member whose
session so ended, and who has no other, loses what they held by it (live view's grants) when
their browser next calls, or at the next sweep if it never does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse

from portal.registry.models import StaffMember
from portal.registry.signals import StaffAccess, staff_access_changed
from tenants.compiled import CompiledQuery
from tenants.sessions import expired_session_user, users_signed_in

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
        if (
            tenant is not None
            and user is not None
            and signed_in
            and (tenant.is_platform or staff_load(user) is not None)
        ):
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
        elif tenant is not None and not tenant.is_platform and user is not None:
            self.idle_session_ended(request)
        return self.get_response(request)

    @staticmethod
    def idle_session_ended(request: HttpRequest) -> None:
        """An anonymous visitor presenting a session cookie that found no session: if that
        session expired (the idle limit) and was a staff member's last, their access ends."""
        cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not cookie or request.session.session_key is not None:
            return
        user_id = expired_session_user(cookie)
        if user_id is None or users_signed_in([user_id]):
            return
        member = StaffMember.objects.filter(user_id=user_id).select_related("user").first()
        if member is not None:
            staff_access_changed.send(sender=StaffMember, member=member, why=StaffAccess.SIGNED_OUT)


# The staff member of one account and whether it has a second factor (any authenticator, as
# allauth's is_mfa_enabled asks), in one statement kept compiled (tenants.compiled): the ORM
# would compile it on every request, for more than the database's answer costs.
_STAFF_COLUMNS = [field.attname for field in StaffMember._meta.concrete_fields]
STAFF_MEMBER = CompiledQuery(
    lambda user_id: (
        StaffMember.objects.filter(user_id=user_id)
        .annotate(
            has_second_factor=Exists(Authenticator.objects.filter(user_id=OuterRef("user_id")))
        )
        .values_list(*_STAFF_COLUMNS, "has_second_factor")
    ),
    user_id=int,
)


def staff_load(user: AbstractBaseUser) -> StaffMember | None:
    """The signed-in user's StaffMember on a city's portal (None for a resident), read with
    whether they set up a second factor (`mfa_enabled`, what allauth's is_mfa_enabled asks) in
    one statement instead of two (in the current schema: the city's), and kept on the user as
    `user.staff`, as Django's own lookup keeps it: every later `user.staff` of the request
    (staff_required, the layout, the log line) reads it from there. Read afresh on every
    request: a role changed or a staff member removed takes effect on their next request."""
    kept = get_user_model().staff.related
    if kept.is_cached(user):  # read already (a support session's, with its access on it)
        return cast(StaffMember | None, kept.get_cached_value(user))
    member = None
    for *columns, has_second_factor in STAFF_MEMBER.rows(user_id=user.pk):
        member = StaffMember.from_db(connection.alias, _STAFF_COLUMNS, columns)
        member.mfa_enabled = bool(has_second_factor)  # type: ignore[attr-defined]
    kept.set_cached_value(user, member)
    if member is not None:
        StaffMember.user.field.set_cached_value(member, user)
    return member
