"""Vendor support sessions on a city's host (console.support): every request of a browser in a
support session checks that session, and a support identity outside a live one is signed out."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from console.support import SESSION_KEY, support_access, support_action_record
from portal.registry.support import SAFE_METHODS, is_support_username
from tenants.http import client_ip

# Where a support identity may go: the console, the support pages, signing out, the language.
SUPPORT_PATHS = ("/department/", "/support/", "/accounts/logout/", "/i18n/")


class SupportSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if tenant is None or tenant.is_platform or user is None or not user.is_authenticated:
            return self.get_response(request)
        session_id = request.session.get(SESSION_KEY)
        support_identity = is_support_username(user.get_username())
        if session_id is None and not support_identity:
            return self.get_response(request)
        access = None
        if isinstance(session_id, int) and support_identity:
            access = support_access(
                session_id=session_id, department=tenant, username=user.get_username()
            )
        if access is None:
            # Ended, expired, or a support account without a session: out, and say why.
            logout(request)
            return render(request, "console/city/support_over.html", status=403)
        # The city's staff_required reads it from the account's StaffMember (cached on the user).
        member = getattr(user, "staff", None)
        if member is None:
            logout(request)
            return render(request, "console/city/support_over.html", status=403)
        member.support_access = access
        if not request.path.startswith(SUPPORT_PATHS):
            # Not the console: no resident pages, no account pages (setting a password, a
            # second factor) for an account that exists only for support sessions.
            return render(
                request,
                "department/support_refused.html",
                {"refusal": _("A support session reaches the department console only.")},
                status=403,
            )
        response = self.get_response(request)
        if (request.method or "GET").upper() not in SAFE_METHODS:
            support_action_record(
                access=access,
                method=request.method or "",
                path=request.path,
                status=response.status_code,
                ip=client_ip(request),
            )
        return response
